"""Webhook events from the tables' changes: the same change always makes the same events (ids
included), so however stream records are redelivered or re-ordered, each fact is one event."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from partnerpoints.logic.webhook_events import (
    ENTRY_EVENTS,
    entry_events,
    order_events,
    statement_ready,
    tier_changed,
)
from partnerpoints.models.ledger import Account, EntryKind, LedgerEntry
from partnerpoints.models.orders import Order, OrderChange, OrderStatus, Review
from partnerpoints.models.webhooks import EventType
from tests.unit.test_order_lifecycle import change, deliver, lifecycles

STEPS = [
    change(OrderStatus.PENDING, 8490),
    change(OrderStatus.APPROVED, 8490, n=1),
    change(OrderStatus.REFUNDED, 8490, 2500, n=2),
]


def versions(steps: list[OrderChange]) -> list[Order]:
    """The order's versions as the Orders table holds them, one per accepted delivery."""
    stored: list[Order] = []
    order: Order | None = None
    for step in steps:
        order, _ = deliver(order, step)
        if order is not None and (not stored or order.version > stored[-1].version):
            stored.append(order)
    return stored


def records(stored: list[Order]) -> list[tuple[Order | None, Order]]:
    """The stream's records: (old image, new image) for each version."""
    return [(stored[index - 1] if index else None, order) for index, order in enumerate(stored)]


def test_a_partial_refund_says_from_to_and_how_much() -> None:
    stored = versions(STEPS)
    (refund,) = order_events(stored[1], stored[2])
    assert refund.type is EventType.ORDER_STATUS_CHANGED
    assert (refund.data["from"], refund.data["to"], refund.data["refund_delta"]) == (
        "approved",
        "refunded",
        "25.00",
    )
    assert (refund.data["amount"], refund.data["refunded_amount"], refund.data["version"]) == (
        "84.90",
        "25.00",
        3,
    )


@settings(max_examples=200, deadline=None)
@given(data=st.data(), steps=lifecycles())
def test_redelivered_and_reordered_records_make_each_event_once(
    data: st.DataObject, steps: list[OrderChange]
) -> None:
    in_order = records(versions(steps))
    expected = {event.event_id: event for old, new in in_order for event in order_events(old, new)}
    delivered = data.draw(
        st.lists(st.sampled_from(in_order), min_size=len(in_order)).map(lambda extra: in_order + extra)
    )
    shuffled = data.draw(st.permutations(delivered))
    recorded: dict[str, object] = {}
    for old, new in shuffled:  # what a conditional put per event id keeps
        for event in order_events(old, new):
            recorded.setdefault(event.event_id, event)
    assert recorded == expected

    kinds = [event.type for event in expected.values()]
    assert kinds.count(EventType.ORDER_CREATED) == 1
    final = in_order[-1][1]
    changes = [event for event in expected.values() if event.type is EventType.ORDER_STATUS_CHANGED]
    assert len(changes) == len(in_order) - 1  # every later version changed the status or the refund
    refunded = sum(Decimal(event.data["refund_delta"]) for event in changes)
    assert refunded == Decimal(final.refunded_minor) / 100
    for event in expected.values():
        assert event.for_partner()
        assert event.member_id is None  # a partner's events never name the member
        assert "member_id" not in event.data


def test_an_older_or_repeated_version_makes_no_event() -> None:
    stored = versions(STEPS)
    assert len(stored) == 3
    for order in stored:
        assert order_events(order, order) == []
    assert order_events(stored[2], stored[1]) == []  # an older version after a newer one


def test_an_order_entering_review_says_so_once() -> None:
    (first,) = versions(STEPS[:1])
    held = first.model_copy(update={"review": Review(reasons=["amount_over_review_threshold"])})
    events = order_events(None, held)
    assert [event.type for event in events] == [EventType.ORDER_CREATED, EventType.ORDER_REVIEW_REQUIRED]
    assert events[1].data["reasons"] == ["amount_over_review_threshold"]
    decided = held.model_copy(
        update={
            "version": held.version + 1,
            "review": Review(reasons=["amount_over_review_threshold"], decision="approve"),
        }
    )
    assert order_events(held, decided) == []  # a decision is no status change of the partner's


def entry(kind: EntryKind, points: int) -> LedgerEntry:
    moment = datetime(2028, 2, 29, 23, 59, tzinfo=UTC)
    return LedgerEntry(
        entry_id=f"{kind}-1",
        member_id="alice",
        account=Account.MAIN,
        kind=kind,
        points=points,
        reference="order shop-a/A-1 v2",
        partner_id="shop-a",
        order_id="A-1",
        occurred_at=moment,
        posted_at=moment,
    )


def test_ledger_entries_tell_the_programs_apps_about_points_and_promo_codes() -> None:
    for kind in EntryKind:
        events = entry_events(entry(kind, 5))
        if kind not in ENTRY_EVENTS:
            assert events == []  # spends, their refunds and adjustments answer the app's own request
            continue
        (event,) = events
        assert event.type is ENTRY_EVENTS[kind]
        assert event == entry_events(entry(kind, 5))[0]  # the same entry, the same event and id
        assert (event.member_id, event.data["points"], event.data["entry_id"]) == ("alice", 5, f"{kind}-1")
        assert not event.for_partner()  # a member's points are never a partner's event
    assert (
        entry_events(entry(EntryKind.ACCRUAL_VOID, -5))[0].event_id
        != entry_events(entry(EntryKind.CLAWBACK, -5))[0].event_id
    )


def test_the_nightly_runs_events_say_whose_statement_and_which_tier() -> None:
    at = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    partner = statement_ready("partner", "shop-a", "2026-12", ["json", "csv"], at)
    member = statement_ready("member", "alice", "2026-12-31", ["json", "csv", "html"], at)
    assert (partner.data["kind"], partner.partner_id, partner.for_partner()) == ("month", "shop-a", True)
    assert (member.data["kind"], member.member_id, member.for_partner()) == ("day", "alice", False)
    assert partner == statement_ready(
        "partner", "shop-a", "2026-12", ["json", "csv"], at
    )  # once per statement
    assert (
        partner.event_id != statement_ready("partner", "shop-a", "2026-12-31", ["json", "csv"], at).event_id
    )
    moved = tier_changed("alice", "silver", "base", at.date(), at)
    assert moved.data == {"member_id": "alice", "tier": "silver", "previous": "base", "day": "2026-12-31"}
    assert not moved.for_partner()
