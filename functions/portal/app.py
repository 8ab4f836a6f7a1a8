"""PortalFunction: the partner dashboard, static HTML, CSS and JavaScript served from this function's
own package on the API's origin (GET /portal, GET /portal/{file}). The pages call the reporting API on
the same origin, so no CORS and no second host; the chart library is Chart.js, pinned in
infra/package.json and copied here (`make portal-assets`; a test holds the copy to the pin)."""

from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from partnerpoints.exceptions import PartnerPointsError, PortalFileNotFound
from partnerpoints.http_api import create_http_app
from partnerpoints.http_errors import answers
from partnerpoints.observability import logger, metrics, tracer
from partnerpoints.settings import Requirements

# Checked at import, the function's init: a deployment that lacks one of these fails here, named.
REQUIREMENTS = Requirements()  # no data: the pages read it through the API with the partner's key
REQUIREMENTS.check()

STATIC = Path(__file__).resolve().parent / "static"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}
# The files there are, and only those: a name is looked up, never joined to a path.
FILES = {path.name: path for path in STATIC.iterdir() if path.suffix in CONTENT_TYPES}
# Nothing but this origin: no inline script or style, no other host, never inside another site's frame.
HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

app = create_http_app()


def _answers(
    description: str, content_type: str, *refusals: type[PartnerPointsError]
) -> dict[int, OpenAPIResponse]:
    documented = answers({200: ""}, *refusals)
    documented[200] = {"description": description, "content": {content_type: {"schema": {"type": "string"}}}}
    return documented


def _file(name: str) -> Response[str]:
    path = FILES.get(name)
    if path is None:
        raise PortalFileNotFound(f"the portal has no file {name}")
    body = path.read_text("utf-8")
    return Response(status_code=200, content_type=CONTENT_TYPES[path.suffix], body=body, headers=HEADERS)


@app.get(
    "/portal",
    tags=["portal"],
    summary="The partner dashboard (sign in with the partner's API key)",
    responses=_answers("the dashboard's page", "text/html"),
)
@tracer.capture_method
def portal_page() -> Response[str]:
    return _file("index.html")


@app.get(
    "/portal/<file>",
    tags=["portal"],
    summary="One file of the partner dashboard: its page, stylesheet, scripts and chart library",
    responses=_answers("the file (HTML, CSS or JavaScript)", "text/plain", PortalFileNotFound),
)
@tracer.capture_method
def portal_file(file: str) -> Response[str]:
    return _file(file)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
