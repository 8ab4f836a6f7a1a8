"""The HTTP API resolver every function uses: request validation on, §3 error bodies everywhere."""

from datetime import date
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
    OpenAPIResponseValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel

from partnerpoints.exceptions import ApiKeyRefused, NotYourAccount
from partnerpoints.http_errors import register_error_handlers
from partnerpoints.models.partners import MemberLink
from partnerpoints.observability import logger

ADMIN_SCOPE = "admin"
Answer = TypeVar("Answer", bound=BaseModel)
# A range of days in a query (models.partner_reports.DayRange checks and completes it): UTC days, or the
# partner's where a route takes `time_zone`.
FirstDay = Annotated[date | None, Query(alias="from", description="the first day (default: 30 days ago)")]
LastDay = Annotated[date | None, Query(alias="to", description="the last day (default: today)")]


class JsonBodiesOnly(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, for routes whose bodies are JSON only: a body sent as anything
    else is refused (415) before it is parsed. Powertools would read form and multipart bodies into the
    model, and fails with a 500 on a multipart type without a boundary."""

    def _get_body(self, app: Any) -> dict[str, Any]:
        content_type = app.current_event.headers.get("content-type", "").strip().lower()
        if content_type and not content_type.startswith(content_types.APPLICATION_JSON):
            raise RequestUnsupportedContentType(
                "Unsupported content type",
                errors=[{"type": "unsupported_content_type", "loc": ("body",), "msg": content_type}],
            )
        body: dict[str, Any] = super()._get_body(app)
        return body


def create_http_app() -> APIGatewayHttpResolver:
    # An answer that does not match its route's model raises ResponseValidationError (a 500 of ours),
    # not the RequestValidationError Powertools would otherwise raise and we would answer 422.
    app = APIGatewayHttpResolver(enable_validation=True, response_validation_error_http_code=500)
    # Powertools builds these two on first use unless they are there; ours refuses non-JSON bodies.
    app._request_validation_middleware = JsonBodiesOnly()  # type: ignore[no-untyped-call]
    app._response_validation_middleware = OpenAPIResponseValidationMiddleware(
        validation_serializer=app._serializer, has_response_validation_error=True
    )
    register_error_handlers(app)
    return app


def json_response(status: int, body: Answer) -> Response[Answer]:
    """A typed JSON answer whose status depends on what happened (201 created, 200 for a repeat); a route
    with one success status declares it instead (`status_code=`) and returns the model."""
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def public_base_url(event: APIGatewayProxyEventV2) -> str:
    """The API's public base URL as the caller reached it (custom domain or execute-api; locally the
    local stack), from the headers API Gateway sets."""
    headers = event.headers
    scheme = headers.get("x-forwarded-proto", "https")
    host = headers.get("host") or event.request_context.domain_name
    return f"{scheme}://{host}"


def member_link_url(event: APIGatewayProxyEventV2, member_link: MemberLink) -> str:
    """The member's personal click URL: the link, with the member's signed token in `m`."""
    return f"{public_base_url(event)}/c/{member_link.link_id}?{urlencode({'m': member_link.token})}"


def require_member_access(event: APIGatewayProxyEventV2, member_id: str) -> None:
    """A member route's rule: the token's subject is the member, or the token has the admin scope.
    (The HTTP API's JWT authorizer has already verified the token.)"""
    authorizer = event.request_context.authorizer
    claims = authorizer.jwt_claim or {}
    scopes = set(authorizer.jwt_scopes or []) | set(str(claims.get("scope", "")).strip("[]").split())
    if ADMIN_SCOPE in scopes:
        return
    if claims.get("sub") != member_id:
        raise NotYourAccount("a member may only see and use their own accounts")


API_KEY_REFUSALS = {
    "invalid_api_key": "the API key is not one the program issued",
    "api_key_revoked": "the API key was revoked",
    "api_key_expired": "the API key has expired",
}


def calling_partner(event: APIGatewayProxyEventV2) -> str:
    """The partner whose API key called a /partner route (PartnerKeyAuthorizer named it): the only
    partner that route may read or change. A refused key is answered 401 with the authorizer's reason."""
    context = event.request_context.authorizer.get_lambda or {}
    partner_id = context.get("partner_id")
    if partner_id:
        logger.append_keys(partner_id=partner_id, key_id=context.get("key_id"))
        return str(partner_id)
    code = str(context.get("refusal", "invalid_api_key"))
    raise ApiKeyRefused(
        API_KEY_REFUSALS.get(code, API_KEY_REFUSALS["invalid_api_key"]),
        code=code if code in API_KEY_REFUSALS else None,
    )


def operator_of(event: APIGatewayProxyEventV2) -> str:
    """Who called an IAM-authorized operator route (recorded in what they change)."""
    return event.request_context.authorizer.iam.user_arn or "unknown operator"
