"""PartnerReportingFunction: a partner's own numbers. The /partner routes are called with the
partner's API key (PartnerKeyAuthorizer names the partner; a key never names another); the operator
reads any partner's through the IAM-authorized /admin/partners/{partner_id}/... mirror of each."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from partnerpoints.exceptions import (
    AnalysisNotFound,
    ApiKeyRefused,
    InvalidCursor,
    InvalidField,
    LinkNotFound,
    PartnerNotFound,
    PartnerPointsError,
    StatementNotFound,
)
from partnerpoints.http_api import FirstDay, LastDay, calling_partner, create_http_app
from partnerpoints.http_errors import answers
from partnerpoints.logic.partner_analytics import get_partner_analytics
from partnerpoints.logic.partner_reports import get_partner_reports
from partnerpoints.models.orders import OrderStatus
from partnerpoints.models.partner_analytics import ReturnsAnalysis, RfmAnalysis, Segment, SegmentMembersLink
from partnerpoints.models.partner_reports import (
    Granularity,
    LinkSubIds,
    OrdersExport,
    PartnerLinks,
    PartnerOrdersPage,
    PartnerStatementList,
    PartnerSummary,
    PeriodLabel,
    ReportTimeZone,
    StatementFormat,
    StatementLink,
    SubIdField,
)
from partnerpoints.models.partners import LinkId, PartnerId
from partnerpoints.observability import logger, metrics, tracer
from partnerpoints.settings import Requirements

# Checked at import, the function's init: a deployment that lacks one of these fails here, named.
REQUIREMENTS = Requirements(
    tables=("OrdersTable", "PartnersTable", "LinksTable", "PartnerCountersTable"),
    variables=("STATEMENTS_BUCKET_NAME",),
)
REQUIREMENTS.check()

app = create_http_app()
PARTNER_TAGS = ["partners"]
OPERATOR_TAGS = ["operators"]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=16)]
OrdersCursor = Annotated[str | None, Query(max_length=1024)]
Zone = Annotated[
    ReportTimeZone,
    Query(description="whose days `from` and `to` are: utc (default) or partner (its zone; UTC without one)"),
]


def _calling_partner() -> str:
    return calling_partner(app.current_event)


@app.get(
    "/partner/statements",
    tags=PARTNER_TAGS,
    summary="Your statements (a day or a month with activity), newest first",
    responses=answers({200: "a page of statement periods"}, ApiKeyRefused, InvalidCursor),
)
@tracer.capture_method
def my_statements(limit: Limit = 31, cursor: Cursor = None) -> PartnerStatementList:
    return get_partner_reports().statements(_calling_partner(), limit, cursor)


@app.get(
    "/partner/statements/<period>",
    tags=PARTNER_TAGS,
    summary="A link to one of your statements, valid for five minutes",
    responses=answers({200: "a short-lived link to the statement file"}, ApiKeyRefused, StatementNotFound),
)
@tracer.capture_method
def my_statement(period: PeriodLabel, format: StatementFormat = StatementFormat.JSON) -> StatementLink:
    return get_partner_reports().statement_link(_calling_partner(), period, format)


@app.get(
    "/partner/orders",
    tags=PARTNER_TAGS,
    summary="Your latest transactions: orders changed in a range of days, the latest change first",
    responses=answers({200: "a page of orders"}, ApiKeyRefused, InvalidField, InvalidCursor),
)
@tracer.capture_method
def my_orders(  # noqa: PLR0917 - each is a query parameter, named by Powertools from the signature
    first: FirstDay = None,
    last: LastDay = None,
    status: OrderStatus | None = None,
    limit: Limit = 50,
    cursor: OrdersCursor = None,
    time_zone: Zone = ReportTimeZone.UTC,
) -> PartnerOrdersPage:
    return get_partner_reports().orders(
        _calling_partner(),
        first=first,
        last=last,
        status=status,
        limit=limit,
        cursor=cursor,
        time_zone=time_zone,
    )


@app.get(
    "/admin/partners/<partner_id>/orders",
    tags=OPERATOR_TAGS,
    summary="A partner's latest transactions (what the partner reads at /partner/orders)",
    responses=answers({200: "a page of orders"}, PartnerNotFound, InvalidField, InvalidCursor),
)
@tracer.capture_method
def partner_orders(
    partner_id: PartnerId,
    *,
    first: FirstDay = None,
    last: LastDay = None,
    status: OrderStatus | None = None,
    limit: Limit = 50,
    cursor: OrdersCursor = None,
    time_zone: Zone = ReportTimeZone.UTC,
) -> PartnerOrdersPage:
    return get_partner_reports().orders(
        partner_id, first=first, last=last, status=status, limit=limit, cursor=cursor, time_zone=time_zone
    )


@app.get(
    "/admin/partners/<partner_id>/statements",
    tags=OPERATOR_TAGS,
    summary="A partner's statements, newest first (what the partner reads at /partner/statements)",
    responses=answers({200: "a page of statement periods"}, PartnerNotFound, InvalidCursor),
)
@tracer.capture_method
def partner_statements(
    partner_id: PartnerId, limit: Limit = 31, cursor: Cursor = None
) -> PartnerStatementList:
    return get_partner_reports().statements(partner_id, limit, cursor)


@app.get(
    "/admin/partners/<partner_id>/statements/<period>",
    tags=OPERATOR_TAGS,
    summary="A link to a partner's statement, valid for five minutes",
    responses=answers({200: "a short-lived link to the statement file"}, PartnerNotFound, StatementNotFound),
)
@tracer.capture_method
def partner_statement(
    partner_id: PartnerId,
    period: PeriodLabel,
    format: StatementFormat = StatementFormat.JSON,
) -> StatementLink:
    return get_partner_reports().statement_link(partner_id, period, format)


@app.get(
    "/partner/summary",
    tags=PARTNER_TAGS,
    summary="Your indicators per day, week or month of a range, and in total",
    responses=answers({200: "the range's figures"}, ApiKeyRefused, InvalidField),
)
@tracer.capture_method
def my_summary(
    first: FirstDay = None,
    last: LastDay = None,
    granularity: Granularity = Granularity.DAY,
    time_zone: Zone = ReportTimeZone.UTC,
) -> PartnerSummary:
    return get_partner_reports().summary(
        _calling_partner(), first=first, last=last, granularity=granularity, time_zone=time_zone
    )


@app.get(
    "/partner/links",
    tags=PARTNER_TAGS,
    summary="Your links' figures over a range of days, most clicked first",
    responses=answers({200: "each link with activity in the range"}, ApiKeyRefused, InvalidField),
)
@tracer.capture_method
def my_links(
    first: FirstDay = None, last: LastDay = None, time_zone: Zone = ReportTimeZone.UTC
) -> PartnerLinks:
    return get_partner_reports().links(_calling_partner(), first=first, last=last, time_zone=time_zone)


@app.get(
    "/partner/links/<link_id>/sub-ids",
    tags=PARTNER_TAGS,
    summary="The clicks of one of your links per value of a sub id field (sub1..sub5)",
    responses=answers(
        {200: "each value with clicks in the range"}, ApiKeyRefused, LinkNotFound, InvalidField
    ),
)
@tracer.capture_method
def my_link_sub_ids(
    link_id: LinkId,
    field: SubIdField = SubIdField.SUB1,
    first: FirstDay = None,
    last: LastDay = None,
    time_zone: Zone = ReportTimeZone.UTC,
) -> LinkSubIds:
    return get_partner_reports().sub_ids(
        _calling_partner(), link_id, field, first=first, last=last, time_zone=time_zone
    )


@app.get(
    "/admin/partners/<partner_id>/summary",
    tags=OPERATOR_TAGS,
    summary="A partner's indicators (what the partner reads at /partner/summary)",
    responses=answers({200: "the range's figures"}, PartnerNotFound, InvalidField),
)
@tracer.capture_method
def partner_summary(
    partner_id: PartnerId,
    *,
    first: FirstDay = None,
    last: LastDay = None,
    granularity: Granularity = Granularity.DAY,
    time_zone: Zone = ReportTimeZone.UTC,
) -> PartnerSummary:
    return get_partner_reports().summary(
        partner_id, first=first, last=last, granularity=granularity, time_zone=time_zone
    )


@app.get(
    "/admin/partners/<partner_id>/links",
    tags=OPERATOR_TAGS,
    summary="A partner's links' figures (what the partner reads at /partner/links)",
    responses=answers({200: "each link with activity in the range"}, PartnerNotFound, InvalidField),
)
@tracer.capture_method
def partner_links(
    partner_id: PartnerId,
    *,
    first: FirstDay = None,
    last: LastDay = None,
    time_zone: Zone = ReportTimeZone.UTC,
) -> PartnerLinks:
    return get_partner_reports().links(partner_id, first=first, last=last, time_zone=time_zone)


@app.get(
    "/admin/partners/<partner_id>/links/<link_id>/sub-ids",
    tags=OPERATOR_TAGS,
    summary="A partner's link's clicks per sub id value (as the partner reads them)",
    responses=answers({200: "each value with clicks in the range"}, LinkNotFound, InvalidField),
)
@tracer.capture_method
def partner_link_sub_ids(
    partner_id: PartnerId,
    link_id: LinkId,
    *,
    field: SubIdField = SubIdField.SUB1,
    first: FirstDay = None,
    last: LastDay = None,
    time_zone: Zone = ReportTimeZone.UTC,
) -> LinkSubIds:
    return get_partner_reports().sub_ids(
        partner_id, link_id, field, first=first, last=last, time_zone=time_zone
    )


def _csv_answer(export: OrdersExport) -> Response[str]:
    logger.info("orders exported", partner_id=export.partner_id, rows=export.rows)
    return Response(
        status_code=200,
        content_type="text/csv; charset=utf-8",
        body=export.csv,
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "Cache-Control": "no-store",
        },
    )


def _export_answers(*refusals: type[PartnerPointsError]) -> dict[int, OpenAPIResponse]:
    documented = answers({200: ""}, *refusals, InvalidField)
    documented[200] = {
        "description": "the orders as CSV, the latest change first (the columns of /partner/orders)",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
    return documented


@app.get(
    "/partner/exports/orders.csv",
    tags=PARTNER_TAGS,
    summary="Your orders changed in a range of days, as CSV (at most 10,000)",
    responses=_export_answers(ApiKeyRefused),
)
@tracer.capture_method
def my_orders_export(
    first: FirstDay = None,
    last: LastDay = None,
    status: OrderStatus | None = None,
    time_zone: Zone = ReportTimeZone.UTC,
) -> Response[str]:
    export = get_partner_reports().export_orders(
        _calling_partner(), first=first, last=last, status=status, time_zone=time_zone
    )
    return _csv_answer(export)


@app.get(
    "/admin/partners/<partner_id>/exports/orders.csv",
    tags=OPERATOR_TAGS,
    summary="A partner's orders of a range as CSV (what the partner reads at /partner/exports/orders.csv)",
    responses=_export_answers(PartnerNotFound),
)
@tracer.capture_method
def partner_orders_export(
    partner_id: PartnerId,
    *,
    first: FirstDay = None,
    last: LastDay = None,
    status: OrderStatus | None = None,
    time_zone: Zone = ReportTimeZone.UTC,
) -> Response[str]:
    export = get_partner_reports().export_orders(
        partner_id, first=first, last=last, status=status, time_zone=time_zone
    )
    return _csv_answer(export)


@app.get(
    "/partner/analytics/rfm",
    tags=PARTNER_TAGS,
    summary="Your buying members in RFM segments, per currency, from the latest nightly analysis",
    responses=answers({200: "the latest analysis"}, ApiKeyRefused, AnalysisNotFound),
)
@tracer.capture_method
def my_rfm() -> RfmAnalysis:
    return get_partner_analytics().rfm(_calling_partner())


@app.get(
    "/partner/analytics/rfm/segments/<segment>",
    tags=PARTNER_TAGS,
    summary="A link to the CSV of one segment's members (for your own campaigns), valid for five minutes",
    responses=answers({200: "a short-lived link to the segment's CSV"}, ApiKeyRefused, AnalysisNotFound),
)
@tracer.capture_method
def my_rfm_segment(segment: Segment) -> SegmentMembersLink:
    return get_partner_analytics().segment_members(_calling_partner(), segment)


@app.get(
    "/partner/analytics/returns",
    tags=PARTNER_TAGS,
    summary="Refunds by product category and by link over a range, and members whose refunds stand out",
    responses=answers({200: "the range's returns"}, ApiKeyRefused, InvalidField),
)
@tracer.capture_method
def my_returns(
    first: FirstDay = None, last: LastDay = None, time_zone: Zone = ReportTimeZone.UTC
) -> ReturnsAnalysis:
    return get_partner_analytics().returns(_calling_partner(), first=first, last=last, time_zone=time_zone)


@app.get(
    "/admin/partners/<partner_id>/analytics/rfm",
    tags=OPERATOR_TAGS,
    summary="A partner's RFM segments (what the partner reads at /partner/analytics/rfm)",
    responses=answers({200: "the latest analysis"}, PartnerNotFound, AnalysisNotFound),
)
@tracer.capture_method
def partner_rfm(partner_id: PartnerId) -> RfmAnalysis:
    return get_partner_analytics().rfm(partner_id)


@app.get(
    "/admin/partners/<partner_id>/analytics/rfm/segments/<segment>",
    tags=OPERATOR_TAGS,
    summary="A link to the CSV of a partner's segment (as the partner reads it)",
    responses=answers({200: "a short-lived link to the segment's CSV"}, PartnerNotFound, AnalysisNotFound),
)
@tracer.capture_method
def partner_rfm_segment(partner_id: PartnerId, segment: Segment) -> SegmentMembersLink:
    return get_partner_analytics().segment_members(partner_id, segment)


@app.get(
    "/admin/partners/<partner_id>/analytics/returns",
    tags=OPERATOR_TAGS,
    summary="A partner's returns (what the partner reads at /partner/analytics/returns)",
    responses=answers({200: "the range's returns"}, PartnerNotFound, InvalidField),
)
@tracer.capture_method
def partner_returns(
    partner_id: PartnerId,
    *,
    first: FirstDay = None,
    last: LastDay = None,
    time_zone: Zone = ReportTimeZone.UTC,
) -> ReturnsAnalysis:
    return get_partner_analytics().returns(partner_id, first=first, last=last, time_zone=time_zone)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
