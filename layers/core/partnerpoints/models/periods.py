"""Statement periods and the calendar arithmetic of expiry, all in UTC: a closed day or a month, a
month later clamped to the month's last day, and which days fall dormant when a day closes."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

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


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


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
    """A closed day ("2026-11-22") or a month ("2026-11"), both inclusive, in UTC."""

    label: str
    first: date
    last: date

    @classmethod
    def day(cls, day: date) -> Period:
        return cls(day.isoformat(), day, day)

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
        return datetime.combine(self.first, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return end_of_day(self.last)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def describe(self) -> dict[str, str]:
        return {"label": self.label, "from": self.first.isoformat(), "to": self.last.isoformat()}
