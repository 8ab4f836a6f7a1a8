"""A partner's figures from its activity counters (logic.activity_counters): clicks, orders, money per
currency and points, with the rates a partner board shows, for any span of days. Rates are rounded
half-even to four places, as in the statements; a rate over nothing is null."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from partnerpoints.dal.counter_store import CounterRow
from partnerpoints.logic.statements import rate
from partnerpoints.models.currencies import MINOR_UNITS
from partnerpoints.models.orders import OrderStatus, from_minor_units
from partnerpoints.models.partner_reports import (
    ClickFigures,
    DayRange,
    Figures,
    Granularity,
    MoneyFigures,
    OrderFigures,
    PointFigures,
    ReportTimeZone,
)
from partnerpoints.models.partners import Partner
from partnerpoints.models.periods import add_months, local_day, zone_of

_STATUSES = [str(status) for status in OrderStatus]


@dataclass(frozen=True)
class ReportDays:
    """The days a report covers, and whose days they are: UTC's, or the partner's zone (`zone`)."""

    days: DayRange
    zone: str | None
    since: datetime | None

    @classmethod
    def of(
        cls,
        partner_of: Callable[[], Partner],
        first: date | None,
        last: date | None,
        time_zone: ReportTimeZone,
        now: datetime,
    ) -> ReportDays:
        """The range asked for in the zone asked for (the partner's, where it has one); today is today
        there. InvalidField names a wrong `from` or `to`, before the partner is read (`partner_of`)."""
        DayRange.of(first, last, local_day(now))  # a wrong range is wrong in any zone
        partner = partner_of()
        zone = partner.time_zone if time_zone is ReportTimeZone.PARTNER else None
        local = zone_of(zone)
        days = DayRange.of(first, last, local_day(now, local), local)
        return cls(days, zone, partner.time_zone_since if zone is not None else None)

    def describe(self) -> dict[str, Any]:
        """The answer's first_day, last_day, time_zone and time_zone_since (models.ZonedRange)."""
        return {
            "first_day": self.days.first,
            "last_day": self.days.last,
            "time_zone": self.zone or "UTC",
            "time_zone_since": self.since,
        }


def click_figures(counters: Counter[str]) -> ClickFigures:
    total, bot, blocked = counters["clicks.total"], counters["clicks.bot"], counters["clicks.blocked"]
    return ClickFigures(
        total=total,
        unique=counters["clicks.unique"],
        bot=bot,
        blocked=blocked,
        billable=total - bot - blocked,
    )


def _money(counters: Counter[str], currency: str, billable: int) -> MoneyFigures:
    def amount(name: str) -> int:
        return counters[f"{name}.{currency}"]

    sales, refunded, orders = amount("sales"), amount("refunded"), amount("orders_new")
    net = amount("commission_due") - amount("commission_reversed")
    units = Decimal(10) ** MINOR_UNITS[currency]
    return MoneyFigures(
        currency=currency,
        new_orders=orders,
        gross_sales=from_minor_units(sales, currency),
        refunded=from_minor_units(refunded, currency),
        commission_due=from_minor_units(amount("commission_due"), currency),
        commission_reversed=from_minor_units(amount("commission_reversed"), currency),
        commission_net=from_minor_units(net, currency),
        average_order_value=rate(Decimal(sales) / units, orders),
        refund_rate=rate(Decimal(refunded), sales),
        earnings_per_click=rate(Decimal(net) / units, billable),
    )


def currencies_of(counters: Counter[str], *kinds: str) -> list[str]:
    """The currencies that counters named "<kind>.<currency>" hold, for any of `kinds`."""
    return sorted(
        {name.partition(".")[2] for name in counters if name.partition(".")[0] in kinds} & set(MINOR_UNITS)
    )


def totals_by_key(rows: Iterable[CounterRow]) -> dict[str, Counter[str]]:
    """Counter rows keyed "<day>#<what>" summed per <what> (a link, a sub id value, a category)."""
    totals: dict[str, Counter[str]] = {}
    for row in rows:
        totals.setdefault(row.key.partition("#")[2], Counter()).update(row.counters)
    return totals


def figures_of(counters: Counter[str]) -> Figures:
    clicks = click_figures(counters)
    currencies = currencies_of(counters, "sales", "commission_due")
    return Figures(
        clicks=clicks,
        orders=OrderFigures(
            new=counters["orders.new"],
            changed=counters["orders.changed"],
            refunds=counters["orders.refunds"],
            by_status={
                status: counters[f"orders.{status}"] for status in _STATUSES if counters[f"orders.{status}"]
            },
            unreferred=counters["unreferred.orders"],
        ),
        money=[_money(counters, currency, clicks.billable) for currency in currencies],
        points=PointFigures(
            issued=counters["points.issued"],
            released=counters["points.released"],
            reversed=counters["points.reversed"],
            spent=counters["points.spent"],
            spend_refunded=counters["points.spend_refunded"],
        ),
        conversion_rate=rate(Decimal(counters["orders.new"]), clicks.unique),
    )


def total(rows: Iterable[Counter[str] | dict[str, int]]) -> Counter[str]:
    summed: Counter[str] = Counter()
    for row in rows:
        summed.update(row)
    return summed


def _period_end(start: date, granularity: Granularity) -> date:
    """The last day of the period `start` is in (past the last day there is: that day)."""
    try:
        if granularity is Granularity.DAY:
            return start
        if granularity is Granularity.WEEK:
            return start + timedelta(days=6 - start.weekday())
        return add_months(start.replace(day=1), 1) - timedelta(days=1)
    except (OverflowError, ValueError):  # December 9999
        return date.max


def spans(first: date, last: date, granularity: Granularity) -> list[tuple[date, date]]:
    """The periods of a range, oldest first: days, ISO weeks or calendar months, cut at its edges."""
    periods = []
    start = first
    while True:
        end = min(_period_end(start, granularity), last)
        periods.append((start, end))
        if end >= last:
            return periods
        start = end + timedelta(days=1)
