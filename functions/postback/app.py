"""PostbackFunction: partners' order postbacks, signed (POST) or with a token (GET). The body is read
as the exact bytes API Gateway received, because the signature is over them."""

import base64
import binascii
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from partnerpoints.exceptions import (
    InvalidField,
    MalformedBody,
    OrderBusy,
    OrderConflict,
    PartnerNotFound,
    PayloadTooLarge,
    Unauthenticated,
)
from partnerpoints.http_api import create_http_app
from partnerpoints.http_errors import answers
from partnerpoints.logic.postbacks import SignedDelivery, UnsignedDelivery, get_postback_desk
from partnerpoints.models.orders import PostbackAnswer, Receipt
from partnerpoints.observability import logger, metrics, tracer
from partnerpoints.settings import Requirements

# Checked at import, the function's init: a deployment that lacks one of these fails here, named.
REQUIREMENTS = Requirements(
    tables=(
        "ClicksTable",
        "OrderChangesTable",
        "OrdersTable",
        "PartnerCredentialsTable",
        "PartnersTable",
        "PostbackDeliveriesTable",
    ),
)
REQUIREMENTS.check()

app = create_http_app()
TAGS = ["postbacks"]
RECEIVED = {202: "a new change of the order, accepted", 200: "a repeat: nothing changed (duplicate=true)"}


def _answer(partner_id: str, receipt: Receipt) -> Response[PostbackAnswer]:
    answer = receipt.answer
    metrics.add_dimension(name="partner_id", value=partner_id)
    if answer.duplicate:
        metrics.add_metric(name="DuplicatePostbacks", unit=MetricUnit.Count, value=1)
    elif answer.version == 1:
        metrics.add_metric(name="OrdersCreated", unit=MetricUnit.Count, value=1)
        if not answer.referred:  # the operator's unattributed queue
            metrics.add_metric(name="UnattributedOrders", unit=MetricUnit.Count, value=1)
        elif not answer.earns_points:
            metrics.add_metric(name="AnonymousOrders", unit=MetricUnit.Count, value=1)
        if answer.in_review:
            metrics.add_metric(name="OrdersInReview", unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name="OrderChanges", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=receipt.status_code,
        content_type=content_types.APPLICATION_JSON,
        body=answer,
        headers={"Cache-Control": "no-store"},
    )


def _raw_body() -> bytes:
    event = app.current_event
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode("utf-8", "surrogateescape")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as error:
        raise MalformedBody("the base64-encoded body does not decode") from error


@app.post(
    "/postbacks/<partner_id>",
    tags=TAGS,
    summary="A signed order postback (Standard Webhooks); the body is the order as JSON",
    responses=answers(
        RECEIVED,
        Unauthenticated,
        PartnerNotFound,
        MalformedBody,
        InvalidField,
        PayloadTooLarge,
        OrderConflict,
        OrderBusy,
    ),
)
@tracer.capture_method
def signed_postback(partner_id: str) -> Response[PostbackAnswer]:
    event = app.current_event
    delivery = SignedDelivery(
        partner_id=partner_id,
        body=_raw_body(),
        headers={name.lower(): value for name, value in (event.headers or {}).items()},
        source_ip=event.request_context.http.source_ip,
    )
    return _answer(partner_id, get_postback_desk().receive_signed(delivery))


@app.get(
    "/postbacks/<partner_id>",
    tags=TAGS,
    summary="An order postback as query parameters, authenticated by the partner's token",
    responses=answers(RECEIVED, Unauthenticated, PartnerNotFound, InvalidField, OrderConflict, OrderBusy),
)
@tracer.capture_method
def unsigned_postback(partner_id: str) -> Response[PostbackAnswer]:
    event = app.current_event
    delivery = UnsignedDelivery(
        partner_id=partner_id,
        query=event.query_string_parameters or {},
        source_ip=event.request_context.http.source_ip,
        request_id=event.request_context.request_id,
    )
    return _answer(partner_id, get_postback_desk().receive_unsigned(delivery))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
