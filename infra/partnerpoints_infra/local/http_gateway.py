"""API Gateway HTTP APIs, locally: the routes of every AWS::ApiGatewayV2::Api in the translated template
(its OpenAPI body, as API Gateway itself reads it), payload format 2.0 events in, HTTP answers out.

Answers the gateway gives itself (no route, authorizer refusals, a failed function) use API Gateway's
own `{"message": ...}` bodies, so clients meet locally what they will meet in AWS.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request, Response

from partnerpoints_infra.local import api_docs
from partnerpoints_infra.local.authorizers import (
    Forbidden,
    JwtAuthorizer,
    Unauthorized,
    local_admin,
    verify,
)
from partnerpoints_infra.local.function_pool import FunctionPool
from partnerpoints_infra.provision import LOCAL_ACCOUNT_ID, LocalStack
from partnerpoints_infra.template import resources_of_type

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's request limit
_FUNCTION_IN_URI = re.compile(
    r"/functions/arn:[^:]+:lambda:[^:]+:[^:]+:function:([^/:]+)(?::[^/]*)?/invocations$"
)
_TEXT_TYPES = re.compile(r"^(text/.*|application/(json|xml|javascript|[\w.+-]*\+(json|xml)))$")
ANY_METHOD = "ANY"


@dataclass(frozen=True)
class LambdaAuthorizer:
    """A REQUEST authorizer (payload 2.0, simple responses): its function, the headers it is given as
    identity, and how long API Gateway keeps its answer per identity."""

    name: str
    function: str
    identity_headers: tuple[str, ...]  # lower-cased, from "$request.header.Authorization"
    ttl_seconds: int


@dataclass(frozen=True)
class Route:
    api: str
    method: str  # GET, POST, ... or ANY
    path: str  # as declared: /c/{link_id}, /admin/{proxy+}
    function: str
    jwt: JwtAuthorizer | None = None
    scopes: tuple[str, ...] = ()
    iam: bool = False
    lambda_authorizer: LambdaAuthorizer | None = None

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def pattern(self) -> re.Pattern[str]:
        parts = []
        for segment in self.path.strip("/").split("/"):
            if segment.startswith("{") and segment.endswith("+}"):
                parts.append(f"(?P<{_group(segment[1:-2])}>.+)")
            elif segment.startswith("{") and segment.endswith("}"):
                parts.append(f"(?P<{_group(segment[1:-1])}>[^/]+)")
            else:
                parts.append(re.escape(segment))
        return re.compile("^/" + "/".join(parts) + "$")

    def parameter_names(self) -> dict[str, str]:
        names = re.findall(r"\{([^}]+?)\+?\}", self.path)
        return {_group(name): name for name in names}

    def specificity(self) -> tuple[int, int, int]:
        # API Gateway prefers literal segments, then plain parameters over greedy ones, then a method.
        segments = self.path.strip("/").split("/")
        literal = sum(not segment.startswith("{") for segment in segments)
        greedy = any(segment.endswith("+}") for segment in segments)
        return (literal, 0 if greedy else 1, 0 if self.method == ANY_METHOD else 1)


def _group(name: str) -> str:
    return re.sub(r"\W", "_", name)


def _authorizers(stack: LocalStack, body: dict[str, Any]) -> dict[str, JwtAuthorizer | LambdaAuthorizer]:
    found: dict[str, JwtAuthorizer | LambdaAuthorizer] = {}
    for name, scheme in body.get("components", {}).get("securitySchemes", {}).items():
        config = scheme.get("x-amazon-apigateway-authorizer", {})
        if config.get("type") == "request":
            match = _FUNCTION_IN_URI.search(stack.resolve(config["authorizerUri"]))
            if match is None:
                continue
            sources = config.get("identitySource", [])
            found[name] = LambdaAuthorizer(
                name=name,
                function=match.group(1),
                identity_headers=tuple(
                    str(source).rsplit(".", 1)[-1].lower()
                    for source in (sources if isinstance(sources, list) else str(sources).split(","))
                ),
                ttl_seconds=int(config.get("authorizerResultTtlInSeconds", 0)),
            )
            continue
        if config.get("type") != "jwt":
            continue
        jwt_config = config["jwtConfiguration"]
        source = str(config.get("identitySource", "$request.header.Authorization"))
        found[name] = JwtAuthorizer(
            name=name,
            issuer=stack.resolve(jwt_config["issuer"]),
            audience=tuple(stack.resolve(value) for value in jwt_config.get("audience", [])),
            identity_header=source.rsplit(".", 1)[-1].lower(),
        )
    return found


def routes_of(stack: LocalStack) -> list[Route]:
    """Every route of every HTTP API in the template, with its function and authorization."""
    routes = []
    for api, resource in resources_of_type(stack.template, "AWS::ApiGatewayV2::Api").items():
        body = resource["Properties"].get("Body", {})
        authorizers = _authorizers(stack, body)
        for path, methods in body.get("paths", {}).items():
            for method, operation in methods.items():
                integration = operation.get("x-amazon-apigateway-integration", {})
                match = _FUNCTION_IN_URI.search(stack.resolve(integration.get("uri", "")))
                if match is None:
                    continue
                route = Route(
                    api=api,
                    method=ANY_METHOD if method == "x-amazon-apigateway-any-method" else method.upper(),
                    path=path,
                    function=match.group(1),
                )
                for requirement in operation.get("security", []):
                    for scheme, scopes in requirement.items():
                        if scheme == "AWS_IAM":
                            route = replace(route, iam=True)
                        elif isinstance(authorizer := authorizers.get(scheme), LambdaAuthorizer):
                            route = replace(route, lambda_authorizer=authorizer)
                        elif isinstance(authorizer, JwtAuthorizer):
                            route = replace(route, jwt=authorizer, scopes=tuple(scopes))
                routes.append(route)
    return sorted(routes, key=lambda route: (route.path, route.method))


def match_route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    candidates = []
    for route in routes:
        if route.method not in (method, ANY_METHOD):
            continue
        found = route.pattern.match(path)
        if found:
            names = route.parameter_names()
            candidates.append((route, {names[group]: value for group, value in found.groupdict().items()}))
    if not candidates:
        return None
    return max(candidates, key=lambda candidate: candidate[0].specificity())


def _gateway_answer(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps({"message": message}), status, headers, content_type="application/json")


def _headers(request: Request) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        if key == "cookie":
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return headers


def build_event(
    request: Request, route: Route, parameters: dict[str, str], authorizer: dict[str, Any] | None
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway would send for `request`."""
    now = datetime.now(UTC)
    raw_query = request.query_string.decode("latin-1")
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    headers = _headers(request)
    # API Gateway adds these; functions read the caller's scheme and address from them.
    headers.setdefault("x-forwarded-for", request.remote_addr or "127.0.0.1")
    headers.setdefault("x-forwarded-proto", request.scheme)
    headers.setdefault("x-forwarded-port", str(request.environ.get("SERVER_PORT", "")))
    host = headers.get("host", "localhost")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT_ID,
            "apiId": route.api.lower(),
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    cookies = [cookie.strip() for cookie in request.headers.get("cookie", "").split(";") if cookie.strip()]
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if parameters:
        event["pathParameters"] = parameters
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    body = request.get_data(cache=False)
    if body:
        content_type = (request.mimetype or "").lower()
        if _TEXT_TYPES.match(content_type):
            event["body"] = body.decode("utf-8", errors="replace")
        else:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


def to_http(result: Any) -> Response:
    """Turn a handler's answer into HTTP the way payload format 2.0 does."""
    if not (isinstance(result, dict) and "statusCode" in result):
        # Without a statusCode, API Gateway sends whatever was returned as a 200 JSON document.
        return Response(json.dumps(result), 200, content_type="application/json")
    status = result["statusCode"]
    if not isinstance(status, int) or not 100 <= status <= 599:
        return _gateway_answer(500, "Internal Server Error")
    body: str | bytes = result.get("body") or ""
    if result.get("isBase64Encoded") and body:
        body = base64.b64decode(body)
    response = Response(body, status)
    response.headers.remove("content-type")
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(name, str(value))
    for cookie in result.get("cookies") or []:
        response.headers.add("set-cookie", cookie)
    if "content-type" not in response.headers and body:
        response.headers["content-type"] = "application/json"
    return response


class HttpGateway:
    """A WSGI application serving every route of the template's HTTP APIs."""

    def __init__(self, stack: LocalStack, pool: FunctionPool) -> None:
        self.routes = routes_of(stack)
        self._pool = pool
        # (authorizer, identity values) -> (monotonic expiry, its context), as API Gateway caches them.
        self._authorized: dict[tuple[str, tuple[str, ...]], tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def _authorize(
        self, route: Route, headers: dict[str, str], event: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The route's `requestContext.authorizer`; raises Unauthorized or Forbidden, or RuntimeError
        when a Lambda authorizer fails (API Gateway answers 500)."""
        if route.jwt is not None:
            return verify(route.jwt, headers, list(route.scopes))
        if route.iam:
            return local_admin(headers, LOCAL_ACCOUNT_ID)
        if route.lambda_authorizer is not None:
            return {"lambda": self._ask_authorizer(route.lambda_authorizer, headers, event)}
        return None

    def _authorized_into(
        self, event: dict[str, Any], route: Route, headers: dict[str, str]
    ) -> Response | None:
        """Sets the event's `requestContext.authorizer`, or answers as API Gateway refuses."""
        try:
            authorizer = self._authorize(route, headers, event)
        except Unauthorized as refused:
            if route.lambda_authorizer is not None:
                return _gateway_answer(401, "Unauthorized")
            challenge = f'Bearer error="invalid_token" error_description="{refused}"'
            return _gateway_answer(401, "Unauthorized", {"www-authenticate": challenge})
        except Forbidden:
            return _gateway_answer(403, "Forbidden")
        except RuntimeError:
            return _gateway_answer(500, "Internal Server Error")  # the authorizer failed
        if authorizer is not None:
            event["requestContext"]["authorizer"] = authorizer
        return None

    def _ask_authorizer(
        self, authorizer: LambdaAuthorizer, headers: dict[str, str], event: dict[str, Any]
    ) -> dict[str, Any]:
        identity = tuple(headers.get(name, "") for name in authorizer.identity_headers)
        if not all(identity):
            raise Unauthorized("no identity")  # API Gateway answers 401 without calling the function
        cache_key = (authorizer.name, identity)
        with self._lock:
            cached = self._authorized.get(cache_key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        request_context = event["requestContext"]
        route_arn = (
            f"arn:aws:execute-api:us-east-1:{LOCAL_ACCOUNT_ID}:{request_context['apiId']}/$default/"
            f"{request_context['http']['method']}{event['rawPath']}"
        )
        question = {
            **{key: value for key, value in event.items() if key not in ("body", "isBase64Encoded")},
            "type": "REQUEST",
            "routeArn": route_arn,
            "identitySource": list(identity),
        }
        result = self._pool.invoke(authorizer.function, question)
        answer = result.payload if result.ok and isinstance(result.payload, dict) else None
        if answer is None or not isinstance(answer.get("isAuthorized"), bool):
            raise RuntimeError(f"authorizer {authorizer.name} failed")
        if not answer["isAuthorized"]:
            raise Forbidden()
        context = dict(answer.get("context") or {})
        if authorizer.ttl_seconds:
            with self._lock:
                self._authorized[cache_key] = (time.monotonic() + authorizer.ttl_seconds, context)
        return context

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self.handle(request)
        response.headers["apigw-requestid"] = str(uuid.uuid4())
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        if (request.content_length or 0) > MAX_PAYLOAD_BYTES:
            return _gateway_answer(413, "Request Entity Too Large")
        found = match_route(self.routes, request.method, request.path)
        if found is None:
            return api_docs.answer(request) or _gateway_answer(404, "Not Found")
        route, parameters = found
        event = build_event(request, route, parameters, None)
        refusal = self._authorized_into(event, route, _headers(request))
        if refusal is not None:
            return refusal
        try:
            result = self._pool.invoke(route.function, event)
        except RuntimeError:
            # No execution environment could be started (or the stack is stopping): as a Lambda
            # service error, API Gateway answers 500.
            return _gateway_answer(500, "Internal Server Error")
        return to_http(result.payload) if result.ok else _gateway_answer(500, "Internal Server Error")
