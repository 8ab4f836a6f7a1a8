"""The local stack's pure parts: schedule expressions, route matching, answers to HTTP, token claims,
and the worker's Lambda error objects."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from partnerpoints_infra.local import worker
from partnerpoints_infra.local.authorizers import JwtAuthorizer, Unauthorized, create_token, verify
from partnerpoints_infra.local.http_gateway import Route, match_route, to_http
from partnerpoints_infra.local.schedules import UnsupportedSchedule, next_fire
from partnerpoints_infra.local.stream_pump import lambda_record

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("expression", "timezone", "expected"),
    [
        ("rate(5 minutes)", "UTC", datetime(2026, 11, 23, 12, 5, tzinfo=UTC)),
        ("rate(1 day)", "UTC", datetime(2026, 11, 24, 12, 0, tzinfo=UTC)),
        # 03:00 in Berlin is 02:00 UTC in November.
        ("cron(0 3 * * ? *)", "Europe/Berlin", datetime(2026, 11, 24, 2, 0, tzinfo=UTC)),
        # AWS counts weekdays 1-7 from Sunday: 6 is Friday.
        ("cron(30 9 ? * 6 *)", "UTC", datetime(2026, 11, 27, 9, 30, tzinfo=UTC)),
        ("cron(0 8 ? * MON-FRI *)", "UTC", datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),
        ("at(2026-12-01T00:00:00)", "UTC", datetime(2026, 12, 1, tzinfo=UTC)),
        ("at(2026-01-01T00:00:00)", "UTC", None),
    ],
)
def test_next_fire(expression: str, timezone: str, expected: datetime | None) -> None:
    assert next_fire(expression, NOON, timezone) == expected


@pytest.mark.parametrize("expression", ["cron(0 3 * * ?)", "cron(0 3 * * ? 2027)", "every day"])
def test_unsupported_schedules_are_named(expression: str) -> None:
    with pytest.raises(UnsupportedSchedule):
        next_fire(expression, NOON)


ROUTES = [
    Route("Api", "GET", "/c/{link_id}", "ClickFunction"),
    Route("Api", "ANY", "/c/{proxy+}", "CatchAllFunction"),
    Route("Api", "GET", "/c/special", "SpecialFunction"),
]


@pytest.mark.parametrize(
    ("method", "path", "function", "parameters"),
    [
        ("GET", "/c/special", "SpecialFunction", {}),
        ("GET", "/c/abc", "ClickFunction", {"link_id": "abc"}),
        ("HEAD", "/c/abc", "CatchAllFunction", {"proxy": "abc"}),
        ("GET", "/c/a/b", "CatchAllFunction", {"proxy": "a/b"}),
    ],
)
def test_routes_match_as_api_gateway_prefers(
    method: str, path: str, function: str, parameters: dict[str, str]
) -> None:
    found = match_route(ROUTES, method, path)
    assert found is not None
    assert (found[0].function, found[1]) == (function, parameters)


def test_no_route_no_match() -> None:
    assert match_route(ROUTES, "GET", "/d/abc") is None
    assert match_route(ROUTES, "GET", "/c") is None


def test_answers_without_status_code_are_json_documents() -> None:
    response = to_http(["a", 1])
    assert (response.status_code, response.get_data(), response.mimetype) == (
        200,
        b'["a", 1]',
        "application/json",
    )


def test_a_malformed_answer_is_a_gateway_500() -> None:
    assert to_http({"statusCode": "teapot"}).status_code == 500
    assert to_http({"statusCode": 999}).status_code == 500


def test_redirect_answers_keep_their_headers_and_no_body() -> None:
    response = to_http({"statusCode": 302, "headers": {"Location": "https://shop.example/p?x=1"}})
    assert response.status_code == 302
    assert response.headers["location"] == "https://shop.example/p?x=1"
    assert response.get_data() == b""
    assert "content-type" not in response.headers


AUTHORIZER = JwtAuthorizer("Members", "https://issuer.example/", ("app",), "authorization")


def test_claims_reach_the_function_as_strings() -> None:
    issued = int(time.time()) - 60
    token = create_token(AUTHORIZER, "alice", ["read", "write"], now=issued)
    context = verify(AUTHORIZER, {"authorization": token}, [])  # the Bearer prefix is optional
    claims = context["jwt"]["claims"]
    assert claims["sub"] == "alice"
    assert claims["iat"] == str(issued)
    assert context["jwt"]["scopes"] == ["read", "write"]


def test_a_token_for_another_issuer_is_refused() -> None:
    other = JwtAuthorizer("Other", "https://elsewhere.example/", ("app",), "authorization")
    with pytest.raises(Unauthorized):
        verify(AUTHORIZER, {"authorization": f"Bearer {create_token(other, 'alice', [])}"}, [])


def test_stream_records_are_delivered_as_lambda_does() -> None:
    record = {
        "eventName": "INSERT",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 11, 23, tzinfo=UTC),
            "NewImage": {"blob": {"B": b"\x00\xff"}, "set": {"BS": [b"\x01"]}},
            "SequenceNumber": "100",
        },
    }
    delivered = lambda_record(record, "arn:stream")
    assert delivered["eventSourceARN"] == "arn:stream"
    assert delivered["dynamodb"]["ApproximateCreationDateTime"] == int(
        datetime(2026, 11, 23, tzinfo=UTC).timestamp()
    )
    assert base64.b64decode(delivered["dynamodb"]["NewImage"]["blob"]["B"]) == b"\x00\xff"
    json.dumps(delivered)  # all of it serialisable


def test_worker_reports_import_and_handler_errors_as_lambda_does() -> None:
    handler, error = worker._load_handler("no_such_module_here.handler")
    assert handler is None
    assert error is not None
    assert error["errorType"] == "Runtime.ImportModuleError"
    handler, error = worker._load_handler("json.no_such_handler")
    assert error is not None
    assert error["errorType"] == "Runtime.HandlerNotFound"


def test_worker_reports_unserialisable_answers() -> None:
    request: dict[str, Any] = {
        "event": {},
        "function_name": "F",
        "invoked_function_arn": "arn",
        "memory_mb": 128,
        "request_id": "r-1",
        "deadline_ms": 0,
    }
    answer = worker._run(lambda event, context: {"when": datetime.now(UTC)}, request)
    assert answer["ok"] is False
    assert answer["payload"]["errorType"] == "Runtime.MarshalError"
    crashed = worker._run(lambda event, context: 1 / 0, request)
    assert crashed["payload"]["errorType"] == "ZeroDivisionError"
