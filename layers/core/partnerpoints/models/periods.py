"""Statement periods and the calendar arithmetic of expiry, in UTC: a closed day or a month, a month
later clamped to the month's last day, and which days fall dormant when a day closes. A period can
also be read in a partner's own time zone (its reports): the same days, from local midnight to local
midnight."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo, available_timezones

from pydantic import AfterValidator, AwareDatetime, StringConstraints

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def _within_reason(moment: datetime) -> datetime:
    # Found by the schema fuzz: 0001-01-01T01:00+20:31 is a valid timestamp that no arithmetic survives
    # (it is before year 1 in UTC); the program's windows subtract days from such moments.
    try:
        in_utc = moment.astimezone(UTC)
    except OverflowError:
        in_utc = EARLIEST - timedelta(days=1)
    if not EARLIEST <= in_utc < LATEST:
        raise ValueError(f"must fall between {EARLIEST.year} and {LATEST.year} (UTC)")
    return moment


# A moment a caller gives: with a time zone, and in the years the program can do arithmetic on.
Moment = Annotated[AwareDatetime, AfterValidator(_within_reason)]


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_zone(name: str) -> str:
    if name not in _zone_names():
        raise ValueError(f"{name!r} is not an IANA time zone name (such as Europe/Berlin or UTC)")
    return name


# An IANA time zone, by its name in the tz database the program ships (tzdata).
TimeZoneName = Annotated[str, StringConstraints(max_length=64), AfterValidator(_known_zone)]


def zone_of(name: str | None) -> tzinfo:
    """The zone named `name`, or UTC for None."""
    return UTC if name is None or name == "UTC" else ZoneInfo(name)


def local_day(moment: datetime, zone: tzinfo = UTC) -> date:
    """The calendar day `moment` falls on in `zone`."""
    return moment.astimezone(zone).date()


def start_of_day(day: date, zone: tzinfo = UTC) -> datetime:
    """Local midnight of `day` in `zone` (before year 1 in UTC: UTC's midnight, nothing is earlier)."""
    midnight = datetime.combine(day, time.min, tzinfo=zone)
    try:
        midnight.astimezone(UTC)
    except OverflowError:
        return datetime.combine(day, time.min, tzinfo=UTC)
    return midnight


def end_of_day(day: date, zone: tzinfo = UTC) -> datetime:
    """The last microsecond of `day` in `zone` (past year 9999 in UTC: UTC's, nothing later exists).

    Counted back from the next local midnight: where clocks go back at midnight (Santiago), 23:59 comes
    twice and the day ends at the second."""
    if zone is UTC:
        return datetime.combine(day, time.max, tzinfo=UTC)
    try:
        next_midnight = start_of_day(day + timedelta(days=1), zone).astimezone(UTC)
    except OverflowError:
        return datetime.combine(day, time.max, tzinfo=UTC)
    return (next_midnight - timedelta(microseconds=1)).astimezone(zone)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has fewer days (Aug 31 + 6 -> Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def dormancy_days(day: date, months: int) -> list[date]:
    """The days whose last qualifying activity makes points expire when `day` closes: the day `months`
    before and, when `day` ends a shorter month, the later days of that month that clamp onto it
    (Jan 29-31 + 1 month all land on Feb 28)."""
    start = add_months(day, -months)
    candidates = [start + timedelta(days=n) for n in range(4)]
    return [candidate for candidate in candidates if add_months(candidate, months) == day]


@dataclass(frozen=True)
class Period:
    """A closed day ("2026-11-22") or a month ("2026-11"), both inclusive, in UTC unless `zone` says
    otherwise (a partner's report: the same label, its own midnights)."""

    label: str
    first: date
    last: date
    zone: tzinfo = field(default=UTC, compare=False)

    @classmethod
    def day(cls, day: date, zone: tzinfo = UTC) -> Period:
        return cls(day.isoformat(), day, day, zone)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        last = date(year, month, calendar.monthrange(year, month)[1])
        return cls(f"{year:04d}-{month:02d}", date(year, month, 1), last)

    @classmethod
    def parse(cls, label: str) -> Period:
        """From its label; ValueError names what is wrong."""
        if len(label) == 7:
            year, _, month = label.partition("-")
            if not (year.isdigit() and month.isdigit() and 1 <= int(month) <= 12):
                raise ValueError(f"{label!r} is not a month (YYYY-MM)")
            return cls.month(int(year), int(month))
        return cls.day(date.fromisoformat(label))

    @property
    def is_day(self) -> bool:
        return self.first == self.last

    @property
    def start(self) -> datetime:
        return start_of_day(self.first, self.zone)

    @property
    def end(self) -> datetime:
        return end_of_day(self.last, self.zone)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def describe(self) -> dict[str, str]:
        return {"label": self.label, "from": self.first.isoformat(), "to": self.last.isoformat()}
