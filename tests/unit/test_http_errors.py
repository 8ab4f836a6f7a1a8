"""Every error leaves the API as the error body of docs/design.md, with the status its exception deserves."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, Field

import partnerpoints.exceptions
from partnerpoints.exceptions import (
    ConflictingEntry,
    InsufficientPoints,
    LedgerBusy,
    OrderConflict,
    OrderNotFound,
    PartnerNotFound,
    PartnerPointsError,
    StorageUnavailable,
)
from partnerpoints.http_api import create_http_app
from partnerpoints.http_errors import ERROR_CODES, ErrorBody, answers, status_of
from partnerpoints_infra.functions import LocalLambdaContext

app = create_http_app()


class Body(BaseModel):
    points: int = Field(gt=0)


@app.post("/things")
def create_thing(body: Body) -> dict[str, int]:
    return {"points": body.points}


@app.get("/off-contract")
def off_contract() -> Body:
    return {"points": -1}  # type: ignore[return-value]


@app.get("/raise/<name>")
def raise_named(name: str) -> dict[str, str]:
    errors: dict[str, Exception] = {
        "insufficient": InsufficientPoints(
            "m has 3 available points; this spend needs 5", [{"available": 3}]
        ),
        "conflict": ConflictingEntry("entry e already exists with different contents"),
        "busy": LedgerBusy("retry later"),
        "storage": StorageUnavailable("the click signing secret could not be read"),
        "unmapped": Unmapped("secret internals of a new error"),
        "bug": KeyError("secret internals"),
    }
    raise errors[name]


class Unmapped(PartnerPointsError):
    """A domain error someone forgot to map (defined here, so the hierarchy walk below skips it)."""

    code = "unmapped"


def call(
    method: str, path: str, body: str | None = None, content_type: str = "application/json"
) -> dict[str, Any]:
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": content_type},
        "requestContext": {
            "http": {"method": method, "path": path, "sourceIp": "192.0.2.1"},
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": False,
    }
    context = LocalLambdaContext(
        function_name="Test", memory_limit_in_mb=128, timeout_seconds=3, region="us-east-1"
    )
    return app.resolve(event, context)  # type: ignore[arg-type]


def error_of(response: dict[str, Any]) -> dict[str, Any]:
    body = json.loads(response["body"])
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("insufficient", 409, "insufficient_points"),
        ("conflict", 409, "conflicting_entry"),
        ("busy", 503, "ledger_busy"),
        ("storage", 503, "service_unavailable"),
        ("unmapped", 500, "internal_error"),
        ("bug", 500, "internal_error"),
    ],
)
def test_domain_errors_map_to_status_and_code(name: str, status: int, code: str) -> None:
    response = call("GET", f"/raise/{name}")
    assert response["statusCode"] == status
    assert error_of(response)["code"] == code


def test_unexpected_errors_reveal_nothing() -> None:
    response = call("GET", "/raise/bug")
    assert "secret internals" not in response["body"]
    assert "Traceback" not in response["body"]


def test_busy_tells_the_client_when_to_retry() -> None:
    assert call("GET", "/raise/busy")["headers"]["Retry-After"] == "1"


def test_invalid_fields_are_listed_by_path() -> None:
    response = call("POST", "/things", json.dumps({"points": -1}))
    assert response["statusCode"] == 422
    error = error_of(response)
    assert error["code"] == "invalid_request"
    assert [detail["path"] for detail in error["details"]] == ["body.points"]


def test_unknown_route_is_a_404_with_the_error_body() -> None:
    response = call("GET", "/nowhere")
    assert response["statusCode"] == 404
    assert error_of(response)["code"] == "route_not_found"


def _domain_errors(kind: type[PartnerPointsError]) -> list[type[PartnerPointsError]]:
    found = []
    for sub in kind.__subclasses__():
        if sub.__module__ == partnerpoints.exceptions.__name__:
            found += [sub, *_domain_errors(sub)]
    return found


@pytest.mark.parametrize("kind", _domain_errors(PartnerPointsError), ids=lambda kind: kind.__name__)
def test_every_domain_error_has_an_explicit_status(kind: type[PartnerPointsError]) -> None:
    status = status_of(kind.__new__(kind))
    assert status is not None
    assert 400 <= status < 600


def test_the_walk_sees_every_domain_error() -> None:
    assert len(_domain_errors(PartnerPointsError)) >= 25
    assert status_of(Unmapped("x")) is None


def test_a_storage_outage_says_when_to_retry() -> None:
    response = call("GET", "/raise/storage")
    assert response["headers"]["Retry-After"] == "1"
    assert "secret" in error_of(response)["message"]


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "application/octet-stream",
        "application/x-www-form-urlencoded",
        "multipart/form-data",  # without a boundary: Powertools' own parser failed with a 500
        "multipart/form-data; boundary=x",
    ],
)
def test_a_body_that_is_not_json_is_415_naming_its_content_type(content_type: str) -> None:
    response = call("POST", "/things", "points=5", content_type=content_type)
    assert response["statusCode"] == 415
    error = error_of(response)
    assert error["code"] == "unsupported_media_type"
    assert error["details"] == [
        {"path": "headers.content-type", "message": f"{content_type!r} is not accepted here"}
    ]


@pytest.mark.parametrize("kind", _domain_errors(PartnerPointsError), ids=lambda kind: kind.__name__)
def test_every_code_an_error_can_carry_is_enumerated(kind: type[PartnerPointsError]) -> None:
    assert set(kind.all_codes()) <= set(ERROR_CODES)


def test_framework_codes_are_enumerated_and_foreign_ones_are_not() -> None:
    assert {"invalid_request", "unsupported_media_type", "route_not_found", "internal_error"} <= set(
        ERROR_CODES
    )
    assert "unmapped" not in ERROR_CODES  # defined by this test module, not the program


def test_an_undeclared_precise_code_is_refused_where_it_is_raised() -> None:
    assert OrderConflict("x", code="impossible_transition").code == "impossible_transition"
    with pytest.raises(ValueError, match="does not declare the code 'made_up'"):
        OrderConflict("x", code="made_up")


def test_an_answer_off_its_model_is_our_500_not_the_callers_422() -> None:
    response = call("GET", "/off-contract")
    assert response["statusCode"] == 500
    assert error_of(response)["code"] == "internal_error"


def test_a_routes_answers_group_its_codes_by_status() -> None:
    documented = answers({201: "created", 200: "a repeat"}, PartnerNotFound, OrderNotFound, OrderConflict)
    assert sorted(documented) == [200, 201, 404, 409, 422, 500, 503]
    assert documented[201] == {"description": "created"}
    assert documented[404]["description"] == "error codes: partner_not_found, order_not_found"
    assert "impossible_transition" in documented[409]["description"]
    assert documented[503]["description"] == "error codes: service_unavailable"
    assert documented[409]["content"]["application/json"] == {"model": ErrorBody}
