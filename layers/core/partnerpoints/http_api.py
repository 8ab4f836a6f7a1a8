"""The HTTP API resolver every function uses: request validation on, §3 error bodies everywhere."""

from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from partnerpoints.http_errors import register_error_handlers
from partnerpoints.models.partners import MemberLink


def create_http_app() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    register_error_handlers(app)
    return app


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
