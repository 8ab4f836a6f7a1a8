"""AdminApiFunction: partners, links, postback credentials, order review and the overview of the
program's queues and nightly runs, for operators (IAM-authorized routes)."""

from datetime import timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from partnerpoints.exceptions import (
    AlreadyExists,
    ApiKeyNotFound,
    ConcurrentChange,
    InvalidCursor,
    InvalidField,
    LinkNotFound,
    OrderBusy,
    OrderConflict,
    OrderNotFound,
    PartnerNotFound,
)
from partnerpoints.http_api import create_http_app, member_link_url, public_base_url
from partnerpoints.http_errors import answers
from partnerpoints.logic.earning import check_with_earning_rules
from partnerpoints.logic.operations import MAX_NIGHTS, get_operations
from partnerpoints.logic.order_review import get_order_review
from partnerpoints.logic.partner_keys import get_partner_keys
from partnerpoints.logic.partners import get_partner_directory
from partnerpoints.logic.postback_credentials import DEFAULT_GRACE_HOURS, MAX_GRACE_HOURS
from partnerpoints.models.operations import OperationsOverview
from partnerpoints.models.orders import Attention, OrdersPage, OrderView, ReviewRequest
from partnerpoints.models.partner_keys import ApiKeyId, ApiKeyList, ApiKeyView, IssuedApiKey, NewApiKey
from partnerpoints.models.partners import (
    CreatedPartner,
    Link,
    LinkId,
    LinkSettings,
    LinkView,
    MemberLinkView,
    NewLink,
    NewMemberLink,
    NewPartner,
    Partner,
    PartnerId,
    PartnerPage,
    PartnerSettings,
    RotatedSecrets,
)
from partnerpoints.observability import logger, metrics, tracer
from partnerpoints.settings import Requirements

app = create_http_app()
TAGS = ["operators"]


def _with_url(link: Link) -> LinkView:
    return LinkView(**link.model_dump(), url=f"{public_base_url(app.current_event)}/c/{link.link_id}")


@app.post(
    "/admin/partners",
    status_code=201,
    tags=TAGS,
    summary="Create a partner; the answer carries its postback credentials, shown this once",
    responses=answers({201: "created, with its credentials"}, AlreadyExists, InvalidField),
)
@tracer.capture_method
def create_partner(partner: NewPartner) -> CreatedPartner:
    created, issued = get_partner_directory().create_partner(partner)
    return CreatedPartner(
        **created.model_dump(), webhook_secret=issued.webhook_secret, postback_token=issued.postback_token
    )


# Checked at import, the function's init: a deployment that lacks one of these fails here, named.
REQUIREMENTS = Requirements(
    tables=(
        "LinksTable",
        "OrderChangesTable",
        "OrdersTable",
        "PartnerApiKeysTable",
        "PartnerCredentialsTable",
        "PartnersTable",
    ),
    variables=(
        "CLICK_SIGNING_SECRET_ARN",
        "DEAD_LETTER_QUEUE_URL",
        "EARNING_RULES",
        "STATEMENTS_BUCKET_NAME",
        "STATEMENT_TASKS_QUEUE_URL",
    ),
)
check_with_earning_rules(REQUIREMENTS)


@app.post(
    "/admin/partners/<partner_id>/rotate-secret",
    tags=TAGS,
    summary="New postback credentials; the previous ones keep working for a grace period",
    responses=answers({200: "the new credentials, shown this once"}, PartnerNotFound, ConcurrentChange),
)
@tracer.capture_method
def rotate_secret(
    partner_id: PartnerId,
    grace_hours: Annotated[int, Query(ge=0, le=MAX_GRACE_HOURS)] = DEFAULT_GRACE_HOURS,
) -> RotatedSecrets:
    issued, previous_until = get_partner_directory().rotate_credentials(
        partner_id, timedelta(hours=grace_hours)
    )
    return RotatedSecrets(
        partner_id=partner_id,
        webhook_secret=issued.webhook_secret,
        postback_token=issued.postback_token,
        previous_valid_until=previous_until,
    )


@app.post(
    "/admin/partners/<partner_id>/api-keys",
    status_code=201,
    tags=TAGS,
    summary="Issue an API key with which the partner reads its own numbers; the key is shown this once",
    responses=answers({201: "the key, shown this once"}, PartnerNotFound, InvalidField),
)
@tracer.capture_method
def issue_api_key(partner_id: PartnerId, request: NewApiKey) -> IssuedApiKey:
    return get_partner_keys().issue(partner_id, request)


@app.get(
    "/admin/partners/<partner_id>/api-keys",
    tags=TAGS,
    summary="A partner's API keys (never the keys themselves), oldest first",
    responses=answers({200: "the keys, with their status and last use"}, PartnerNotFound),
)
@tracer.capture_method
def list_api_keys(partner_id: PartnerId) -> ApiKeyList:
    return ApiKeyList(keys=get_partner_keys().of_partner(partner_id))


@app.delete(
    "/admin/partners/<partner_id>/api-keys/<key_id>",
    tags=TAGS,
    summary="Revoke a partner's API key (again: nothing changes)",
    responses=answers({200: "the key as revoked"}, ApiKeyNotFound),
)
@tracer.capture_method
def revoke_api_key(partner_id: PartnerId, key_id: ApiKeyId) -> ApiKeyView:
    return get_partner_keys().revoke(partner_id, key_id)


@app.get(
    "/admin/partners",
    tags=TAGS,
    summary="Every partner's settings, a page at a time",
    responses=answers({200: "a page of partners"}, InvalidCursor),
)
@tracer.capture_method
def list_partners(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> PartnerPage:
    return get_partner_directory().list_partners(limit, cursor)


@app.get(
    "/admin/partners/<partner_id>",
    tags=TAGS,
    summary="A partner's settings",
    responses=answers({200: "the partner"}, PartnerNotFound),
)
@tracer.capture_method
def get_partner(partner_id: PartnerId) -> Partner:
    return get_partner_directory().get_partner(partner_id)


@app.put(
    "/admin/partners/<partner_id>",
    tags=TAGS,
    summary="Replace a partner's settings",
    responses=answers({200: "the partner as stored"}, PartnerNotFound, InvalidField, ConcurrentChange),
)
@tracer.capture_method
def replace_partner(partner_id: PartnerId, partner: PartnerSettings) -> Partner:
    return get_partner_directory().replace_partner(partner_id, partner)


@app.post(
    "/admin/links",
    status_code=201,
    tags=TAGS,
    summary="Create a tracking link to one of the partner's domains",
    responses=answers({201: "created, with its URL"}, PartnerNotFound, AlreadyExists, InvalidField),
)
@tracer.capture_method
def create_link(link: NewLink) -> LinkView:
    return _with_url(get_partner_directory().create_link(link))


@app.get(
    "/admin/links/<link_id>",
    tags=TAGS,
    summary="A tracking link",
    responses=answers({200: "the link, with its URL"}, LinkNotFound),
)
@tracer.capture_method
def get_link(link_id: LinkId) -> LinkView:
    return _with_url(get_partner_directory().get_link(link_id))


@app.put(
    "/admin/links/<link_id>",
    tags=TAGS,
    summary="Replace a link's destination or status",
    responses=answers(
        {200: "the link as stored"}, LinkNotFound, PartnerNotFound, InvalidField, ConcurrentChange
    ),
)
@tracer.capture_method
def replace_link(link_id: LinkId, link: LinkSettings) -> LinkView:
    return _with_url(get_partner_directory().replace_link(link_id, link))


@app.post(
    "/admin/member-links",
    status_code=201,
    tags=TAGS,
    summary="A member's personal click URL for a link",
    responses=answers({201: "the member's link"}, LinkNotFound, PartnerNotFound),
)
@tracer.capture_method
def create_member_link(request: NewMemberLink) -> MemberLinkView:
    member_link = get_partner_directory().member_link(request)
    return MemberLinkView(**member_link.model_dump(), url=member_link_url(app.current_event, member_link))


@app.get(
    "/admin/orders",
    tags=TAGS,
    summary="Orders waiting for an operator: in review, or unattributed",
    responses=answers({200: "a page of orders, oldest first"}, InvalidCursor),
)
@tracer.capture_method
def orders_waiting(
    status: Attention,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> OrdersPage:
    page = get_order_review().waiting(status, limit, cursor)
    return OrdersPage(orders=[order.view() for order in page.orders], next_cursor=page.next_cursor)


@app.get(
    "/admin/orders/<partner_id>/<order_id>",
    tags=TAGS,
    summary="An order with its history",
    responses=answers({200: "the order"}, OrderNotFound),
)
@tracer.capture_method
def get_order(partner_id: PartnerId, order_id: str) -> OrderView:
    return get_order_review().get_order(partner_id, order_id).view()


@app.post(
    "/admin/orders/<partner_id>/<order_id>/review",
    tags=TAGS,
    summary="Approve or reject an order waiting for a decision",
    responses=answers(
        {200: "the order as decided"}, OrderNotFound, OrderConflict, ConcurrentChange, OrderBusy
    ),
)
@tracer.capture_method
def review_order(partner_id: PartnerId, order_id: str, decision: ReviewRequest) -> OrderView:
    return get_order_review().decide(partner_id, order_id, decision).view()


@app.get(
    "/admin/operations",
    tags=TAGS,
    summary="What needs an operator besides orders: the dead-letter queue, the nightly run's queue, "
    "the last nights' statement runs and their reconciliation",
    responses=answers({200: "the overview, today's run first"}),
)
@tracer.capture_method
def operations_overview(nights: Annotated[int, Query(ge=1, le=MAX_NIGHTS)] = 7) -> OperationsOverview:
    return get_operations().overview(nights)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
