"""Which webhook events a change of the tables makes: a new version of an order (the Orders stream) or
a new ledger entry (the LedgerEntries stream). Pure: the same change always makes the same events,
with the same ids, so a redelivered or re-ordered stream record never makes a second event.

An event's id is a digest of the fact it reports (an order's creation, the version that changed its
status, an entry's id): `msg_` and 32 hex digits, the `webhook-id` of every delivery of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from partnerpoints.dal.webhook_event_store import WebhookEventStore
from partnerpoints.models.ledger import EntryKind, LedgerEntry
from partnerpoints.models.orders import Order, from_minor_units
from partnerpoints.models.partner_reports import partner_view
from partnerpoints.models.webhooks import EventType, WebhookEvent
from partnerpoints.settings import get_settings

# What a ledger entry tells the program's apps (members' points and promo codes). Spends, their
# refunds and operators' adjustments answer a request of the app itself: no event.
ENTRY_EVENTS: dict[EntryKind, EventType] = {
    EntryKind.ACCRUAL_PENDING: EventType.POINTS_PENDING,
    EntryKind.ACCRUAL_RELEASE: EventType.POINTS_AVAILABLE,
    EntryKind.ACCRUAL_VOID: EventType.POINTS_REVERSED,
    EntryKind.CLAWBACK: EventType.POINTS_REVERSED,
    EntryKind.EXPIRY: EventType.POINTS_EXPIRED,
    EntryKind.PROMO_CREDIT: EventType.PROMO_REDEEMED,
    EntryKind.PROMO_REVOKE: EventType.PROMO_REVOKED,
}


def event_id(fact: str) -> str:
    return "msg_" + hashlib.sha256(fact.encode()).hexdigest()[:32]


def _in_review(order: Order) -> bool:
    return order.review is not None and order.review.decision is None


def order_events(old: Order | None, new: Order) -> list[WebhookEvent]:
    """The events of one change of an order: `old` is the version before (None for a new order). A
    record that does not move the order forward (the same or an older version) makes none."""
    if old is not None and new.version <= old.version:
        return []
    key = f"{new.partner_id}|{new.order_id}"
    order = partner_view(new).model_dump(mode="json")

    def event(kind: EventType, fact: str, at: datetime, **details: Any) -> WebhookEvent:
        return WebhookEvent(
            event_id=event_id(f"{kind}|{key}{fact}"),
            type=kind,
            timestamp=at,
            partner_id=new.partner_id,
            data={"partner_id": new.partner_id, **details, **order},
        )

    events: list[WebhookEvent] = []
    if old is None:
        events.append(event(EventType.ORDER_CREATED, "", new.occurred_at))
    elif old.status is not new.status or old.refunded_minor != new.refunded_minor:
        refund = Decimal(from_minor_units(new.refunded_minor, new.currency)) - Decimal(
            from_minor_units(old.refunded_minor, old.currency)
        )
        events.append(
            event(
                EventType.ORDER_STATUS_CHANGED,
                f"|v{new.version}",
                new.status_at,
                **{"from": str(old.status), "to": str(new.status), "refund_delta": str(refund)},
            )
        )
    if _in_review(new) and (old is None or not _in_review(old)):
        reasons = list(new.review.reasons) if new.review else []
        events.append(
            event(EventType.ORDER_REVIEW_REQUIRED, f"|v{new.version}", new.updated_at, reasons=reasons)
        )
    return events


def entry_events(entry: LedgerEntry) -> list[WebhookEvent]:
    """The event a new ledger entry makes, if its kind makes one (for the program's apps only)."""
    kind = ENTRY_EVENTS.get(entry.kind)
    if kind is None:
        return []
    data = entry.model_dump(
        mode="json",
        include={
            "entry_id",
            "member_id",
            "account",
            "kind",
            "points",
            "reference",
            "description",
            "partner_id",
            "order_id",
            "occurred_at",
        },
    )
    return [
        WebhookEvent(
            event_id=event_id(f"{kind}|{entry.entry_id}"),
            type=kind,
            timestamp=entry.occurred_at,
            partner_id=entry.partner_id,
            member_id=entry.member_id,
            data=data,
        )
    ]


def statement_ready(
    owner: str, owner_id: str, period_label: str, formats: list[str], at: datetime
) -> WebhookEvent:
    """A member's or a partner's statement of a day or a month, written (once per statement: a re-run
    that rewrites it tells nothing new). A partner's goes to its endpoints too."""
    kind = "month" if len(period_label) == len("2026-11") else "day"
    return WebhookEvent(
        event_id=event_id(f"statement.ready|{owner}|{owner_id}|{period_label}"),
        type=EventType.STATEMENT_READY,
        timestamp=at,
        partner_id=owner_id if owner == "partner" else None,
        member_id=owner_id if owner == "member" else None,
        data={
            f"{owner}_id": owner_id,
            "statement": owner,
            "period": period_label,
            "kind": kind,
            "formats": formats,
        },
    )


def tier_changed(member_id: str, tier: str, previous: str, day: date, at: datetime) -> WebhookEvent:
    """A member's tier moved on `day` (told by that day's run only: a month's covers the same change)."""
    return WebhookEvent(
        event_id=event_id(f"tier.changed|{member_id}|{day.isoformat()}"),
        type=EventType.TIER_CHANGED,
        timestamp=at,
        member_id=member_id,
        data={"member_id": member_id, "tier": tier, "previous": previous, "day": day.isoformat()},
    )


class WebhookEventRecorder:
    """Records the events of stream records, each once (the store's put is conditional on the id)."""

    def __init__(
        self, store: WebhookEventStore, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._store = store
        self._clock = clock

    def record(self, events: list[WebhookEvent]) -> int:
        """How many of `events` were new."""
        now = self._clock()
        return sum(self._store.record(event, now) for event in events)


@cache
def get_webhook_event_recorder() -> WebhookEventRecorder:
    return WebhookEventRecorder(WebhookEventStore(get_settings()))
