"""AdminApiFunction: partners, links, postback credentials and order review for operators
(IAM-authorized routes)."""

from datetime import timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from partnerpoints.http_api import create_http_app, json_response, member_link_url, public_base_url
from partnerpoints.logic.earning import parse_earning_rules
from partnerpoints.logic.order_review import get_order_review
from partnerpoints.logic.partners import get_partner_directory
from partnerpoints.logic.postback_credentials import DEFAULT_GRACE_HOURS, MAX_GRACE_HOURS, IssuedCredentials
from partnerpoints.models.orders import Attention, ReviewRequest
from partnerpoints.models.partners import (
    Link,
    LinkId,
    LinkSettings,
    MemberLink,
    NewLink,
    NewMemberLink,
    NewPartner,
    PartnerId,
    PartnerSettings,
)
from partnerpoints.observability import logger, metrics, tracer
from partnerpoints.settings import Requirements

app = create_http_app()


def _with_url(link: Link) -> dict[str, Any]:
    return {**link.model_dump(mode="json"), "url": f"{public_base_url(app.current_event)}/c/{link.link_id}"}


def _shown_once(issued: IssuedCredentials) -> dict[str, str]:
    """The only answers that carry a partner's secrets; nothing logs them and no read returns them."""
    return {"webhook_secret": issued.webhook_secret, "postback_token": issued.postback_token}


@app.post("/admin/partners")
@tracer.capture_method
def create_partner(partner: NewPartner) -> Response[dict[str, Any]]:
    created, issued = get_partner_directory().create_partner(partner)
    return json_response(201, {**created.model_dump(mode="json"), **_shown_once(issued)})


# Checked at import, the function's init: a deployment that lacks one of these fails here, named.
REQUIREMENTS = Requirements(
    tables=(
        "LinksTable",
        "OrderChangesTable",
        "OrdersTable",
        "PartnerCredentialsTable",
        "PartnersTable",
    ),
    variables=(
        "CLICK_SIGNING_SECRET_ARN",
        "EARNING_RULES",
    ),
)
# The earning rules are parsed now too: a malformed EARNING_RULES stops the init, not the first order.
parse_earning_rules(REQUIREMENTS.check().earning_rules_json)


@app.post("/admin/partners/<partner_id>/rotate-secret")
@tracer.capture_method
def rotate_secret(
    partner_id: PartnerId,
    grace_hours: Annotated[int, Query(ge=0, le=MAX_GRACE_HOURS)] = DEFAULT_GRACE_HOURS,
) -> dict[str, Any]:
    issued, previous_until = get_partner_directory().rotate_credentials(
        partner_id, timedelta(hours=grace_hours)
    )
    return {
        "partner_id": partner_id,
        **_shown_once(issued),
        "previous_valid_until": previous_until.isoformat(),
    }


@app.get("/admin/partners/<partner_id>")
@tracer.capture_method
def get_partner(partner_id: PartnerId) -> dict[str, Any]:
    return get_partner_directory().get_partner(partner_id).model_dump(mode="json")


@app.put("/admin/partners/<partner_id>")
@tracer.capture_method
def replace_partner(partner_id: PartnerId, partner: PartnerSettings) -> dict[str, Any]:
    return get_partner_directory().replace_partner(partner_id, partner).model_dump(mode="json")


@app.post("/admin/links")
@tracer.capture_method
def create_link(link: NewLink) -> Response[dict[str, Any]]:
    return json_response(201, _with_url(get_partner_directory().create_link(link)))


@app.get("/admin/links/<link_id>")
@tracer.capture_method
def get_link(link_id: LinkId) -> dict[str, Any]:
    return _with_url(get_partner_directory().get_link(link_id))


@app.put("/admin/links/<link_id>")
@tracer.capture_method
def replace_link(link_id: LinkId, link: LinkSettings) -> dict[str, Any]:
    return _with_url(get_partner_directory().replace_link(link_id, link))


@app.post("/admin/member-links")
@tracer.capture_method
def create_member_link(request: NewMemberLink) -> Response[dict[str, Any]]:
    member_link: MemberLink = get_partner_directory().member_link(request)
    return json_response(
        201, {**member_link.model_dump(mode="json"), "url": member_link_url(app.current_event, member_link)}
    )


@app.get("/admin/orders")
@tracer.capture_method
def orders_waiting(
    status: Attention,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> dict[str, Any]:
    page = get_order_review().waiting(status, limit, cursor)
    return {"orders": [order.view() for order in page.orders], "next_cursor": page.next_cursor}


@app.get("/admin/orders/<partner_id>/<order_id>")
@tracer.capture_method
def get_order(partner_id: PartnerId, order_id: str) -> dict[str, Any]:
    return get_order_review().get_order(partner_id, order_id).view()


@app.post("/admin/orders/<partner_id>/<order_id>/review")
@tracer.capture_method
def review_order(partner_id: PartnerId, order_id: str, decision: ReviewRequest) -> dict[str, Any]:
    return get_order_review().decide(partner_id, order_id, decision).view()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
