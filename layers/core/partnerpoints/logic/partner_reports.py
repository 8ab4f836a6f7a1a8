"""A partner's own numbers, as the partner (its API key) or an operator (IAM) reads them.

Orders: the latest transactions, from the Orders table's partner_orders index (by last change).

Summary, links and sub ids: the partner's activity counters (logic.activity_counters), one Query of
its day items, link days or sub id days for the whole range: a year is at most 366 items to read.

Statements: the nightly run writes each partner's statement for a day or a month it had activity in,
and an index object beside it, so that a partner's statements are one listing, not a walk over every
period."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cache

from partnerpoints.dal.counter_store import CounterStore
from partnerpoints.dal.order_store import OrderStore
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.dal.statement_files import LINK_LIFETIME, StatementBucket
from partnerpoints.exceptions import InvalidCursor, InvalidField, LinkNotFound, StatementNotFound
from partnerpoints.logic.nightly_statements import PARTNER_INDEX, partner_index_key, partner_statement_key
from partnerpoints.logic.order_exports import EXPORT_MAX_ORDERS, EXPORT_PAGE, orders_csv
from partnerpoints.logic.partner_figures import (
    ReportDays,
    click_figures,
    figures_of,
    spans,
    total,
    totals_by_key,
)
from partnerpoints.models.counters import OTHER
from partnerpoints.models.orders import OrderStatus
from partnerpoints.models.partner_reports import (
    Granularity,
    LinkFigures,
    LinkSubIds,
    OrdersExport,
    PartnerLinks,
    PartnerOrder,
    PartnerOrdersPage,
    PartnerStatementEntry,
    PartnerStatementList,
    PartnerSummary,
    PeriodFigures,
    ReportTimeZone,
    StatementFormat,
    StatementLink,
    SubIdField,
    SubIdValueFigures,
)
from partnerpoints.models.periods import Period
from partnerpoints.settings import Settings


def _entry(period: Period) -> PartnerStatementEntry:
    return PartnerStatementEntry(
        period=period.label,
        kind="day" if period.is_day else "month",
        first_day=period.first,
        last_day=period.last,
        formats=list(StatementFormat),
    )


class PartnerReports:
    def __init__(
        self,
        bucket: StatementBucket,
        partners: PartnerStore,
        orders: OrderStore,
        counters: CounterStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._bucket = bucket
        self._partners = partners
        self._orders = orders
        self._counters = counters
        self._clock = clock

    def statements(self, partner_id: str, limit: int, cursor: str | None) -> PartnerStatementList:
        """Newest first, a month before the statement of its last day; `cursor` is the last period seen."""
        self._partners.get_partner(partner_id)  # PartnerNotFound, for an operator's typo
        index = f"{PARTNER_INDEX}{partner_id}/"
        periods = []
        for key in self._bucket.keys(index):
            try:
                periods.append(Period.parse(key[len(index) :]))
            except ValueError:
                continue  # not an index object of ours
        periods.sort(key=lambda period: (period.last, not period.is_day), reverse=True)
        labels = [period.label for period in periods]
        start = 0
        if cursor is not None:
            if cursor not in labels:
                raise InvalidCursor("the cursor is not a statement period of this partner")
            start = labels.index(cursor) + 1
        page = periods[start : start + limit]
        more = start + limit < len(periods)
        return PartnerStatementList(
            partner_id=partner_id,
            statements=[_entry(period) for period in page],
            next_cursor=page[-1].label if more and page else None,
        )

    def statement_link(self, partner_id: str, label: str, statement_format: StatementFormat) -> StatementLink:
        period = Period.parse(label)
        if not self._bucket.exists(partner_index_key(partner_id, period)):
            self._partners.get_partner(partner_id)
            raise StatementNotFound(f"no statement of partner {partner_id} for {label}")
        key = partner_statement_key(partner_id, period, statement_format.value)
        return StatementLink(
            partner_id=partner_id,
            period=period.label,
            format=statement_format,
            url=self._bucket.presigned_get(key, int(LINK_LIFETIME.total_seconds())),
            expires_at=self._clock() + LINK_LIFETIME,
        )

    def orders(
        self,
        partner_id: str,
        *,
        first: date | None,
        last: date | None,
        status: OrderStatus | None,
        limit: int,
        cursor: str | None,
        time_zone: ReportTimeZone = ReportTimeZone.UTC,
    ) -> PartnerOrdersPage:
        """The latest transactions: orders last changed in the range (default: the last 30 days)."""
        report = self._days(partner_id, first, last, time_zone)
        orders, next_cursor = self._orders.partner_orders(partner_id, report.days, status, limit, cursor)
        return PartnerOrdersPage(
            partner_id=partner_id, **report.describe(), orders=orders, next_cursor=next_cursor
        )

    def export_orders(
        self,
        partner_id: str,
        *,
        first: date | None,
        last: date | None,
        status: OrderStatus | None,
        time_zone: ReportTimeZone = ReportTimeZone.UTC,
    ) -> OrdersExport:
        """Every order of the range as CSV, the latest change first; more than EXPORT_MAX_ORDERS is
        refused, naming `query.from` (a shorter range)."""
        days = self._days(partner_id, first, last, time_zone).days
        orders: list[PartnerOrder] = []
        cursor: str | None = None
        while True:
            page, cursor = self._orders.partner_orders(partner_id, days, status, EXPORT_PAGE, cursor)
            orders += page
            if len(orders) > EXPORT_MAX_ORDERS:
                raise InvalidField(
                    f"an export is at most {EXPORT_MAX_ORDERS} orders",
                    [{"path": "query.from", "message": f"{days.first}..{days.last} holds more: start later"}],
                )
            if cursor is None:
                break
        return OrdersExport(partner_id, days.first, days.last, len(orders), orders_csv(orders))

    def _days(
        self, partner_id: str, first: date | None, last: date | None, time_zone: ReportTimeZone
    ) -> ReportDays:
        """The report's days (PartnerNotFound for an operator's typo)."""
        return ReportDays.of(
            lambda: self._partners.get_partner(partner_id), first, last, time_zone, self._clock()
        )

    def summary(
        self,
        partner_id: str,
        *,
        first: date | None,
        last: date | None,
        granularity: Granularity,
        time_zone: ReportTimeZone = ReportTimeZone.UTC,
    ) -> PartnerSummary:
        report = self._days(partner_id, first, last, time_zone)
        days = report.days
        by_day = {
            date.fromisoformat(row.key): Counter(row.counters)
            for row in self._counters.days(partner_id, days.first, days.last, report.zone)
        }
        periods = []
        for start, end in spans(days.first, days.last, granularity):
            summed = total(counters for day, counters in by_day.items() if start <= day <= end)
            periods.append(PeriodFigures(first_day=start, last_day=end, **dict(figures_of(summed))))
        return PartnerSummary(
            partner_id=partner_id,
            **report.describe(),
            granularity=granularity,
            periods=periods,
            totals=figures_of(total(by_day.values())),
        )

    def links(
        self,
        partner_id: str,
        *,
        first: date | None,
        last: date | None,
        time_zone: ReportTimeZone = ReportTimeZone.UTC,
    ) -> PartnerLinks:
        report = self._days(partner_id, first, last, time_zone)
        by_link = totals_by_key(
            self._counters.links(partner_id, report.days.first, report.days.last, report.zone)
        )
        ranked = sorted(by_link.items(), key=lambda item: (-item[1]["clicks.total"], item[0]))
        return PartnerLinks(
            partner_id=partner_id,
            **report.describe(),
            links=[
                LinkFigures(link_id=link_id, **dict(figures_of(counters))) for link_id, counters in ranked
            ],
        )

    def sub_ids(
        self,
        partner_id: str,
        link_id: str,
        field: SubIdField,
        *,
        first: date | None,
        last: date | None,
        time_zone: ReportTimeZone = ReportTimeZone.UTC,
    ) -> LinkSubIds:
        report = self._days(partner_id, first, last, time_zone)
        if self._partners.get_link(link_id).partner_id != partner_id:
            raise LinkNotFound(f"partner {partner_id} has no link {link_id}")  # never another's
        by_value = totals_by_key(
            self._counters.sub_ids(
                partner_id, link_id, field.value, report.days.first, report.days.last, zone=report.zone
            )
        )
        ranked = sorted(by_value.items(), key=lambda item: (-item[1]["clicks.total"], item[0]))
        return LinkSubIds(
            partner_id=partner_id,
            link_id=link_id,
            field=field,
            **report.describe(),
            values=[
                SubIdValueFigures(value=value, other=value == OTHER, clicks=click_figures(counters))
                for value, counters in ranked
            ],
        )


@cache
def get_partner_reports() -> PartnerReports:
    # Its own read of the environment: the bucket is this function's setting alone.
    settings = Settings.from_environment()
    return PartnerReports(
        StatementBucket(settings), PartnerStore(settings), OrderStore(settings), CounterStore(settings)
    )
