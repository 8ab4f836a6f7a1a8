"""A partner's statement list: newest first, a month before its last day, paged by cursor; found by
one listing of the partner's index, never a walk over periods. The summary's periods and amounts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from partnerpoints.exceptions import InvalidCursor, InvalidField, StatementNotFound
from partnerpoints.logic.nightly_statements import PARTNER_INDEX
from partnerpoints.logic.partner_figures import spans
from partnerpoints.logic.partner_reports import PartnerReports
from partnerpoints.models.orders import from_minor_units
from partnerpoints.models.partner_reports import DayRange, Granularity, StatementFormat


class Bucket:
    def __init__(self, keys: list[str]) -> None:
        self.objects = set(keys)
        self.listings = 0

    def keys(self, prefix: str) -> list[str]:
        self.listings += 1
        return sorted(key for key in self.objects if key.startswith(prefix))

    def exists(self, key: str) -> bool:
        return key in self.objects

    def presigned_get(self, key: str, seconds: int) -> str:
        return f"https://storage.example/{key}?expires={seconds}"


class Partners:
    def get_partner(self, partner_id: str) -> Any:
        return partner_id


def reports(*labels: str, partner: str = "shop-a") -> tuple[PartnerReports, Bucket]:
    bucket = Bucket(
        [f"{PARTNER_INDEX}{partner}/{label}" for label in labels] + [f"{PARTNER_INDEX}other/2024-01"]
    )
    clock = lambda: datetime(2024, 3, 1, tzinfo=UTC)  # noqa: E731
    return PartnerReports(bucket, Partners(), orders=None, counters=None, clock=clock), bucket  # type: ignore[arg-type]


def test_newest_first_with_a_month_before_its_last_day() -> None:
    listed, bucket = reports("2024-02-28", "2024-02", "2024-02-29", "2023-12-31", "2023-12", "2024-01-15")
    periods = [entry.period for entry in listed.statements("shop-a", 10, None).statements]
    assert periods == ["2024-02", "2024-02-29", "2024-02-28", "2024-01-15", "2023-12", "2023-12-31"]
    assert bucket.listings == 1


def test_pages_follow_the_cursor_to_the_end() -> None:
    listed, _ = reports(*[f"2024-01-{day:02d}" for day in range(1, 32)], "2024-01")
    seen: list[str] = []
    cursor = None
    while True:
        page = listed.statements("shop-a", 7, cursor)
        seen += [entry.period for entry in page.statements]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen[0] == "2024-01"
    assert seen[1] == "2024-01-31"
    assert seen[-1] == "2024-01-01"
    assert len(seen) == len(set(seen)) == 32
    with pytest.raises(InvalidCursor):
        listed.statements("shop-a", 7, "2023-12-31")


def test_a_link_only_for_a_statement_the_partner_has() -> None:
    listed, _ = reports("2024-02-29")
    link = listed.statement_link("shop-a", "2024-02-29", StatementFormat.CSV)
    assert link.url.startswith("https://storage.example/statements/2024-02-29/partners/shop-a.csv")
    assert link.expires_at == datetime(2024, 3, 1, 0, 5, tzinfo=UTC)
    with pytest.raises(StatementNotFound):
        listed.statement_link("other", "2024-02-29", StatementFormat.JSON)


def test_periods_of_a_range_are_cut_at_its_edges_through_29_february_and_31_december() -> None:
    weeks = spans(date(2028, 2, 24), date(2028, 3, 2), Granularity.WEEK)  # Thursday to Thursday
    assert weeks == [(date(2028, 2, 24), date(2028, 2, 27)), (date(2028, 2, 28), date(2028, 3, 2))]
    months = spans(date(2027, 12, 31), date(2028, 2, 29), Granularity.MONTH)
    assert months == [
        (date(2027, 12, 31), date(2027, 12, 31)),
        (date(2028, 1, 1), date(2028, 1, 31)),
        (date(2028, 2, 1), date(2028, 2, 29)),
    ]
    assert len(spans(date(2028, 2, 28), date(2028, 3, 1), Granularity.DAY)) == 3


def test_a_negative_amount_keeps_its_cents() -> None:
    assert from_minor_units(-50, "EUR") == "-0.50"
    assert from_minor_units(-1234, "EUR") == "-12.34"
    assert from_minor_units(-7, "JPY") == "-7"


def test_a_range_ending_on_the_first_day_there_is_starts_there() -> None:
    today = date(2028, 2, 29)
    assert DayRange.of(None, date(1, 1, 1), today) == DayRange(date(1, 1, 1), date(1, 1, 1))
    assert DayRange.of(None, date(1, 1, 20), today) == DayRange(date(1, 1, 1), date(1, 1, 20))
    assert DayRange.of(None, None, today) == DayRange(date(2028, 1, 31), today)
    with pytest.raises(InvalidField):
        DayRange.of(date(1, 1, 1), None, today)  # longer than 400 days


def test_the_periods_of_the_last_days_there_are_end_there() -> None:
    december = spans(date(9999, 12, 1), date.max, Granularity.MONTH)
    assert december == [(date(9999, 12, 1), date.max)]
    assert spans(date(9999, 12, 30), date.max, Granularity.WEEK) == [(date(9999, 12, 30), date.max)]
    assert spans(date.max, date.max, Granularity.DAY) == [(date.max, date.max)]
