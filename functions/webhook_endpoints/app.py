"""WebhookEndpointsFunction: where events are sent. The program's apps register theirs through the
IAM-authorized /admin/webhook-endpoints routes, a partner its own through /partner/webhook-endpoints
with its API key (and sees, changes and receives only its own)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from partnerpoints.exceptions import (
    AlreadyExists,
    ApiKeyRefused,
    ConcurrentChange,
    InvalidField,
    WebhookEndpointNotFound,
)
from partnerpoints.http_api import calling_partner, create_http_app
from partnerpoints.http_errors import answers
from partnerpoints.logic.webhook_endpoints import (
    DEFAULT_GRACE_HOURS,
    MAX_GRACE_HOURS,
    EndpointOwner,
    get_webhook_endpoints,
)
from partnerpoints.models.webhooks import (
    CreatedWebhookEndpoint,
    EndpointId,
    RotatedWebhookSecret,
    WebhookEndpoint,
    WebhookEndpointList,
    WebhookEndpointSettings,
    WebhookTestResult,
)
from partnerpoints.observability import logger, metrics, tracer
from partnerpoints.settings import Requirements

# Checked at import, the function's init: a deployment that lacks one of these fails here, named.
REQUIREMENTS = Requirements(tables=("WebhookEndpointsTable",))
REQUIREMENTS.check()

app = create_http_app()
OPERATOR_TAGS = ["operators"]
PARTNER_TAGS = ["partners"]
GraceHours = Annotated[
    int,
    Query(
        ge=0, le=MAX_GRACE_HOURS, description="how long the previous secret keeps signing beside the new one"
    ),
]


def _partner() -> EndpointOwner:
    return EndpointOwner.partner(calling_partner(app.current_event))


# ---------------------------------------------------------------- the program's endpoints (IAM)
@app.post(
    "/admin/webhook-endpoints",
    status_code=201,
    tags=OPERATOR_TAGS,
    summary="Register an endpoint of the program's apps; the answer carries its signing secret, shown once",
    responses=answers({201: "the endpoint, with its secret"}, InvalidField, AlreadyExists),
)
@tracer.capture_method
def create_program_endpoint(endpoint: WebhookEndpointSettings) -> CreatedWebhookEndpoint:
    return get_webhook_endpoints().create(EndpointOwner.program(), endpoint)


@app.get(
    "/admin/webhook-endpoints",
    tags=OPERATOR_TAGS,
    summary="The program's endpoints, oldest first (never their secrets)",
    responses=answers({200: "the endpoints"}),
)
@tracer.capture_method
def list_program_endpoints() -> WebhookEndpointList:
    return WebhookEndpointList(endpoints=get_webhook_endpoints().list(EndpointOwner.program()))


@app.get(
    "/admin/webhook-endpoints/<endpoint_id>",
    tags=OPERATOR_TAGS,
    summary="One of the program's endpoints",
    responses=answers({200: "the endpoint"}, WebhookEndpointNotFound),
)
@tracer.capture_method
def get_program_endpoint(endpoint_id: EndpointId) -> WebhookEndpoint:
    return get_webhook_endpoints().get(EndpointOwner.program(), endpoint_id)


@app.put(
    "/admin/webhook-endpoints/<endpoint_id>",
    tags=OPERATOR_TAGS,
    summary="Replace an endpoint's URL, event types, description or state (enabled: true clears a disabling)",
    responses=answers(
        {200: "the endpoint as stored"}, WebhookEndpointNotFound, InvalidField, ConcurrentChange
    ),
)
@tracer.capture_method
def replace_program_endpoint(endpoint_id: EndpointId, endpoint: WebhookEndpointSettings) -> WebhookEndpoint:
    return get_webhook_endpoints().replace(EndpointOwner.program(), endpoint_id, endpoint)


@app.delete(
    "/admin/webhook-endpoints/<endpoint_id>",
    tags=OPERATOR_TAGS,
    summary="Delete an endpoint: nothing more is sent to it",
    responses=answers({200: "the endpoint as it was"}, WebhookEndpointNotFound),
)
@tracer.capture_method
def delete_program_endpoint(endpoint_id: EndpointId) -> WebhookEndpoint:
    return get_webhook_endpoints().delete(EndpointOwner.program(), endpoint_id)


@app.post(
    "/admin/webhook-endpoints/<endpoint_id>/rotate-secret",
    tags=OPERATOR_TAGS,
    summary="A new signing secret, shown once; the previous one keeps signing beside it for a grace period",
    responses=answers({200: "the new secret"}, WebhookEndpointNotFound, ConcurrentChange),
)
@tracer.capture_method
def rotate_program_secret(
    endpoint_id: EndpointId, grace_hours: GraceHours = DEFAULT_GRACE_HOURS
) -> RotatedWebhookSecret:
    return get_webhook_endpoints().rotate_secret(EndpointOwner.program(), endpoint_id, grace_hours)


@app.post(
    "/admin/webhook-endpoints/<endpoint_id>/test",
    tags=OPERATOR_TAGS,
    summary="Send a signed test message (type webhook.test) now and answer how the endpoint answered",
    responses=answers({200: "the attempt, delivered or not"}, WebhookEndpointNotFound),
)
@tracer.capture_method
def test_program_endpoint(endpoint_id: EndpointId) -> WebhookTestResult:
    return get_webhook_endpoints().send_test(EndpointOwner.program(), endpoint_id)


# ---------------------------------------------------------------- a partner's endpoints (its API key)
@app.post(
    "/partner/webhook-endpoints",
    status_code=201,
    tags=PARTNER_TAGS,
    summary="Register an endpoint for your orders' and statements' events; its signing secret is shown once",
    responses=answers({201: "the endpoint, with its secret"}, ApiKeyRefused, InvalidField, AlreadyExists),
)
@tracer.capture_method
def create_my_endpoint(endpoint: WebhookEndpointSettings) -> CreatedWebhookEndpoint:
    return get_webhook_endpoints().create(_partner(), endpoint)


@app.get(
    "/partner/webhook-endpoints",
    tags=PARTNER_TAGS,
    summary="Your endpoints, oldest first (never their secrets)",
    responses=answers({200: "the endpoints"}, ApiKeyRefused),
)
@tracer.capture_method
def list_my_endpoints() -> WebhookEndpointList:
    return WebhookEndpointList(endpoints=get_webhook_endpoints().list(_partner()))


@app.get(
    "/partner/webhook-endpoints/<endpoint_id>",
    tags=PARTNER_TAGS,
    summary="One of your endpoints",
    responses=answers({200: "the endpoint"}, ApiKeyRefused, WebhookEndpointNotFound),
)
@tracer.capture_method
def get_my_endpoint(endpoint_id: EndpointId) -> WebhookEndpoint:
    return get_webhook_endpoints().get(_partner(), endpoint_id)


@app.put(
    "/partner/webhook-endpoints/<endpoint_id>",
    tags=PARTNER_TAGS,
    summary="Replace your endpoint's URL, event types, description or state",
    responses=answers(
        {200: "the endpoint as stored"},
        ApiKeyRefused,
        WebhookEndpointNotFound,
        InvalidField,
        ConcurrentChange,
    ),
)
@tracer.capture_method
def replace_my_endpoint(endpoint_id: EndpointId, endpoint: WebhookEndpointSettings) -> WebhookEndpoint:
    return get_webhook_endpoints().replace(_partner(), endpoint_id, endpoint)


@app.delete(
    "/partner/webhook-endpoints/<endpoint_id>",
    tags=PARTNER_TAGS,
    summary="Delete your endpoint: nothing more is sent to it",
    responses=answers({200: "the endpoint as it was"}, ApiKeyRefused, WebhookEndpointNotFound),
)
@tracer.capture_method
def delete_my_endpoint(endpoint_id: EndpointId) -> WebhookEndpoint:
    return get_webhook_endpoints().delete(_partner(), endpoint_id)


@app.post(
    "/partner/webhook-endpoints/<endpoint_id>/rotate-secret",
    tags=PARTNER_TAGS,
    summary="A new signing secret for your endpoint, shown once; the previous one keeps signing for a while",
    responses=answers({200: "the new secret"}, ApiKeyRefused, WebhookEndpointNotFound, ConcurrentChange),
)
@tracer.capture_method
def rotate_my_secret(
    endpoint_id: EndpointId, grace_hours: GraceHours = DEFAULT_GRACE_HOURS
) -> RotatedWebhookSecret:
    return get_webhook_endpoints().rotate_secret(_partner(), endpoint_id, grace_hours)


@app.post(
    "/partner/webhook-endpoints/<endpoint_id>/test",
    tags=PARTNER_TAGS,
    summary="Send a signed test message to your endpoint now and answer how it answered",
    responses=answers({200: "the attempt, delivered or not"}, ApiKeyRefused, WebhookEndpointNotFound),
)
@tracer.capture_method
def test_my_endpoint(endpoint_id: EndpointId) -> WebhookTestResult:
    return get_webhook_endpoints().send_test(_partner(), endpoint_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
