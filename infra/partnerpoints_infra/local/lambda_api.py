"""The Lambda Invoke API, locally (what `sam local start-lambda` serves): `aws lambda invoke
--endpoint-url ...` and `boto3.client("lambda", endpoint_url=...).invoke(...)` run the template's
functions. Also ListFunctions and GetFunction, so tools can discover them.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from partnerpoints_infra.local.function_pool import FunctionPool, InvocationResult
from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import resources_of_type

_INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
_FUNCTION = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/?$")
_NAME_IN_ARN = re.compile(r"^arn:[^:]+:lambda:[^:]+:[^:]+:function:(?P<name>[^:]+)(?::[^:]+)?$")

ASYNC_ATTEMPTS = 3
ASYNC_RETRY_DELAY_SECONDS = 1.0  # AWS waits a minute, then two; locally the wait is short

AsyncFailureHandler = Callable[[str, Any, InvocationResult], None]


def _error(status: int, error_type: str, message: str) -> Response:
    body = json.dumps({"Type": "User", "message": message})
    return Response(body, status, {"x-amzn-ErrorType": error_type}, content_type="application/json")


class LambdaApi:
    """A WSGI application speaking the Lambda API's REST protocol (version 2015-03-31)."""

    def __init__(self, pool: FunctionPool, on_async_failure: AsyncFailureHandler) -> None:
        self._pool = pool
        self._on_async_failure = on_async_failure

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.handle(Request(environ))(environ, start_response)

    def _function_name(self, raw: str) -> str | None:
        arn = _NAME_IN_ARN.match(raw)
        name = arn.group("name") if arn else raw
        return name if name in self._pool.specs else None

    def _configuration(self, name: str) -> dict[str, Any]:
        spec = self._pool.specs[name]
        return {
            "FunctionName": name,
            "FunctionArn": self._pool.arn(name),
            "Handler": spec.handler_path,
            "MemorySize": spec.memory_mb,
            "Timeout": spec.timeout_seconds,
            "Version": "$LATEST",
        }

    def handle(self, request: Request) -> Response:
        if request.method == "GET" and request.path.rstrip("/") == "/2015-03-31/functions":
            functions = [self._configuration(name) for name in sorted(self._pool.specs)]
            return Response(json.dumps({"Functions": functions}), 200, content_type="application/json")
        route = _INVOKE.match(request.path) if request.method == "POST" else _FUNCTION.match(request.path)
        if route is None:
            return _error(
                404, "UnknownOperationException", f"{request.method} {request.path} is not served here"
            )
        name = self._function_name(route.group("name"))
        if name is None:
            message = f"Function not found: {route.group('name')}"
            return _error(404, "ResourceNotFoundException", message)
        if request.method == "GET":
            body = {"Configuration": self._configuration(name)}
            return Response(json.dumps(body), 200, content_type="application/json")
        return self._invoke(request, name)

    def _invoke(self, request: Request, name: str) -> Response:
        raw = request.get_data()
        try:
            event = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return _error(400, "InvalidRequestContentException", "Could not parse request body into json")
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        headers = {"X-Amz-Executed-Version": "$LATEST"}
        if invocation_type == "DryRun":
            return Response(b"", 204, headers)
        if invocation_type == "Event":
            threading.Thread(target=self._invoke_async, args=(name, event), daemon=True).start()
            return Response(b"", 202, headers)
        if invocation_type != "RequestResponse":
            return _error(400, "InvalidParameterValueException", f"unknown invocation type {invocation_type}")
        try:
            result = self._pool.invoke(name, event, request.headers.get("X-Amz-Client-Context"))
        except RuntimeError as error:
            return _error(500, "ServiceException", str(error))
        if not result.ok:
            headers["X-Amz-Function-Error"] = result.function_error or "Unhandled"
        if request.headers.get("X-Amz-Log-Type") == "Tail":
            headers["X-Amz-Log-Result"] = base64.b64encode(result.log_tail().encode()).decode()
        return Response(json.dumps(result.payload), 200, headers, content_type="application/json")

    def _invoke_async(self, name: str, event: Any) -> None:
        # Lambda retries a failed asynchronous invocation twice, then hands it to the failure destination.
        for attempt in range(ASYNC_ATTEMPTS):
            result = self._pool.invoke(name, event)
            if result.ok:
                return
            if attempt + 1 < ASYNC_ATTEMPTS:
                time.sleep(ASYNC_RETRY_DELAY_SECONDS * (attempt + 1))
        self._on_async_failure(name, event, result)


def async_failure_destinations(stack: LocalStack) -> dict[str, str]:
    """Function name -> the ARN of its asynchronous invocations' on-failure destination (the template's
    AWS::Lambda::EventInvokeConfig, which SAM makes from a function's EventInvokeConfig)."""
    destinations = {}
    for resource in resources_of_type(stack.template, "AWS::Lambda::EventInvokeConfig").values():
        properties = resource["Properties"]
        destination = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if destination:
            destinations[stack.resolve(properties["FunctionName"])] = stack.resolve(destination)
    return destinations


def invocation_record(
    function_arn: str, event: Any, result: InvocationResult, attempts: int
) -> dict[str, Any]:
    """The message Lambda sends to an on-failure destination of an asynchronous invocation."""
    return {
        "version": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "requestContext": {
            "requestId": result.request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": result.payload,
    }
