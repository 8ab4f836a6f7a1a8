"""docs/openapi.json, the HTTP API's contract, generated: each function's routes as its Powertools Event
Handler describes them (parameters, bodies, answers), put together with what the template decides for
every route (who may call it, how it is throttled, what API Gateway answers itself), the click route's
HTML/302 answers, and the postback contract as a `webhooks` entry.

`partnerpoints openapi` writes the document; `partnerpoints openapi --check` fails when the committed
one differs from what the code and the template describe now (a test runs it in `make test`).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

from moto import mock_aws
from openapi_spec_validator import validate

from partnerpoints import __version__
from partnerpoints.logic.postbacks import QUERY_FIELDS
from partnerpoints.models.orders import OrderPostback
from partnerpoints_infra.functions import cold_start
from partnerpoints_infra.local.api_docs import DOCUMENT_PATH
from partnerpoints_infra.local.http_gateway import Route, routes_of
from partnerpoints_infra.provision import LocalStack, provision
from partnerpoints_infra.template import PROJECT_ROOT

CLICK_FUNCTION = "ClickRedirectFunction"
SCHEMAS = "#/components/schemas/"
TITLE = "Partner Points HTTP API"
STRING = {"type": "string"}

SECURITY_SCHEMES: dict[str, Any] = {
    "operatorIam": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "Operators: requests signed with AWS Signature Version 4 by an IAM principal allowed "
        "execute-api:Invoke on the operator routes. (The local stack also accepts unsigned requests here.)",
        "x-amazon-apigateway-authtype": "awsSigv4",
    },
    "memberJwt": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Members, through the program's app: a JWT of the configured issuer and audience. "
        "Its `sub` is the member id; a token with the `admin` scope may act for any member.",
    },
    "partnerSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "webhook-signature",
        "description": "Partners' platforms: Standard Webhooks signing with the partner's whsec_ secret "
        "(webhook-id, webhook-timestamp and webhook-signature headers; see the orderPostback webhook).",
    },
    "partnerApiKey": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "ppk_<key id>_<secret>",
        "description": "Partners reading their own numbers: an API key the operator issued for the partner "
        "(`Authorization: Bearer ppk_...`). A key reads only its own partner's data.",
    },
    "partnerToken": {
        "type": "apiKey",
        "in": "query",
        "name": "token",
        "description": "Partners whose platform can only call a URL: the partner's postback token.",
    },
}

GATEWAY_MESSAGE = {
    "title": "GatewayMessage",
    "description": "An answer API Gateway gives itself, before or instead of the function.",
    "type": "object",
    "properties": {"message": {"type": "string"}},
    "required": ["message"],
}
RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "string"}}
}


def _http_functions(routes: list[Route]) -> list[str]:
    return sorted({route.function for route in routes} - {CLICK_FUNCTION})


def _function_documents(stack: LocalStack, functions: list[str]) -> dict[str, dict[str, Any]]:
    documents = {}
    for logical_id in functions:
        variables = {
            **stack.runtime_environment(logical_id),
            "AWS_LAMBDA_FUNCTION_NAME": logical_id,
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        module = cold_start(stack, logical_id, variables)
        schema = module.app.get_openapi_schema(title=TITLE, security_schemes=SECURITY_SCHEMES)
        document = schema.model_dump(mode="json", by_alias=True, exclude_none=True)
        for item in document.get("paths", {}).values():
            for operation in item.values():
                # Powertools documents its validation errors with its own bodies; ours are ErrorBodies.
                for status, code in (("422", "invalid_request"), ("500", "internal_error")):
                    operation["responses"][status] = {
                        "description": f"error codes: {code}",
                        "content": {"application/json": {"schema": {"$ref": f"{SCHEMAS}ErrorBody"}}},
                    }
        documents[logical_id] = document
    return documents


def _merge_schemas(target: dict[str, Any], schemas: dict[str, Any], source: str) -> None:
    for name, schema in schemas.items():
        if name in target and target[name] != schema:
            raise ValueError(f"two different schemas are named {name} (the second from {source})")
        target[name] = schema


def _answer(operation: dict[str, Any], status: int, description: str, schema: dict[str, Any]) -> None:
    """Add an answer to an operation; where the function gives the same status, either body may come."""
    responses = operation.setdefault("responses", {})
    key = str(status)
    if key not in responses:
        responses[key] = {"description": description, "content": {"application/json": {"schema": schema}}}
        return
    existing = responses[key]
    current = existing.get("content", {}).get("application/json", {}).get("schema")
    if current is None or current == schema:
        return
    options = current.get("anyOf", [current])
    existing["content"]["application/json"]["schema"] = {"anyOf": [*options, schema]}
    existing["description"] = f"{existing['description']}; or {description}"


def _throttles(stack: LocalStack) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    api = stack.sam_template["Resources"]["HttpApi"]["Properties"]
    return api.get("DefaultRouteSettings", {}), api.get("RouteSettings", {})


def _apply_template(operation: dict[str, Any], route: Route, stack: LocalStack) -> None:
    """What the template decides for this route: who may call it, its throttle, API Gateway's answers."""
    gateway = {"$ref": f"{SCHEMAS}GatewayMessage"}
    if route.iam:
        operation["security"] = [{"operatorIam": []}]
        _answer(operation, 403, "API Gateway: the request is not signed by an allowed IAM principal", gateway)
    elif route.jwt is not None:
        operation["security"] = [{"memberJwt": list(route.scopes)}]
        _answer(operation, 401, "API Gateway: no token, or one that does not verify", gateway)
    elif route.lambda_authorizer is not None:
        operation["security"] = [{"partnerApiKey": []}]
        _answer(operation, 401, "API Gateway: no Authorization header", gateway)
    elif route.path.startswith("/postbacks/"):
        operation["security"] = [{"partnerSignature" if route.method == "POST" else "partnerToken": []}]
    else:
        operation["security"] = []
    default, per_route = _throttles(stack)
    limits = per_route.get(route.route_key, default)
    operation["x-throttling"] = {
        "rate_per_second": limits["ThrottlingRateLimit"],
        "burst": limits["ThrottlingBurstLimit"],
    }
    _answer(operation, 429, "API Gateway: the route's throttle (x-throttling) is exceeded", gateway)
    if "{" in route.path and not route.path.startswith("/c/"):
        # A path parameter holding "/" or characters the route's pattern does not take.
        _answer(operation, 404, "API Gateway: no route matches this path", gateway)
        _answer(operation, 404, "error codes: route_not_found", {"$ref": f"{SCHEMAS}ErrorBody"})
    _answer(operation, 500, "API Gateway: the function failed or timed out", gateway)
    if "requestBody" in operation:
        _answer(operation, 413, "API Gateway: the body is over 10 MB", gateway)
        if not route.path.startswith("/postbacks/"):  # read as raw bytes, whatever their type
            _answer(operation, 415, "error codes: unsupported_media_type", {"$ref": f"{SCHEMAS}ErrorBody"})
    for status in ("429", "503"):
        if status in operation["responses"]:
            operation["responses"][status]["headers"] = RETRY_AFTER


def _body_examples(route: Route) -> dict[str, Any]:
    """The route's sample events (events/<Function>/*.json, which the tests and `make invoke-*` run) as
    request examples, valid and invalid ones alike, named by their file."""
    examples = {}
    for path in sorted((PROJECT_ROOT / "events" / route.function).glob("*.json")):
        event = json.loads(path.read_text())
        if event.get("routeKey") != route.route_key or not event.get("body") or event.get("isBase64Encoded"):
            continue
        try:
            examples[path.stem] = {"summary": path.stem.replace("-", " "), "value": json.loads(event["body"])}
        except ValueError:
            continue
    return examples


def _click_operation(stack: LocalStack, route: Route) -> dict[str, Any]:
    variables = {**stack.runtime_environment(CLICK_FUNCTION), "AWS_LAMBDA_FUNCTION_NAME": CLICK_FUNCTION}
    answers = cold_start(stack, CLICK_FUNCTION, variables).ANSWERS
    html = {"text/html": {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {}
    for status, description in answers.items():
        if status == 302:
            responses["302"] = {
                "description": description,
                "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
            }
        else:
            responses[str(status)] = {"description": description, "content": html}
    return {
        "tags": ["clicks"],
        "summary": "Follow a tracking link (HEAD: what a link preview sees, no click recorded as a visit)",
        "operationId": f"click_{route.method.lower()}",
        "parameters": [
            {"name": "link_id", "in": "path", "required": True, "schema": {"type": "string"}},
            {
                "name": "m",
                "in": "query",
                "required": False,
                "description": "the member's signed token (a member's personal link)",
                "schema": {"type": "string"},
            },
            {
                "name": "sub1",
                "in": "query",
                "required": False,
                "description": "sub ids sub1..sub5: the affiliate's own tracking values, passed on",
                "schema": {"type": "string"},
            },
        ],
        "responses": responses,
    }


def _scalar(schema: dict[str, Any]) -> dict[str, Any]:
    """A body field's schema as a query parameter's: a string, the null alternative dropped."""
    options = [option for option in schema.get("anyOf", [schema]) if option.get("type") != "null"]
    found = options[0] if len(options) == 1 else {"type": "string"}
    return {**found, "type": "string"} if "$ref" not in found else found


def _postback_webhook(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """The contract a partner's platform implements: what it sends us, signed, and what it gets back."""
    body = OrderPostback.model_json_schema(ref_template=SCHEMAS + "{model}", mode="validation")
    for name, schema in body.pop("$defs", {}).items():
        _merge_schemas(schemas, {name: schema}, "OrderPostback")
    # Read from occurred_at's own text; a value sent in the body is ignored.
    body["properties"].pop("occurred_precision", None)
    body["example"] = {
        "order_id": "A-1001",
        "click_id": "c_01JD8X3N0Q7V6M4Q6T1R2S3K4P",
        "status": "pending",
        "amount": "84.90",
        "currency": "EUR",
        "occurred_at": "2026-11-30T10:15:00+01:00",
        "items": [{"sku": "SKU-1", "category": "shoes", "amount": "84.90", "quantity": 1}],
    }
    schemas["OrderPostback"] = body
    # The GET form carries the same fields as query parameters (occurred_at defaults to the receipt).
    unsigned = paths["/postbacks/{partner_id}"]["get"]
    unsigned["parameters"] = [
        *unsigned.get("parameters", []),
        *(
            {
                "name": name,
                "in": "query",
                "required": name in body["required"] and name != "occurred_at",
                "schema": _scalar(body["properties"][name]),
            }
            for name in QUERY_FIELDS
        ),
    ]
    operation = paths["/postbacks/{partner_id}"]["post"]
    operation["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"{SCHEMAS}OrderPostback"}}},
    }
    headers = [
        ("webhook-id", "the delivery's id: the same on every retry of one delivery"),
        ("webhook-timestamp", "seconds since the epoch; refused when more than 5 minutes off"),
        ("webhook-signature", "v1,<base64 HMAC-SHA256 of id.timestamp.body>, space-separated"),
    ]
    webhook = {
        "summary": "An order postback: the partner's platform tells us about an order",
        "description": "Sent by the partner's platform to POST /postbacks/{partner_id} whenever an order is "
        "created or changes status (pending, approved, rejected, refunded; a partial refund carries "
        "refunded_amount). Signed with the Standard Webhooks scheme and the partner's whsec_ secret. "
        "A 2xx means it is recorded; retry on 429, 503 and network errors with the same webhook-id.",
        "parameters": [
            {"name": name, "in": "header", "required": True, "description": text, "schema": STRING}
            for name, text in headers
        ],
        "requestBody": copy.deepcopy(operation["requestBody"]),
        "responses": copy.deepcopy(operation["responses"]),
    }
    return {"orderPostback": {"post": webhook}}


def build_document(stack: LocalStack) -> dict[str, Any]:
    routes = routes_of(stack)
    documents = _function_documents(stack, _http_functions(routes))
    by_function = {
        logical_id: {
            (method.upper(), path): operation
            for path, item in document.get("paths", {}).items()
            for method, operation in item.items()
        }
        for logical_id, document in documents.items()
    }
    schemas: dict[str, Any] = {"GatewayMessage": GATEWAY_MESSAGE}
    for logical_id, document in documents.items():
        _merge_schemas(schemas, document.get("components", {}).get("schemas", {}), logical_id)
    paths: dict[str, Any] = {}
    for route in routes:
        if route.function == CLICK_FUNCTION:
            operation = _click_operation(stack, route)
        else:
            found = by_function[route.function].pop((route.method, route.path), None)
            if found is None:
                raise ValueError(f"{route.route_key} goes to {route.function}, which has no such route")
            operation = found
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    unrouted = [f"{key} of {fn}" for fn, operations in by_function.items() for key in operations]
    if unrouted:
        raise ValueError(f"routes no template route reaches: {unrouted}")
    webhooks = _postback_webhook(paths, schemas)
    for route in routes:
        operation = paths[route.path][route.method.lower()]
        examples = _body_examples(route)
        if examples and "requestBody" in operation:
            operation["requestBody"]["content"]["application/json"]["examples"] = examples
        _apply_template(operation, route, stack)
    signed = paths["/postbacks/{partner_id}"]["post"]
    webhooks["orderPostback"]["post"]["requestBody"] = copy.deepcopy(signed["requestBody"])
    webhooks["orderPostback"]["post"]["responses"] = copy.deepcopy(signed["responses"])
    # Powertools' own validation error bodies; ours (ErrorBody) replace them on every route.
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": __version__,
            "description": "Clicks, partners' order postbacks, members' points and promo codes, and the "
            "operators' routes of the Partner Points program. Every error the program answers itself "
            "is an ErrorBody with a stable `code`; answers API Gateway gives itself are GatewayMessages.",
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "webhooks": webhooks,
        "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": SECURITY_SCHEMES},
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def generate() -> str:
    """The document as the code and the template describe it now, validated against OpenAPI 3.1."""
    with mock_aws():
        stack = provision()
        document = build_document(stack)
    validate(document)
    return render(document)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="partnerpoints openapi", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when the committed document is stale")
    parser.add_argument("--output", type=Path, default=DOCUMENT_PATH)
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        if not args.output.exists() or args.output.read_text() != text:
            print(f"{args.output} is stale: run `partnerpoints openapi` and commit it", file=sys.stderr)
            return 1
        print(f"{args.output} matches the code and the template")
        return 0
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0
