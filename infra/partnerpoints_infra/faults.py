"""Fault injection: the functions' DynamoDB calls fail at a given rate, the ways DynamoDB fails them.

Each call draws once: with probability RATE it is answered, instead of by the table, with one of
- `throttling`: 400 ProvisionedThroughputExceededException (the SDK backs off and retries);
- `internal_error`: 500 InternalServerError (retried by the SDK too);
- `transaction_conflict`: a TransactWriteItems cancelled with TransactionConflict on its first item
  (never retried by the SDK: the program's own loops must);
- `timeout_after_write`: a write that reached the table and whose answer was lost: the table changed,
  the SDK sees a read timeout and sends the write again, which then meets its own effect.

Installed by patching botocore's Endpoint._do_get_response, below every client (boto3 and PynamoDB
alike) and above the transport, so it works over HTTP (the served stack's functions) and in-process
with moto. `partnerpoints local serve --faults RATE` sets PARTNERPOINTS_FAULT_RATE for the functions;
each process counts what it injected in PARTNERPOINTS_FAULT_LOG/<pid>.json.
"""

from __future__ import annotations

import json
import os
import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.endpoint import Endpoint, convert_to_response_dict
from botocore.exceptions import ReadTimeoutError

RATE_VARIABLE = "PARTNERPOINTS_FAULT_RATE"
LOG_VARIABLE = "PARTNERPOINTS_FAULT_LOG"
SEED_VARIABLE = "PARTNERPOINTS_FAULT_SEED"
KINDS = ("throttling", "internal_error", "transaction_conflict", "timeout_after_write")
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
_PREFIX = "com.amazonaws.dynamodb.v20120810#"


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def _error_response(url: str, status: int, body: dict[str, Any]) -> AWSResponse:
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "injected-fault"}
    return AWSResponse(url, status, headers, _Body(json.dumps(body).encode()))


def _cancellation(request_body: bytes | str | None) -> dict[str, Any]:
    try:
        items = len(json.loads(request_body or b"{}").get("TransactItems", [])) or 1
    except (TypeError, ValueError):
        items = 1
    reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
    reasons += [{"Code": "None"}] * (items - 1)
    codes = ", ".join(reason["Code"] for reason in reasons)
    return {
        "__type": f"{_PREFIX}TransactionCanceledException",
        "message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        "CancellationReasons": reasons,
    }


_ERRORS: dict[str, tuple[int, dict[str, Any]]] = {
    "throttling": (
        400,
        {
            "__type": f"{_PREFIX}ProvisionedThroughputExceededException",
            "message": "The level of configured provisioned throughput for the table was exceeded.",
        },
    ),
    "internal_error": (500, {"__type": f"{_PREFIX}InternalServerError", "message": "Internal server error"}),
}


class FaultInjector:
    def __init__(
        self,
        rate: float,
        seed: int | None = None,
        log_dir: Path | None = None,
        plan: dict[str, list[str]] | None = None,
    ) -> None:
        """`plan`, for tests: the faults the next calls of an operation get, in order, before any
        drawn at `rate` (e.g. {"TransactWriteItems": ["timeout_after_write"]})."""
        if not 0 <= rate < 1:
            raise ValueError("the fault rate is a probability below 1, e.g. 0.1")
        self.rate = rate
        self.plan = {operation: list(kinds) for operation, kinds in (plan or {}).items()}
        self.counts: Counter[str] = Counter()
        self.calls = 0
        self._random = random.Random(seed)  # noqa: S311 - chance, not secrecy
        self._lock = threading.Lock()
        self._log = log_dir / f"{os.getpid()}.json" if log_dir else None

    def draw(self, operation: str) -> str | None:
        with self._lock:
            self.calls += 1
            planned = self.plan.get(operation)
            if planned:
                kind = planned.pop(0)
                self.counts[kind] += 1
                return kind
            if self._random.random() >= self.rate:
                return None
            kinds = ["throttling", "internal_error"]
            if operation in WRITES:
                kinds.append("timeout_after_write")
            if operation == "TransactWriteItems":
                kinds.append("transaction_conflict")
            kind = self._random.choice(kinds)
            self.counts[kind] += 1
            if self._log is not None:
                self._log.write_text(json.dumps({"calls": self.calls, **self.counts}))
            return kind

    def _answer(self, endpoint: Endpoint, request: Any, operation_model: Any, context: Any) -> Any:
        kind = self.draw(operation_model.name)
        if kind is None:
            return _ORIGINAL(endpoint, request, operation_model, context)
        if kind == "timeout_after_write":
            _ORIGINAL(endpoint, request, operation_model, context)
            return None, ReadTimeoutError(endpoint_url=request.url, error="injected: the answer was lost")
        status, body = _ERRORS[kind] if kind in _ERRORS else (400, _cancellation(request.body))
        http_response = _error_response(request.url, status, body)
        response_dict = convert_to_response_dict(http_response, operation_model)
        parser = endpoint._response_parser_factory.create_parser(
            operation_model.service_model.resolved_protocol
        )
        parsed = parser.parse(response_dict, operation_model.output_shape)
        endpoint._add_modeled_error_fields(response_dict, parsed, operation_model, parser)
        return (http_response, parsed), None

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """No faults while the block runs (a test's own reads)."""
        rate, plan, self.rate, self.plan = self.rate, self.plan, 0.0, {}
        try:
            yield
        finally:
            self.rate, self.plan = rate, plan

    def summary(self) -> str:
        return describe(Counter({"calls": self.calls, **self.counts}))


_ORIGINAL = Endpoint._do_get_response
_ACTIVE: FaultInjector | None = None
_FOR_LIFE: list[Any] = []


def _do_get_response(self: Endpoint, request: Any, operation_model: Any, context: Any) -> Any:
    injector = _ACTIVE
    if injector is None or operation_model.service_model.service_name != "dynamodb":
        return _ORIGINAL(self, request, operation_model, context)
    return injector._answer(self, request, operation_model, context)


@contextmanager
def injecting(injector: FaultInjector) -> Iterator[FaultInjector]:
    """Faults in this process while the block runs (every thread's DynamoDB calls)."""
    global _ACTIVE  # noqa: PLW0603 - one patch per process, like botocore's own handlers
    previous, _ACTIVE = _ACTIVE, injector
    Endpoint._do_get_response = _do_get_response
    try:
        yield injector
    finally:
        _ACTIVE = previous
        if previous is None:
            Endpoint._do_get_response = _ORIGINAL


def install_from_environment() -> FaultInjector | None:
    """In a function's process: inject for its whole life when PARTNERPOINTS_FAULT_RATE is set."""
    rate = float(os.environ.get(RATE_VARIABLE) or 0)
    if rate <= 0:
        return None
    log_dir = Path(os.environ[LOG_VARIABLE]) if os.environ.get(LOG_VARIABLE) else None
    seed = os.environ.get(SEED_VARIABLE)
    injector = FaultInjector(rate, int(seed) + os.getpid() if seed else None, log_dir)
    # Kept: a context manager left to the garbage collector would end, and the patch with it.
    _FOR_LIFE.append(injecting(injector))
    _FOR_LIFE[-1].__enter__()
    return injector


def describe(counts: Counter[str]) -> str:
    injected = sum(counts[kind] for kind in KINDS)
    parts = ", ".join(f"{kind} {counts[kind]}" for kind in KINDS if counts[kind])
    return f"{injected} injected in {counts['calls']} DynamoDB calls ({parts or 'none'})"


def read_counts(log_dir: Path) -> Counter[str]:
    """What every process that logged to `log_dir` injected, summed."""
    total: Counter[str] = Counter()
    for path in log_dir.glob("*.json"):
        try:
            total.update(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return total
