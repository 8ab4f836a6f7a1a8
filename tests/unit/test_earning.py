"""Earning rules as arithmetic: tiers at their boundaries, one floor per order, caps, refunds."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from partnerpoints.logic.earning import check_with_earning_rules, gross_points, target_points
from partnerpoints.models.earning import EarningRules
from partnerpoints.models.order_points import Terms
from partnerpoints.models.orders import Attribution, Line, Order, OrderStatus, Review
from partnerpoints.settings import Requirements

RULES = EarningRules.model_validate(
    {
        "reference_currency": "EUR",
        "currencies": {"EUR": {"points_per_unit": "1", "reference_rate": "1"}},
        "tiers": [
            {"name": "base", "threshold": "0", "multiplier": "1.0"},
            {"name": "silver", "threshold": "1000", "multiplier": "1.25"},
            {"name": "gold", "threshold": "5000", "multiplier": "1.5"},
        ],
    }
)
NOW = datetime(2026, 11, 23, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spend_minor", "tier"),
    [
        (0, "base"),
        (99_999, "base"),
        (100_000, "silver"),
        (499_999, "silver"),
        (500_000, "gold"),
        (10**9, "gold"),
    ],
)
def test_a_tier_starts_exactly_at_its_threshold(spend_minor: int, tier: str) -> None:
    assert RULES.tier_for(spend_minor).name == tier


@pytest.mark.parametrize(
    "tiers",
    [
        [{"name": "base", "threshold": "10", "multiplier": "1"}],
        [
            {"name": "base", "threshold": "0", "multiplier": "1"},
            {"name": "silver", "threshold": "0", "multiplier": "1.2"},
        ],
        [
            {"name": "base", "threshold": "0", "multiplier": "1"},
            {"name": "base", "threshold": "5", "multiplier": "1.2"},
        ],
    ],
)
def test_tiers_must_start_at_zero_and_climb(tiers: list[dict[str, str]]) -> None:
    with pytest.raises(ValidationError):
        EarningRules.model_validate({**RULES.model_dump(mode="json"), "tiers": tiers})


def terms(tier: str = "base", multiplier: str = "1.0", cap: int | None = None) -> Terms:
    return Terms(
        points_percent=Decimal("5"),
        category_points_percent={"electronics": Decimal("2.5")},
        max_points_per_order=cap,
        hold_days=30,
        points_per_unit=Decimal("1"),
        tier=tier,
        multiplier=Decimal(multiplier),
    )


def order(amount: int, refunded: int = 0, items: tuple[Line, ...] = (), **changes: Any) -> Order:
    return Order.model_validate(
        {
            "partner_id": "shop-a",
            "order_id": "A-1",
            "version": 1,
            "status": OrderStatus.REFUNDED if refunded else OrderStatus.APPROVED,
            "currency": "EUR",
            "amount_minor": amount,
            "refunded_minor": refunded,
            "items": list(items),
            "attribution": Attribution(attributed=True, member_id="m-1"),
            "commission_minor": 0,
            "commission_reversed_minor": 0,
            "occurred_at": NOW,
            "status_at": NOW,
            "created_at": NOW,
            "updated_at": NOW,
            "history": [],
            **changes,
        }
    )


def test_items_earn_at_their_category_rate_and_the_rest_at_the_partners_floored_once() -> None:
    # 59.90 electronics at 2.5 % = 1.4975; 25.00 at 5 % = 1.25; per-item floors would give 1 + 1.
    lines = (Line(sku="KB-7", amount_minor=5990, category="electronics"), Line(sku="X", amount_minor=2500))
    assert target_points(order(8490, items=lines), terms()) == 2
    assert gross_points(order(8490, items=lines), terms()) == Decimal("2.7475")


def test_the_tier_multiplies_and_the_cap_limits() -> None:
    assert target_points(order(100_000), terms()) == 50
    assert target_points(order(100_000), terms("silver", "1.25")) == 62  # 62.5 floored
    assert target_points(order(100_000), terms("gold", "1.5", cap=60)) == 60


def test_a_refund_keeps_the_unrefunded_share_floored_and_a_full_refund_keeps_nothing() -> None:
    assert target_points(order(100_000, refunded=33_333), terms()) == 33  # 50 x 66667/100000 = 33.33
    assert target_points(order(100_000, refunded=100_000), terms()) == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"status": OrderStatus.REJECTED},
        {"attribution": Attribution(attributed=False, reason="unknown_click")},
        {"review": Review(reasons=["amount_over_review_threshold"])},
    ],
    ids=["rejected", "unattributed", "in review"],
)
def test_orders_that_do_not_count_hold_nothing(changes: dict[str, Any]) -> None:
    assert target_points(order(100_000, **changes), terms()) == 0


def test_a_function_that_reads_the_rules_must_require_them() -> None:
    with pytest.raises(ValueError, match="lists EARNING_RULES in its requirements"):
        check_with_earning_rules(Requirements(tables=("LedgerEntriesTable",)))
