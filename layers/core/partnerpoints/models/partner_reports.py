"""What a partner reads of its own numbers (the /partner routes, and the operator's mirror of them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from partnerpoints.exceptions import InvalidField
from partnerpoints.models.orders import Attribution, Order, OrderStatus, Review, from_minor_units
from partnerpoints.models.partners import PartnerId
from partnerpoints.models.periods import Period, end_of_day, start_of_day


def _period_label(label: str) -> str:
    Period.parse(label)  # ValueError names what is wrong
    return label


# A day (2026-11-22) or a month (2026-11).
PeriodLabel = Annotated[
    str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$"), AfterValidator(_period_label)
]


class StatementFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


class PartnerStatementEntry(BaseModel):
    period: str
    kind: Literal["day", "month"]
    first_day: date
    last_day: date
    formats: list[StatementFormat]


class PartnerStatementList(BaseModel):
    partner_id: PartnerId
    statements: list[PartnerStatementEntry] = Field(description="newest first")
    next_cursor: str | None = Field(default=None, description="pass as `cursor` for the next page")


class StatementLink(BaseModel):
    partner_id: PartnerId
    period: str
    format: StatementFormat
    url: str = Field(description="reads the statement directly from storage until expires_at")
    expires_at: datetime


MAX_RANGE_DAYS = 400
DEFAULT_RANGE_DAYS = 30


@dataclass(frozen=True)
class DayRange:
    """Whole days, both inclusive, in UTC or the zone given; at most MAX_RANGE_DAYS."""

    first: date
    last: date
    zone: tzinfo = field(default=UTC, compare=False)

    @classmethod
    def of(cls, first: date | None, last: date | None, today: date, zone: tzinfo = UTC) -> DayRange:
        """The range asked for, defaulting to the DEFAULT_RANGE_DAYS up to today (the day in `zone`);
        InvalidField names the parameter that is wrong."""
        last = last or today
        if first is None:  # the default span, cut at the first day there is (`to=0001-01-01`)
            span = timedelta(days=DEFAULT_RANGE_DAYS - 1)
            first = last - span if last - date.min >= span else date.min
        if first > last:
            raise InvalidField(
                "the range starts after it ends",
                [{"path": "query.from", "message": f"{first} is after {last}"}],
            )
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise InvalidField(
                f"a range is at most {MAX_RANGE_DAYS} days",
                [{"path": "query.from", "message": f"{first}..{last} is {(last - first).days + 1} days"}],
            )
        return cls(first, last, zone)

    @property
    def start(self) -> datetime:
        return start_of_day(self.first, self.zone)

    @property
    def end(self) -> datetime:
        return end_of_day(self.last, self.zone)


class ZonedRange(BaseModel):
    """The days an answer covers and the zone they are days of."""

    first_day: date
    last_day: date
    time_zone: str = Field(default="UTC", description="UTC, or the partner's IANA time zone")
    time_zone_since: datetime | None = Field(
        default=None,
        description="in the partner's zone: when it was set; its local days before then are incomplete",
    )


class PartnerOrder(BaseModel):
    """An order as its partner sees it: amounts, commission, why it is or is not the network's sale and
    whether it waits for review. Never the member it earned points for."""

    order_id: str
    status: OrderStatus
    version: int
    currency: str
    amount: str
    refunded_amount: str
    commission: str
    commission_reversed: str
    referred: bool = Field(description="the network brought the sale: commission is due")
    earns_points: bool
    reason: str | None = Field(default=None, description="why it is not referred or earns no points")
    link_id: str | None = None
    in_review: bool = Field(description="held for the operator's decision")
    occurred_at: datetime
    status_at: datetime
    updated_at: datetime


def partner_order(
    *,
    order_id: str,
    status: OrderStatus,
    version: int,
    currency: str,
    amounts_minor: tuple[int, int, int, int],
    attribution: Attribution,
    review: Review | None,
    occurred_at: datetime,
    status_at: datetime,
    updated_at: datetime,
) -> PartnerOrder:
    """The partner's view of an order, from the fields it is made of (`amounts_minor`: amount,
    refunded, commission, commission reversed): what the partner orders index holds, or an Order."""
    amount, refunded, commission, reversed_ = (from_minor_units(value, currency) for value in amounts_minor)
    return PartnerOrder(
        order_id=order_id,
        status=status,
        version=version,
        currency=currency,
        amount=amount,
        refunded_amount=refunded,
        commission=commission,
        commission_reversed=reversed_,
        referred=attribution.referred,
        earns_points=attribution.earns_points,
        reason=attribution.reason,
        link_id=attribution.link_id,
        in_review=review is not None and review.decision is None,
        occurred_at=occurred_at,
        status_at=status_at,
        updated_at=updated_at,
    )


def partner_view(order: Order) -> PartnerOrder:
    return partner_order(
        order_id=order.order_id,
        status=order.status,
        version=order.version,
        currency=order.currency,
        amounts_minor=(
            order.amount_minor,
            order.refunded_minor,
            order.commission_minor,
            order.commission_reversed_minor,
        ),
        attribution=order.attribution,
        review=order.review,
        occurred_at=order.occurred_at,
        status_at=order.status_at,
        updated_at=order.updated_at,
    )


@dataclass(frozen=True)
class OrdersExport:
    partner_id: str
    first_day: date
    last_day: date
    rows: int
    csv: str

    @property
    def filename(self) -> str:
        return f"orders-{self.partner_id}-{self.first_day}-{self.last_day}.csv"


class PartnerOrdersPage(ZonedRange):
    partner_id: PartnerId
    orders: list[PartnerOrder] = Field(description="orders changed in the range, the latest change first")
    next_cursor: str | None = None


class ReportTimeZone(StrEnum):
    """Whose days a report counts: UTC's, or the partner's own (UTC's where it has no zone)."""

    UTC = "utc"
    PARTNER = "partner"


class Granularity(StrEnum):
    DAY = "day"
    WEEK = "week"  # ISO weeks, Monday to Sunday, cut at the range's edges
    MONTH = "month"  # calendar months, cut at the range's edges


class SubIdField(StrEnum):
    SUB1 = "sub1"
    SUB2 = "sub2"
    SUB3 = "sub3"
    SUB4 = "sub4"
    SUB5 = "sub5"


class ClickFigures(BaseModel):
    total: int = Field(description="every request, repeats within a click's 60-second window included")
    unique: int = Field(description="clicks stored once, neither bot nor blocked")
    bot: int
    blocked: int = Field(description="refused for their referrer")
    billable: int = Field(description="total less bot and blocked")


class OrderFigures(BaseModel):
    new: int = Field(description="referred sales first reported (or made referred) in the period")
    changed: int = Field(description="referred orders with any change in the period")
    refunds: int = Field(description="referred orders that became refunded in the period")
    by_status: dict[str, int] = Field(description="status of the referred orders that changed, at the end")
    unreferred: int = Field(description="orders the network did not refer that changed in the period")


class MoneyFigures(BaseModel):
    """One currency's figures; amounts are decimal strings in the currency's units."""

    currency: str
    new_orders: int
    gross_sales: str
    refunded: str
    commission_due: str
    commission_reversed: str
    commission_net: str
    average_order_value: str | None = Field(description="gross sales / new orders")
    refund_rate: str | None = Field(description="refunded / gross sales")
    earnings_per_click: str | None = Field(description="net commission / billable clicks")


class PointFigures(BaseModel):
    issued: int
    released: int
    reversed: int
    spent: int
    spend_refunded: int


class Figures(BaseModel):
    clicks: ClickFigures
    orders: OrderFigures
    money: list[MoneyFigures]
    points: PointFigures
    conversion_rate: str | None = Field(description="new referred orders / unique clicks")


class PeriodFigures(Figures):
    first_day: date
    last_day: date


class PartnerSummary(ZonedRange):
    partner_id: PartnerId
    granularity: Granularity
    periods: list[PeriodFigures] = Field(description="oldest first; periods without activity included")
    totals: Figures


class LinkFigures(Figures):
    link_id: str


class PartnerLinks(ZonedRange):
    partner_id: PartnerId
    links: list[LinkFigures] = Field(description="links with activity in the range, most clicks first")


class SubIdValueFigures(BaseModel):
    value: str
    other: bool = Field(description="the values past a day's first 50, counted together")
    clicks: ClickFigures


class LinkSubIds(ZonedRange):
    partner_id: PartnerId
    link_id: str
    field: SubIdField
    values: list[SubIdValueFigures] = Field(description="most clicks first")
