"""One function's execution environment: a process that imports the handler once and runs invocations.

Started by the function pool with the function's own environment (so two functions never share
os.environ or a Powertools Logger), it reads one JSON request per line on stdin, prints Lambda's
START/END/REPORT lines around each invocation on stdout (its logs), and answers on a separate pipe
so that nothing a handler prints can be taken for a result. It imports nothing of the project's
tooling, so a function's cold start here is its own.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import time
import traceback
from typing import Any


class WorkerContext:
    """The Lambda context object: what handlers and Powertools read from it."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.function_name: str = request["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn: str = request["invoked_function_arn"]
        self.memory_limit_in_mb: int = request["memory_mb"]
        self.aws_request_id: str = request["request_id"]
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self.identity = None
        self.client_context = request.get("client_context")
        self._deadline_ms: int = request["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _error(error_type: str, exception: BaseException | None = None, message: str = "") -> dict[str, Any]:
    return {
        "errorMessage": message or str(exception),
        "errorType": error_type,
        "requestId": "",
        "stackTrace": traceback.format_tb(exception.__traceback__) if exception else [],
    }


def _load_handler(handler_path: str) -> tuple[Any, dict[str, Any] | None]:
    module_name, function_name = handler_path.rsplit(".", 1)
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        traceback.print_exc()
        return None, _error(
            "Runtime.ImportModuleError", error, f"Unable to import module '{module_name}': {error}"
        )
    handler = getattr(module, function_name, None)
    if handler is None:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        return None, _error("Runtime.HandlerNotFound", message=message)
    return handler, None


def _run(handler: Any, request: dict[str, Any]) -> dict[str, Any]:
    try:
        result = handler(request["event"], WorkerContext(request))
    except Exception as error:
        # Lambda prints an unhandled error to the function's log as well as returning it.
        traceback.print_exc()
        return {"ok": False, "payload": _error(type(error).__name__, error)}
    try:
        return {"ok": True, "payload": json.loads(json.dumps(result))}
    except (TypeError, ValueError) as error:
        return {
            "ok": False,
            "payload": _error("Runtime.MarshalError", error, f"Unable to marshal response: {error}"),
        }


def main() -> None:
    handler_path, result_fd = sys.argv[1], int(sys.argv[2])
    results = os.fdopen(result_fd, "w", buffering=1, encoding="utf-8")
    if os.environ.get("PARTNERPOINTS_FAULT_RATE"):
        # Only when asked (`local serve --faults`): otherwise a cold start here stays the function's own.
        from partnerpoints_infra.faults import install_from_environment  # noqa: PLC0415

        install_from_environment()
    handler, init_error = _load_handler(handler_path)
    results.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        request_id = request["request_id"]
        print(f"START RequestId: {request_id} Version: $LATEST", flush=True)
        started = time.monotonic()
        answer = _run(handler, request) if init_error is None else {"ok": False, "payload": init_error}
        duration_ms = (time.monotonic() - started) * 1000
        used_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        sys.stderr.flush()
        print(f"END RequestId: {request_id}", flush=True)
        print(
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Memory Size: {request['memory_mb']} MB\tMax Memory Used: {used_mb} MB",
            flush=True,
        )
        answer["request_id"] = request_id
        results.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
