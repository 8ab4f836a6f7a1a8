"""Periods, month arithmetic for expiry, and an order's state at a period's edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from partnerpoints.models.periods import (
    Moment,
    Period,
    TimeZoneName,
    add_months,
    dormancy_days,
    end_of_day,
    local_day,
    zone_of,
)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 8, 31), 6, date(2025, 2, 28)),
        (date(2024, 2, 29), 24, date(2026, 2, 28)),
        (date(2024, 11, 22), 24, date(2026, 11, 22)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_months_are_added_as_calendars_do(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)), st.integers(1, 120))
def test_every_day_expires_on_exactly_one_later_day(last_activity: date, months: int) -> None:
    """The night that expires a member's points finds the day of their last activity among its
    dormancy days, and no other night does: nothing expires twice or never."""
    expiry_day = add_months(last_activity, months)
    assert last_activity in dormancy_days(expiry_day, months)
    for other in (expiry_day - timedelta(days=1), expiry_day + timedelta(days=1)):
        assert last_activity not in dormancy_days(other, months)


def test_a_period_is_a_day_or_a_month_and_says_what_is_wrong() -> None:
    day = Period.parse("2026-11-22")
    assert (day.first, day.last, day.is_day) == (date(2026, 11, 22), date(2026, 11, 22), True)
    assert (day.start, day.end) == (datetime(2026, 11, 22, tzinfo=UTC), end_of_day(date(2026, 11, 22)))
    month = Period.parse("2026-02")
    assert (month.first, month.last, len(month.days())) == (date(2026, 2, 1), date(2026, 2, 28), 28)
    for bad in ("2026-13", "2026-11-31", "yesterday", "2026-1"):
        with pytest.raises(ValueError, match=r".+"):
            Period.parse(bad)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T01:00:00+20:31",
        "1969-12-31T23:59:59Z",
        "9000-01-01T00:00:00Z",
        "9999-12-31T23:59:59-23:59",
    ],
)
def test_a_moment_outside_the_programs_years_is_refused_not_a_crash(text: str) -> None:
    # Found by the schema fuzz: the first one, before year 1 in UTC, failed a campaign's PUT with a 500.
    with pytest.raises(ValidationError, match="must fall between 1970 and 9000"):
        TypeAdapter(Moment).validate_python(text)


def test_a_moment_keeps_the_zone_it_was_given() -> None:
    moment = TypeAdapter(Moment).validate_python("2026-11-30T10:15:00+01:00")
    assert moment.utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize(
    ("zone", "day", "start_utc", "end_utc"),
    [
        # Berlin leaves summer time on 25 October 2026: that local day is 25 hours long.
        ("Europe/Berlin", date(2026, 10, 25), "2026-10-24T22:00:00", "2026-10-25T22:59:59.999999"),
        # Santiago's clocks went back at midnight on 5 April 2020: 4 April's 23:00-24:00 came twice.
        ("America/Santiago", date(2020, 4, 4), "2020-04-04T03:00:00", "2020-04-05T03:59:59.999999"),
        # Kathmandu is 5 h 45 min ahead; its 31 December ends 2026 before UTC's does.
        ("Asia/Kathmandu", date(2026, 12, 31), "2026-12-30T18:15:00", "2026-12-31T18:14:59.999999"),
        # Honolulu is 10 hours behind: its 29 February 2028 ends on UTC's 1 March.
        ("Pacific/Honolulu", date(2028, 2, 29), "2028-02-29T10:00:00", "2028-03-01T09:59:59.999999"),
    ],
)
def test_a_zoned_day_runs_from_local_midnight_to_local_midnight(
    zone: str, day: date, start_utc: str, end_utc: str
) -> None:
    period = Period.day(day, zone_of(zone))
    assert period.start.astimezone(UTC) == datetime.fromisoformat(start_utc).replace(tzinfo=UTC)
    assert period.end.astimezone(UTC) == datetime.fromisoformat(end_utc).replace(tzinfo=UTC)
    assert period.label == day.isoformat()
    assert local_day(period.start, zone_of(zone)) == local_day(period.end, zone_of(zone)) == day


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_every_moment_falls_in_exactly_its_local_day(moment: datetime) -> None:
    """A moment is inside the zoned day `local_day` names and outside the days beside it, so a counter
    keyed by local day and a period read by local day agree."""
    for name in ("Europe/Berlin", "Asia/Kathmandu", "Pacific/Honolulu", "America/Santiago"):
        zone = zone_of(name)
        day = local_day(moment, zone)
        assert Period.day(day, zone).start <= moment <= Period.day(day, zone).end
        for other in (day - timedelta(days=1), day + timedelta(days=1)):
            assert not Period.day(other, zone).start <= moment <= Period.day(other, zone).end


def test_the_first_and_last_days_there_are_stay_within_reach_in_any_zone() -> None:
    assert Period.day(date.min, zone_of("Asia/Tokyo")).start == datetime(1, 1, 1, tzinfo=UTC)
    assert Period.day(date.max, zone_of("Pacific/Honolulu")).end.astimezone(UTC).year == 9999


def test_time_zones_are_iana_names() -> None:
    zones = TypeAdapter(TimeZoneName)
    assert zones.validate_python("Europe/Berlin") == "Europe/Berlin"
    assert zones.validate_python("UTC") == "UTC"
    for bad in ("Mars/Olympus", "europe/berlin", "../etc/passwd", "+02:00", ""):
        with pytest.raises(ValidationError, match="IANA time zone"):
            zones.validate_python(bad)
