"""What a statement says, computed from the ledger's entries and the orders' histories alone, so the
same period always gives the same figures: an account's opening and closing, the orders of a
partner as they stood at a period's edges, and the partner's money and click figures.

Rounding is explicit: commission scaled to a restated amount and the rates (conversion, earnings per
click) are rounded half-even; points never are (they are integers already).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from partnerpoints.dal.activity_store import ClickCount, PartnerEntry
from partnerpoints.logic.ledger import fold_entries
from partnerpoints.logic.order_lifecycle import commission_reversed_minor
from partnerpoints.models.currencies import MINOR_UNITS
from partnerpoints.models.ledger import Account, Balance, EntryKind, LedgerEntry
from partnerpoints.models.orders import Order, OrderStatus, from_minor_units
from partnerpoints.models.periods import Period

# What keeps points alive: a member's own earning, redeeming or spending. Releases, voids, clawbacks,
# revocations, refunds of spends, adjustments and expiries happen to a member, not by them.
QUALIFYING_KINDS = frozenset({EntryKind.ACCRUAL_PENDING, EntryKind.PROMO_CREDIT, EntryKind.SPEND})
EXPIRY_NOTICE_DAYS = 30
_COMMISSIONED = frozenset({OrderStatus.APPROVED, OrderStatus.REFUNDED})
_RATE = Decimal("0.0001")


def figures(balance: Balance) -> dict[str, int]:
    return {"available": balance.available, "pending": balance.pending, "lifetime": balance.lifetime_earned}


def entry_row(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "entry_id": entry.entry_id,
        "posted_at": entry.posted_at.isoformat(),
        "occurred_at": entry.occurred_at.isoformat(),
        "account": str(entry.account),
        "kind": str(entry.kind),
        "points": entry.points,
        "reference": entry.reference,
        "description": entry.description,
        "partner_id": entry.partner_id,
        "order_id": entry.order_id,
    }


@dataclass(frozen=True)
class AccountPeriod:
    """One account over a period: its balances at both edges and the entries between them."""

    account: Account
    opening: Balance
    closing: Balance
    earlier: list[LedgerEntry]  # posted before the period
    entries: list[LedgerEntry]  # posted within the period, oldest first
    after: list[LedgerEntry]  # posted after the period (the stored balance already has them)
    entries_sum: Balance  # every entry: what the stored balance must be

    @classmethod
    def of(
        cls, member_id: str, account: Account, every_entry: Iterable[LedgerEntry], period: Period
    ) -> AccountPeriod:
        ordered = sorted(every_entry, key=lambda entry: (entry.posted_at, entry.entry_id))
        before = [entry for entry in ordered if entry.posted_at < period.start]
        during = [entry for entry in ordered if period.start <= entry.posted_at <= period.end]
        after = [entry for entry in ordered if entry.posted_at > period.end]
        return cls(
            account=account,
            opening=fold_entries(member_id, account, before),
            closing=fold_entries(member_id, account, [*before, *during]),
            earlier=before,
            entries=during,
            after=after,
            entries_sum=fold_entries(member_id, account, ordered),
        )

    def moved_on(self, day: date) -> bool:
        return any(entry.posted_at.date() == day for entry in self.entries)

    def reconciles_with(self, stored: Balance) -> bool:
        """Invariant 1: the stored balance is the sum of all the account's entries."""
        return figures(stored) == figures(self.entries_sum)

    def mismatch(self, stored: Balance) -> dict[str, Any]:
        return {
            "member_id": stored.member_id,
            "account": str(self.account),
            "stored": figures(stored),
            "entries_sum": figures(self.entries_sum),
            "statement_closing": figures(self.closing),
            "entries_after_period": len(self.after),
        }

    def section(self) -> dict[str, Any]:
        credits: Counter[str] = Counter()
        debits: Counter[str] = Counter()
        for entry in self.entries:
            if entry.points > 0:
                credits[str(entry.kind)] += entry.points
            else:
                debits[str(entry.kind)] -= entry.points
        return {
            "account": str(self.account),
            "opening": figures(self.opening),
            "credits": dict(sorted(credits.items())),
            "debits": dict(sorted(debits.items())),
            "closing": figures(self.closing),
            "entries": [entry_row(entry) for entry in self.entries],
        }


def pending_by_order(entries: Iterable[LedgerEntry]) -> dict[tuple[str, str], int]:
    """Each order's pending points, from its entries (only orders with some left)."""
    pending: Counter[tuple[str, str]] = Counter()
    for entry in entries:
        if entry.partner_id and entry.order_id:
            pending[(entry.partner_id, entry.order_id)] += fold_entries("", entry.account, [entry]).pending
    return {key: points for key, points in sorted(pending.items()) if points > 0}


@dataclass(frozen=True)
class OrderState:
    status: OrderStatus
    amount_minor: int
    refunded_minor: int
    referred: bool
    reason: str | None = None  # why not referred, when not


def state_at(order: Order, moment: datetime) -> OrderState | None:
    """The order as the program knew it at `moment` (None: not yet reported), its referral included: an
    order the operator approved out of the unattributed queue is referred from that decision on."""
    known = sorted((t for t in order.history if t.at <= moment), key=lambda transition: transition.version)
    if not known:
        return None
    last = known[-1]
    decided = [transition for transition in known if transition.referred is not None]
    if decided:
        referred, reason = bool(decided[-1].referred), decided[-1].reason
    else:  # an order recorded before transitions carried their referral
        referred, reason = order.attribution.referred, order.attribution.reason
    return OrderState(last.status, last.amount_minor, last.refunded_minor, referred, reason)


def _commission_of(order: Order, state: OrderState | None) -> tuple[int, int]:
    """(commission due, commission reversed) for the order in `state`: due once approved, and only for a
    sale the network referred."""
    if state is None or not state.referred or state.status not in _COMMISSIONED:
        return 0, 0
    commission = order.commission_minor
    if state.amount_minor != order.amount_minor and order.amount_minor:
        exact = Decimal(order.commission_minor) * state.amount_minor / order.amount_minor
        commission = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    return commission, commission_reversed_minor(commission, state.amount_minor, state.refunded_minor)


@dataclass(frozen=True)
class OrderInPeriod:
    """What an order did in a period: its state at both edges and the commission that moved."""

    before: OrderState | None
    after: OrderState
    new: bool  # first reported in the period; for a referred sale, also made referred in it
    commission_due: int
    commission_reversed: int

    @property
    def refunded_minor(self) -> int:
        """Refunds of a referred sale reported in the period (what was refunded before it was referred
        is not the network's)."""
        if not self.after.referred:
            return 0
        earlier = self.before.refunded_minor if self.before is not None and self.before.referred else 0
        return self.after.refunded_minor - earlier


def order_in_period(order: Order, period: Period) -> OrderInPeriod | None:
    """The order's part in a period's partner figures (None: the program did not know it by the end)."""
    before, after = state_at(order, period.start - timedelta(microseconds=1)), state_at(order, period.end)
    if after is None:
        return None
    if not after.referred:
        return OrderInPeriod(before, after, before is None, 0, 0)
    due_before, reversed_before = _commission_of(order, before)
    due_after, reversed_after = _commission_of(order, after)
    return OrderInPeriod(
        before=before,
        after=after,
        new=before is None or not before.referred,
        commission_due=max(due_after - due_before, 0),
        commission_reversed=max(reversed_after - reversed_before, 0) + max(due_before - due_after, 0),
    )


def rate(numerator: Decimal, denominator: int) -> str | None:
    if denominator <= 0:
        return None
    return str((numerator / denominator).quantize(_RATE, rounding=ROUND_HALF_EVEN))


@dataclass
class _Unreferred:
    """Orders the network did not refer: kept and listed with their reason, billed to no one."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    by_reason: Counter[str] = field(default_factory=Counter)
    sales: Counter[str] = field(default_factory=Counter)

    def add(self, order: Order, state: OrderState, *, new: bool) -> None:
        reason = state.reason or "not_referred"
        self.by_reason[reason] += 1
        if new:
            self.sales[order.currency] += state.amount_minor
        self.rows.append(
            {
                "order_id": order.order_id,
                "status": str(state.status),
                "new": new,
                "currency": order.currency,
                "amount": from_minor_units(state.amount_minor, order.currency),
                "refunded": from_minor_units(state.refunded_minor, order.currency),
                "reason": reason,
                "commission_due": from_minor_units(0, order.currency),
            }
        )

    def section(self) -> dict[str, Any]:
        return {
            "count": len(self.rows),
            "by_reason": dict(sorted(self.by_reason.items())),
            "sales": [
                {"currency": code, "amount": from_minor_units(minor, code)}
                for code, minor in sorted(self.sales.items())
            ],
            "orders": self.rows,
        }


def _points_at_partner(entries: list[PartnerEntry]) -> dict[str, int]:
    points: Counter[str] = Counter(issued=0, released=0, reversed=0, spent=0, spend_refunded=0)
    for entry in entries:
        if entry.kind is EntryKind.ACCRUAL_PENDING:
            points["issued"] += entry.points
        elif entry.kind is EntryKind.ACCRUAL_RELEASE:
            points["released"] += entry.points
        elif entry.kind in (EntryKind.ACCRUAL_VOID, EntryKind.CLAWBACK):
            points["reversed"] -= entry.points
        elif entry.kind is EntryKind.SPEND:
            points["spent"] -= entry.points
        elif entry.kind is EntryKind.SPEND_REFUND:
            points["spend_refunded"] += entry.points
    return dict(points)


def partner_figures(
    orders: list[Order], clicks: list[ClickCount], entries: list[PartnerEntry], period: Period
) -> dict[str, Any]:
    """A partner's period: clicks per link, orders by status, money by currency, points, rates."""
    links: dict[str, Counter[str]] = {}
    for click in clicks:
        counts = links.setdefault(click.link_id, Counter(total=0, unique=0, bot=0, blocked=0))
        counts["total"] += click.total
        counts["unique"] += click.unique
        counts["bot"] += click.bot
        counts["blocked"] += click.blocked
    click_total: Counter[str] = Counter(total=0, unique=0, bot=0, blocked=0)
    for counts in links.values():
        click_total.update(counts)
    billable = click_total["total"] - click_total["bot"] - click_total["blocked"]

    by_status: Counter[str] = Counter()
    money: dict[str, Counter[str]] = {}
    order_rows = []
    new_orders = 0
    unreferred = _Unreferred()
    for order in sorted(orders, key=lambda order: order.order_id):
        change = order_in_period(order, period)
        if change is None:
            continue
        if not change.after.referred:
            unreferred.add(order, change.after, new=change.new)
            continue
        by_status[str(change.after.status)] += 1
        currency = money.setdefault(
            order.currency, Counter(gross_sales=0, commission_due=0, commission_reversed=0)
        )
        if change.new:
            new_orders += 1
            currency["gross_sales"] += change.after.amount_minor
        currency["commission_due"] += change.commission_due
        currency["commission_reversed"] += change.commission_reversed
        order_rows.append(
            {
                "order_id": order.order_id,
                "status": str(change.after.status),
                "new": change.new,
                "currency": order.currency,
                "amount": from_minor_units(change.after.amount_minor, order.currency),
                "refunded": from_minor_units(change.after.refunded_minor, order.currency),
                "commission_due": from_minor_units(change.commission_due, order.currency),
                "earns_points": order.attribution.earns_points,
            }
        )
    money_rows = []
    for code, sums in sorted(money.items()):
        net = sums["commission_due"] - sums["commission_reversed"]
        money_rows.append(
            {
                "currency": code,
                "gross_sales": from_minor_units(sums["gross_sales"], code),
                "commission_due": from_minor_units(sums["commission_due"], code),
                "commission_reversed": from_minor_units(sums["commission_reversed"], code),
                "commission_net": from_minor_units(net, code),
                "earnings_per_click": rate(Decimal(net) / 10 ** MINOR_UNITS[code], billable),
            }
        )
    return {
        "clicks": {
            "links": [{"link_id": link_id, **dict(counts)} for link_id, counts in sorted(links.items())],
            "total": dict(click_total),
            "billable": billable,
        },
        "orders": {"by_status": dict(sorted(by_status.items())), "new": new_orders, "orders": order_rows},
        "money": money_rows,
        "unreferred": unreferred.section(),
        "points": _points_at_partner(entries),
        "conversion_rate": rate(Decimal(new_orders), click_total["unique"]),
    }
