"""The order state machine without storage: whatever order deliveries arrive in, and however often,
an order ends where the in-order sequence takes it, each change accepted once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partnerpoints.exceptions import OrderConflict
from partnerpoints.logic import order_lifecycle
from partnerpoints.logic.order_lifecycle import Verdict
from partnerpoints.models.orders import ClickFacts, Line, Order, OrderChange, OrderStatus, StampPrecision
from partnerpoints.models.partners import Partner

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PARTNER = Partner(
    partner_id="shop-a",
    name="Shop A",
    currency="EUR",
    allowed_domains=["shop-a.example"],
    points_percent=Decimal(5),
    commission_percent=Decimal(8),
    category_commission_percent={"electronics": Decimal(4)},
    created_at=START,
    updated_at=START,
)
ATTRIBUTED = order_lifecycle.attribute(
    PARTNER,
    "01KAPXV0Z8RANDM0000000000A",
    ClickFacts("01KAPXV0Z8RANDM0000000000A", "shop-a", "home", "m-1", False, START - timedelta(hours=1)),
    START,
    StampPrecision.SECOND,
    tolerance=timedelta(minutes=5),
)


def change(status: OrderStatus, amount: int, refunded: int = 0, n: int = 0) -> OrderChange:
    return OrderChange(
        partner_id="shop-a",
        order_id="A-1",
        click_id=None,
        status=status,
        currency="EUR",
        amount_minor=amount,
        refunded_minor=refunded,
        occurred_at=START + timedelta(minutes=n),
        items=(),
        delivery_id=f"d{n}",
        received_at=START + timedelta(minutes=n),
        body_sha256="",
        signed=True,
    )


def deliver(order: Order | None, delivery: OrderChange) -> tuple[Order | None, Verdict]:
    verdict = order_lifecycle.decide(order, delivery)
    if verdict is Verdict.CREATE:
        return order_lifecycle.create(PARTNER, delivery, ATTRIBUTED, []), verdict
    if verdict is Verdict.CHANGE:
        assert order is not None
        return order_lifecycle.apply(PARTNER, order, delivery), verdict
    return order, verdict


@st.composite
def lifecycles(draw: st.DrawFn) -> list[OrderChange]:
    """One order's deliveries as its platform sends them, in order."""
    pending = draw(st.integers(1, 10**6))
    if draw(st.booleans()):
        return [change(OrderStatus.PENDING, pending), change(OrderStatus.REJECTED, pending, n=1)]
    approved = draw(st.integers(1, 10**6))
    refunds = sorted(draw(st.sets(st.integers(1, approved), max_size=3)))
    steps = [change(OrderStatus.PENDING, pending), change(OrderStatus.APPROVED, approved, n=1)]
    steps += [change(OrderStatus.REFUNDED, approved, r, n=2 + i) for i, r in enumerate(refunds)]
    return steps


@settings(max_examples=300, deadline=None)
@given(data=st.data(), steps=lifecycles())
def test_any_arrival_order_with_repeats_ends_where_the_in_order_sequence_does(
    data: st.DataObject, steps: list[OrderChange]
) -> None:
    in_order: Order | None = None
    for step in steps:
        in_order, _ = deliver(in_order, step)
    assert in_order is not None

    arrivals = data.draw(st.permutations(steps + data.draw(st.lists(st.sampled_from(steps), max_size=6))))
    order: Order | None = None
    accepted = 0
    for arrival in arrivals:
        order, verdict = deliver(order, arrival)
        accepted += verdict is not Verdict.DUPLICATE
    assert order is not None
    final = (order.status, order.amount_minor, order.refunded_minor)
    assert final == (in_order.status, in_order.amount_minor, in_order.refunded_minor)
    assert order.version == accepted == len(order.history)
    assert accepted <= len(steps)  # each change taken at most once


@pytest.mark.parametrize(
    ("first", "then", "code"),
    [
        (change(OrderStatus.APPROVED, 100), change(OrderStatus.REJECTED, 100), "impossible_transition"),
        (change(OrderStatus.REJECTED, 100), change(OrderStatus.APPROVED, 100), "impossible_transition"),
        (change(OrderStatus.REJECTED, 100), change(OrderStatus.REFUNDED, 100, 100), "impossible_transition"),
        (change(OrderStatus.PENDING, 100), change(OrderStatus.PENDING, 101), "amounts_differ"),
        (change(OrderStatus.APPROVED, 100), change(OrderStatus.APPROVED, 99), "amounts_differ"),
        (change(OrderStatus.APPROVED, 100), change(OrderStatus.REFUNDED, 90, 10), "amounts_differ"),
        (change(OrderStatus.REJECTED, 100), change(OrderStatus.REJECTED, 50), "amounts_differ"),
    ],
)
def test_what_the_machine_refuses(first: OrderChange, then: OrderChange, code: str) -> None:
    order, _ = deliver(None, first)
    with pytest.raises(OrderConflict) as refused:
        order_lifecycle.decide(order, then)
    assert refused.value.code == code


def test_another_click_id_or_currency_is_a_conflict() -> None:
    order, _ = deliver(None, change(OrderStatus.PENDING, 100))
    with pytest.raises(OrderConflict, match="click_id"):
        order_lifecycle.decide(
            order, replace(change(OrderStatus.APPROVED, 100), click_id="01KAPXV0Z8RANDM0000000000B")
        )
    with pytest.raises(OrderConflict, match="in EUR"):
        order_lifecycle.decide(order, replace(change(OrderStatus.APPROVED, 100), currency="USD"))


def test_commission_is_per_category_and_rounded_half_even_once() -> None:
    items = (Line(sku="A", amount_minor=1250, category="electronics"), Line(sku="B", amount_minor=1250))
    # 4% of 12.50 = 0.50, 8% of 12.50 = 1.00, the rest (5.00) at 8% = 0.40.
    assert order_lifecycle.commission_minor(PARTNER, 3000, items) == 190
    assert order_lifecycle.commission_minor(PARTNER, 1, ()) == 0  # 0.08 of a cent
    assert order_lifecycle.commission_minor(PARTNER, 25, ()) == 2  # 2.0 exactly
    assert order_lifecycle.commission_reversed_minor(5, 10, 5) == 2  # 2.5 -> 2, half-even
    assert order_lifecycle.commission_reversed_minor(0, 0, 0) == 0
