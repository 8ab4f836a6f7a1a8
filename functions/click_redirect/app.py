"""ClickRedirectFunction: GET and HEAD /c/{link_id}, the program's hottest path.

Deliberately lean (its cold import is budgeted at 1.3x a bare `import boto3`): the event is read by
hand instead of through the Event Handler, and there is no pydantic, PynamoDB or X-Ray SDK here.
Logger and Metrics (EMF) are Powertools'; Lambda's active tracing still records each invocation.
"""

from __future__ import annotations

import html
from dataclasses import asdict
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from partnerpoints.exceptions import StorageUnavailable
from partnerpoints.logic.click_redirect import get_click_redirector
from partnerpoints.models.clicks import ClickAnswer, ClickRequest
from partnerpoints.settings import Requirements

# Checked at import, the function's init: a deployment that lacks one of these fails here, named.
REQUIREMENTS = Requirements(
    tables=(
        "ClicksTable",
        "LinksTable",
        "PartnersTable",
    ),
    variables=("CLICK_SIGNING_SECRET_ARN",),
)
REQUIREMENTS.check()

logger = Logger()
metrics = Metrics()

_NO_STORE = {"Cache-Control": "no-store"}
_PAGE_HEADERS = {
    **_NO_STORE,
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'",
    "X-Content-Type-Options": "nosniff",
}
_TITLES = {400: "Bad link", 403: "Link not available here", 404: "Link not found", 503: "Try again"}
_MAX_QUERY_FIELDS = 50

# This route's answers for docs/openapi.json (the other routes' come from their Event Handler).
ANSWERS = {
    302: "to the link's destination with the click id in its macros, or to the partner's fallback URL",
    400: "an HTML page: the query string or its parameters are not valid",
    403: "an HTML page: the referrer is blocked by the partner (and it has no fallback URL)",
    404: "an HTML page: no such link, or one not active (and its partner has no fallback URL)",
    503: "an HTML page: the link could not be read just now; try again",
}


def _page(status: int, message: str) -> dict[str, Any]:
    title = _TITLES[status]
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>{0}</title><h1>{0}</h1><p>{1}</p></html>"
    ).format(html.escape(title), html.escape(message))
    return {"statusCode": status, "headers": _PAGE_HEADERS, "body": body}


def _click_request(event: dict[str, Any]) -> ClickRequest:
    http = event["requestContext"]["http"]
    headers = event.get("headers") or {}
    query = parse_qs(
        event.get("rawQueryString", ""),
        keep_blank_values=True,
        strict_parsing=False,
        errors="strict",
        max_num_fields=_MAX_QUERY_FIELDS,
    )
    return ClickRequest(
        link_id=(event.get("pathParameters") or {}).get("link_id", ""),
        method=http["method"].upper(),
        query=query,
        source_ip=http.get("sourceIp", ""),
        user_agent=headers.get("user-agent", ""),
        referrer=headers.get("referer", ""),
    )


def _count(answer: ClickAnswer) -> None:
    if answer.partner_id is None:
        metrics.add_metric(name="UnroutedClicks", unit=MetricUnit.Count, value=1)
        return
    metrics.add_dimension(name="partner_id", value=answer.partner_id)
    counts = {
        "Clicks": answer.recorded or answer.unrecorded is not None,
        "UniqueClicks": answer.unique,
        "BotClicks": answer.bot,
        "BlockedClicks": answer.blocked,
        "RejectedMemberTokens": answer.member_token_rejected,
        "UnrecordedClicks": answer.unrecorded is not None,
    }
    for name, happened in counts.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1 if happened else 0)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        request = _click_request(event)
    except (UnicodeDecodeError, ValueError):
        metrics.add_metric(name="UnroutedClicks", unit=MetricUnit.Count, value=1)
        return _page(400, "The link's query string is not valid (UTF-8, at most 50 parameters).")
    try:
        answer = get_click_redirector().click(request)
    except StorageUnavailable as error:
        logger.error("click not served", link_id=request.link_id, reason=error.message)
        metrics.add_metric(name="UnroutedClicks", unit=MetricUnit.Count, value=1)
        return _page(503, "We could not open this offer just now. Please try again in a moment.")
    _count(answer)
    if answer.unrecorded is not None:
        logger.error("click redirected but not recorded", click=asdict(answer.unrecorded))
    else:
        logger.info(
            "click answered",
            link_id=request.link_id,
            outcome=answer.outcome,
            click_id=answer.click_id,
            unique=answer.unique,
            bot=answer.bot,
        )
    if answer.location is not None:
        return {"statusCode": 302, "headers": {**_NO_STORE, "Location": answer.location}, "body": ""}
    return _page(answer.status, answer.message)
