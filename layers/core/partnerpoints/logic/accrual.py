"""Orders become points: each order version brings the order's points to what that version earns, and
matured pending points are released to available.

State-based rather than event-based: a stream record carries the order's whole new version, so the
postings are the difference between what that version earns and what the order holds. A redelivered
record, or an older one arriving after a newer (a retried batch), finds its version already applied and
changes nothing; the points item's revision makes concurrent writers take turns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache

from partnerpoints.dal.order_points_store import OrderPointsStore
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.dal.transactions import MAX_ATTEMPTS
from partnerpoints.exceptions import ConflictingEntry, LedgerBusy
from partnerpoints.logic.earning import (
    approved_at,
    entry_id,
    get_earning_rules,
    order_postings,
    spend_reference_minor,
    terms_for,
)
from partnerpoints.models.earning import EarningRules, Tier
from partnerpoints.models.ledger import Account, EntryKind, Posting
from partnerpoints.models.order_points import OrderPoints, ReleaseReport, Terms
from partnerpoints.models.orders import Order, OrderStatus
from partnerpoints.observability import logger
from partnerpoints.settings import get_settings

TIER_WINDOW = timedelta(days=365)
# The nightly release looks this many days back, so nights it missed are caught up; a longer outage
# is caught up by hand (`partnerpoints admin release --lookback-days N`).
DEFAULT_LOOKBACK_DAYS = 35
MAX_LOOKBACK_DAYS = 800


class AccrualOutcome(StrEnum):
    POSTED = "posted"  # postings written with the new version
    RECORDED = "recorded"  # the new version changed no points (e.g. approved at the pending amount)
    ALREADY_APPLIED = "already_applied"  # this version or a newer one was applied before
    NOT_ATTRIBUTED = "not_attributed"  # no member: nothing to earn until the operator attributes it


@dataclass(frozen=True)
class AccrualResult:
    outcome: AccrualOutcome
    postings: tuple[Posting, ...] = ()


class Accrual:
    def __init__(
        self,
        store: OrderPointsStore,
        partners: PartnerStore,
        rules: EarningRules,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._partners = partners
        self._rules = rules
        self._clock = clock

    def accrue(self, order: Order) -> AccrualResult:
        member_id = order.attribution.member_id
        if member_id is None:
            return AccrualResult(AccrualOutcome.NOT_ATTRIBUTED)
        for _ in range(MAX_ATTEMPTS):
            current = self._store.get(order.partner_id, order.order_id)
            if current is not None and current.applied_version >= order.version:
                return AccrualResult(AccrualOutcome.ALREADY_APPLIED)
            if current is not None and current.member_id != member_id:
                raise ConflictingEntry(
                    f"order {order.partner_id}/{order.order_id} earned for {current.member_id}, "
                    f"not {member_id}"
                )
            terms = current.terms if current is not None else self._terms(order, member_id)
            postings = order_postings(order, current, member_id, terms)
            updated = self._next(order, current, member_id, terms, postings)
            if self._store.record(updated, postings, current.revision if current else None):
                logger.info(
                    "order points recorded",
                    partner_id=order.partner_id,
                    order_id=order.order_id,
                    version=order.version,
                    member_id=member_id,
                    pending=updated.pending,
                    released=updated.released,
                    postings=[posting.entry_id for posting in postings],
                )
                outcome = AccrualOutcome.POSTED if postings else AccrualOutcome.RECORDED
                return AccrualResult(outcome, tuple(postings))
        raise LedgerBusy(f"order {order.partner_id}/{order.order_id} kept changing; retry later")

    def tier_at(self, member_id: str, moment: datetime, exclude: str = "") -> Tier:
        """The member's tier by approved spend in the 365 days before `moment`."""
        spend = self._store.spend_between(member_id, moment - TIER_WINDOW, moment, exclude)
        return self._rules.tier_for(spend)

    def _terms(self, order: Order, member_id: str) -> Terms:
        partner = self._partners.get_partner(order.partner_id)
        tier = self.tier_at(member_id, order.occurred_at, exclude=f"{order.partner_id}/{order.order_id}")
        return terms_for(partner, self._rules, tier)

    def _next(
        self,
        order: Order,
        current: OrderPoints | None,
        member_id: str,
        terms: Terms,
        postings: list[Posting],
    ) -> OrderPoints:
        now = self._clock()
        pending = current.pending if current else 0
        released = current.released if current else 0
        clawed_back = current.clawed_back if current else 0
        for posting in postings:
            if posting.kind is EntryKind.CLAWBACK:
                released += posting.points
                clawed_back -= posting.points
            else:
                pending += posting.points
        spend = spend_reference_minor(order, self._rules)
        approval = approved_at(order) if order.counts and order.status is not OrderStatus.REJECTED else None
        release_at = approval + timedelta(days=terms.hold_days) if approval and pending > 0 else None
        return OrderPoints(
            partner_id=order.partner_id,
            order_id=order.order_id,
            member_id=member_id,
            currency=order.currency,
            terms=terms,
            applied_version=order.version,
            revision=(current.revision + 1) if current else 1,
            status=str(order.status),
            pending=pending,
            released=released,
            clawed_back=clawed_back,
            approved_at=approval if spend > 0 else None,
            spend_reference_minor=spend,
            release_at=release_at,
            # A hold that ended already is indexed under today, which the next release run reads.
            release_day=max(release_at, now).date() if release_at else None,
            updated_at=now,
        )

    def release_matured(self, as_of: datetime, lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> ReleaseReport:
        """Move the pending points of approved orders whose hold ended by `as_of` to available. Reads the
        releases_due index one day at a time, from `lookback_days` before as_of's day to that day."""
        if not 0 <= lookback_days <= MAX_LOOKBACK_DAYS:
            raise ValueError(f"lookback_days must be between 0 and {MAX_LOOKBACK_DAYS}")
        released_orders = released_points = skipped = 0
        first_day = as_of.date() - timedelta(days=lookback_days)
        for offset in range(lookback_days + 1):
            for partner_id, order_id in self._store.due_on(first_day + timedelta(days=offset), as_of):
                points = self._release(partner_id, order_id, as_of)
                released_orders += points > 0
                released_points += points
                skipped += points == 0
        report = ReleaseReport(
            as_of=as_of,
            days_queried=lookback_days + 1,
            orders_released=released_orders,
            points_released=released_points,
            orders_skipped=skipped,
        )
        logger.info(
            "matured points released",
            as_of=as_of.isoformat(),
            orders=released_orders,
            points=released_points,
            skipped=skipped,
        )
        return report

    def _release(self, partner_id: str, order_id: str, as_of: datetime) -> int:
        for _ in range(MAX_ATTEMPTS):
            current = self._store.get(partner_id, order_id)
            if (
                current is None
                or current.release_at is None
                or current.release_at > as_of
                or current.pending <= 0
            ):
                return 0
            posting = Posting(
                entry_id=entry_id(current, current.applied_version, EntryKind.ACCRUAL_RELEASE),
                member_id=current.member_id,
                account=Account.MAIN,
                kind=EntryKind.ACCRUAL_RELEASE,
                points=current.pending,
                reference=f"order {partner_id}/{order_id} v{current.applied_version}",
                description=f"hold of {current.terms.hold_days} days ended: points available",
                partner_id=partner_id,
                order_id=order_id,
                tier=current.terms.tier,
                occurred_at=current.release_at,
            )
            updated = current.model_copy(
                update={
                    "pending": 0,
                    "released": current.released + current.pending,
                    "release_day": None,
                    "revision": current.revision + 1,
                    "updated_at": self._clock(),
                }
            )
            if self._store.record(updated, [posting], current.revision):
                return current.pending
        raise LedgerBusy(f"order {partner_id}/{order_id} kept changing during its release; retry later")


@cache
def get_accrual() -> Accrual:
    settings = get_settings()
    return Accrual(OrderPointsStore(settings), PartnerStore(settings), get_earning_rules())
