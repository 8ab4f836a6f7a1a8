"""RFM scores, segments and refund standouts (logic.rfm_analysis), and the share of an order's sale and
refund per product category (logic.activity_counters.split_by_category)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from partnerpoints.logic.activity_counters import split_by_category
from partnerpoints.logic.rfm_analysis import (
    SEGMENT_GRID,
    WINDOW_DAYS,
    analyse,
    quintile_scores,
    segment_of,
    window_start,
)
from partnerpoints.models.counters import NO_CATEGORY
from partnerpoints.models.orders import Line, Order
from partnerpoints.models.partner_analytics import Purchase, Segment

values = st.dictionaries(st.text(min_size=1, max_size=4), st.integers(-1000, 1000), min_size=1, max_size=60)


@given(values)
def test_scores_are_one_to_five_rising_with_the_value_and_equal_for_equal_values(
    scored: dict[str, int],
) -> None:
    scores = quintile_scores(scored)
    assert set(scores) == set(scored)
    assert all(1 <= score <= 5 for score in scores.values())
    for one, other in itertools.combinations(scored, 2):
        if scored[one] == scored[other]:
            assert scores[one] == scores[other]
        elif scored[one] < scored[other]:
            assert scores[one] <= scores[other]


@given(st.integers(min_value=5, max_value=200))
def test_distinct_values_fall_in_fifths(count: int) -> None:
    scores = quintile_scores({f"m{number}": number for number in range(count)})
    per_score = [sum(1 for score in scores.values() if score == quintile) for quintile in range(1, 6)]
    assert max(per_score) - min(per_score) <= 1
    assert scores["m0"] == 1
    assert scores[f"m{count - 1}"] == 5


def test_members_who_all_tie_score_in_the_middle() -> None:
    assert quintile_scores({"a": 7}) == {"a": 3}
    assert set(quintile_scores(dict.fromkeys("abcdefg", 0)).values()) == {3}


def test_every_score_has_a_segment_and_the_corners_are_the_named_ones() -> None:
    assert {segment_of(r, f, m) for r, f, m in itertools.product(range(1, 6), repeat=3)} == set(Segment)
    assert segment_of(5, 5, 5) is Segment.CHAMPIONS
    assert segment_of(5, 1, 1) is Segment.NEW
    assert segment_of(1, 1, 1) is Segment.HIBERNATING
    assert segment_of(1, 5, 5) is Segment.CANNOT_LOSE
    assert segment_of(2, 4, 3) is Segment.AT_RISK  # FM = (4 + 3) / 2, rounded up
    assert all(len(row) == 5 for row in SEGMENT_GRID.values())


def at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def purchase(member: str, day: date, amount: int, refunded: int = 0, currency: str = "EUR") -> Purchase:
    return Purchase(member, f"{member}-{day}-{amount}", at(day), currency, amount, refunded)


@pytest.mark.parametrize("as_of", [date(2028, 2, 29), date(2026, 12, 31), date(2027, 1, 31)])
def test_a_partners_buyers_are_scored_per_currency_over_the_trailing_year(as_of: date) -> None:
    first = window_start(as_of)
    assert (as_of - first).days == WINDOW_DAYS - 1
    purchases = [
        *(purchase("champ", as_of - timedelta(days=days), 9000) for days in (0, 10, 20, 30)),
        purchase("lapsed", first, 200),  # the window's first day still counts
        purchase("lapsed", first - timedelta(days=1), 99_999),  # the day before it does not
        purchase("newbie", as_of, 100),
        purchase("midway", as_of - timedelta(days=100), 3000),
        purchase("midway", as_of - timedelta(days=120), 3000),
        purchase("gone", as_of - timedelta(days=200), 500),
        purchase("undone", as_of, 800, refunded=800),  # wholly refunded: bought nothing kept
        purchase("yen", as_of, 5000, currency="JPY"),
    ]
    result = analyse("shop-a", purchases, as_of)
    scores = {(score.member_id, score.currency): score for score in result.scores}

    assert set(scores) == {
        ("champ", "EUR"),
        ("lapsed", "EUR"),
        ("newbie", "EUR"),
        ("midway", "EUR"),
        ("gone", "EUR"),
        ("yen", "JPY"),
    }
    champ, lapsed = scores["champ", "EUR"], scores["lapsed", "EUR"]
    assert (champ.recency_days, champ.orders, champ.net_minor) == (0, 4, 36000)
    assert (lapsed.recency_days, lapsed.orders, lapsed.net_minor) == (WINDOW_DAYS - 1, 1, 200)
    assert champ.segment is Segment.CHAMPIONS
    assert lapsed.segment is Segment.HIBERNATING
    assert scores["yen", "JPY"].r == 3  # alone in its currency: in the middle of everything
    eur, jpy = result.analysis.currencies
    assert (eur.currency, eur.members, eur.net_sales) == ("EUR", 5, "428.00")
    assert (jpy.currency, jpy.members, jpy.net_sales) == ("JPY", 1, "5000")
    assert [figures.segment for figures in eur.segments] == list(Segment)
    assert sum(figures.members for figures in eur.segments) == 5
    assert result.analysis.first_day == first


def test_members_whose_refunds_stand_out_against_the_partners_rate() -> None:
    today = date(2026, 11, 30)
    purchases = [
        *(purchase(f"steady-{number}", today, 10_000) for number in range(8)),
        purchase("steady-0", today, 10_000, refunded=1_000),
        purchase("returner", today, 4_000, refunded=4_000),
        purchase("returner", today, 2_000, refunded=1_000),
        purchase("one-off", today, 5_000, refunded=5_000),  # one order: not a pattern
        purchase("half", today, 1_000, refunded=400),
        purchase("half", today, 1_000, refunded=400),  # 40 %: under one half
    ]
    (standout,) = analyse("shop-a", purchases, today).standing_out
    assert standout.model_dump() == {
        "member_id": "returner",
        "currency": "EUR",
        "orders": 2,
        "refunded_orders": 2,
        "bought": "60.00",
        "refunded": "50.00",
        "refund_rate": "0.8333",
    }


def order_with(lines: list[tuple[str | None, int]]) -> Order:
    return Order.model_validate(
        {
            "partner_id": "shop-a",
            "order_id": "A-1",
            "version": 1,
            "status": "approved",
            "currency": "EUR",
            "amount_minor": sum(amount for _, amount in lines) or 100,
            "refunded_minor": 0,
            "attribution": {"attributed": False},
            "commission_minor": 0,
            "commission_reversed_minor": 0,
            "occurred_at": at(date(2026, 11, 30)),
            "status_at": at(date(2026, 11, 30)),
            "created_at": at(date(2026, 11, 30)),
            "updated_at": at(date(2026, 11, 30)),
            "history": [],
            "items": [
                Line(sku=f"S{n}", amount_minor=amount, category=cat) for n, (cat, amount) in enumerate(lines)
            ],
        }
    )


@given(
    st.lists(st.tuples(st.sampled_from(["toys", "home", None]), st.integers(0, 10_000)), max_size=6),
    st.integers(0, 1_000_000),
)
def test_a_share_per_category_adds_up_to_the_amount_and_follows_the_lines(
    lines: list[tuple[str | None, int]], amount: int
) -> None:
    parts = split_by_category(order_with(lines), amount)
    assert sum(parts.values()) == amount
    weights: dict[str, int] = {}
    for category, line_amount in lines:
        weights[category or NO_CATEGORY] = weights.get(category or NO_CATEGORY, 0) + line_amount
    whole = sum(weights.values())
    if whole == 0:
        assert parts == {NO_CATEGORY: amount}
        return
    assert set(parts) == set(weights)
    for category, weight in weights.items():
        assert abs(parts[category] - amount * weight / whole) < 1
