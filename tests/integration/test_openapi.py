"""docs/openapi.json is the contract: generated from the handlers and the template, valid OpenAPI 3.1,
committed current, complete (every route, every answer's body, the postback webhook), and served by the
local stack with its Swagger UI page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_spec_validator import validate
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from partnerpoints.http_errors import ERROR_CODES
from partnerpoints_infra.local import api_docs
from partnerpoints_infra.local.api_docs import DOCUMENT_PATH
from partnerpoints_infra.local.http_gateway import HttpGateway, routes_of
from partnerpoints_infra.openapi import build_document, render
from partnerpoints_infra.provision import LocalStack

METHODS = ("get", "head", "post", "put", "delete", "patch")


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DOCUMENT_PATH.read_text())
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_the_committed_document_is_what_the_code_and_template_describe(moto_stack: LocalStack) -> None:
    generated = render(build_document(moto_stack))
    assert generated == DOCUMENT_PATH.read_text(), (
        "docs/openapi.json is stale: run `.venv/bin/partnerpoints openapi` and commit it"
    )


def test_it_is_valid_openapi_3_1(committed: dict[str, Any]) -> None:
    validate(committed)
    assert committed["openapi"].startswith("3.1")


def test_every_route_of_the_template_and_no_other_is_documented(
    moto_stack: LocalStack, committed: dict[str, Any]
) -> None:
    routes = {(route.method.lower(), route.path) for route in routes_of(moto_stack)}
    assert {(method, path) for method, path, _ in _operations(committed)} == routes
    assert len(routes) >= 30


def test_each_route_says_who_may_call_it(moto_stack: LocalStack, committed: dict[str, Any]) -> None:
    for route in routes_of(moto_stack):
        operation = committed["paths"][route.path][route.method.lower()]
        schemes = {name for requirement in operation["security"] for name in requirement}
        if route.iam:
            assert schemes == {"operatorIam"}, route.route_key
        elif route.jwt is not None:
            assert schemes == {"memberJwt"}, route.route_key
        elif route.lambda_authorizer is not None:
            assert schemes == {"partnerApiKey"}, route.route_key
        elif route.path.startswith("/postbacks/"):
            assert schemes == {"partnerSignature" if route.method == "POST" else "partnerToken"}
        else:
            assert schemes == set(), route.route_key


def test_every_answer_has_a_documented_body_and_throttled_answers_say_when_to_retry(
    committed: dict[str, Any],
) -> None:
    for method, path, operation in _operations(committed):
        responses = operation["responses"]
        assert {"429", "500"} <= set(responses), (method, path)
        assert responses["429"]["headers"]["Retry-After"]
        for status, response in responses.items():
            if status == "302":
                assert "Location" in response["headers"]
                continue
            assert response.get("content"), (method, path, status)
        if path.startswith("/c/") or path == "/health":  # HTML answers; no data touched
            continue
        assert "503" in responses
        assert "Retry-After" in responses["503"]["headers"]
        assert "422" in responses


def test_the_error_body_enumerates_exactly_the_programs_codes(committed: dict[str, Any]) -> None:
    code = committed["components"]["schemas"]["ErrorInfo"]["properties"]["code"]
    assert code["enum"] == ERROR_CODES
    described = set()
    for _, _, operation in _operations(committed):
        for response in operation["responses"].values():
            text = response["description"]
            if text.startswith("error codes: "):
                described |= set(text.removeprefix("error codes: ").split("; ")[0].split(", "))
    assert described <= set(ERROR_CODES)
    assert {"insufficient_points", "impossible_transition", "invalid_signature"} <= described


def test_the_postback_contract_is_a_webhook_with_its_three_headers(committed: dict[str, Any]) -> None:
    webhook = committed["webhooks"]["orderPostback"]["post"]
    headers = {parameter["name"] for parameter in webhook["parameters"] if parameter["in"] == "header"}
    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    body = webhook["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/OrderPostback"}
    postback = committed["components"]["schemas"]["OrderPostback"]
    assert {"order_id", "status", "amount", "currency", "occurred_at"} <= set(postback["required"])
    assert "occurred_precision" not in postback["properties"]  # read from occurred_at, never sent
    assert {"200", "202", "401", "409", "503"} <= set(webhook["responses"])


def _get(gateway: HttpGateway, path: str) -> Any:
    return gateway.handle(Request(EnvironBuilder(path=path, method="GET").get_environ()))


def test_the_local_stack_serves_the_document_and_a_swagger_ui_page(moto_stack: LocalStack) -> None:
    gateway = HttpGateway(moto_stack, pool=None)  # type: ignore[arg-type]  # no function is called
    document = _get(gateway, "/openapi.json")
    assert document.status_code == 200
    assert json.loads(document.get_data()) == json.loads(DOCUMENT_PATH.read_text())
    page = _get(gateway, "/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/docs/swagger-ui-bundle.js" in html
    assert "http" not in html  # nothing from elsewhere: no CDN
    for asset in (*api_docs.ASSETS, "start.js"):
        served = _get(gateway, f"/docs/{asset}")
        assert served.status_code == 200, asset
        assert served.get_data()
    assert _get(gateway, "/docs/../template.yaml").status_code == 404


def test_request_bodies_carry_the_sample_events_as_examples(committed: dict[str, Any]) -> None:
    def examples(operation: dict[str, Any]) -> set[str]:
        return set(operation["requestBody"]["content"]["application/json"].get("examples", {}))

    assert examples(committed["paths"]["/admin/partners"]["post"]) == {"post-partner", "post-partner-invalid"}
    webhook = committed["webhooks"]["orderPostback"]["post"]
    assert {"post-order-pending", "post-order-approved"} <= examples(webhook)
    pending = webhook["requestBody"]["content"]["application/json"]["examples"]["post-order-pending"]
    assert pending["value"]["status"] == "pending"
