"""Measuring tools for bench/: DynamoDB request and capacity counts, and cold import times.

Figures only; nothing here asserts a timing.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import botocore.session

from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.logic.postback_credentials import issue
from partnerpoints.models.partners import NewPartner
from partnerpoints.settings import Settings

# Operations that accept ReturnConsumedCapacity.
_CAPACITY_OPERATIONS = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
}
_WRITE_OPERATIONS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@dataclass
class DynamoDBMeter:
    """What DynamoDB was asked and what it said it consumed, as reported in ConsumedCapacity."""

    requests: Counter[str] = field(default_factory=Counter)
    read_units: float = 0.0
    write_units: float = 0.0

    def reset(self) -> None:
        self.requests.clear()
        self.read_units = self.write_units = 0.0

    def _ask_for_capacity(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in _CAPACITY_OPERATIONS:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _record(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.requests[model.name] += 1
        consumed = parsed.get("ConsumedCapacity") or []
        for entry in consumed if isinstance(consumed, list) else [consumed]:
            units = float(entry.get("CapacityUnits", 0.0))
            if model.name in _WRITE_OPERATIONS:
                self.write_units += units
            else:
                self.read_units += units


def measure(meter: DynamoDBMeter, runs: int, operation: Callable[[int], Any]) -> dict[str, float]:
    """Mean requests (and how many of them read), capacity units per run, and the median latency."""
    meter.reset()
    latencies = []
    for i in range(runs):
        started = time.perf_counter()
        operation(i)
        latencies.append(time.perf_counter() - started)
    return {
        "requests": sum(meter.requests.values()) / runs,
        "reads": sum(n for name, n in meter.requests.items() if name not in _WRITE_OPERATIONS) / runs,
        "read_units": meter.read_units / runs,
        "write_units": meter.write_units / runs,
        "median_ms": statistics.median(latencies) * 1000,
    }


@contextmanager
def metered_dynamodb() -> Iterator[DynamoDBMeter]:
    """Hook every botocore client created inside the block (boto3's and PynamoDB's alike)."""
    meter = DynamoDBMeter()
    original = botocore.session.Session.create_client

    def create_client(self: botocore.session.Session, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = original(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            client.meta.events.register("provide-client-params.dynamodb.*", meter._ask_for_capacity)
            client.meta.events.register("after-call.dynamodb.*", meter._record)
        return client

    botocore.session.Session.create_client = create_client
    try:
        yield meter
    finally:
        botocore.session.Session.create_client = original


_IMPORT_PROBE = """
import sys, time
sys.path[:0] = {paths!r}
started = time.perf_counter()
import {module}
print(time.perf_counter() - started)
"""


def cold_import_seconds(module: str, paths: list[str], env: dict[str, str], runs: int) -> float:
    """Median time to import `module` in a fresh interpreter (bytecode already compiled)."""
    samples = []
    for _ in range(runs):
        output = subprocess.run(
            [sys.executable, "-c", _IMPORT_PROBE.format(paths=paths, module=module)],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        samples.append(float(output.strip().splitlines()[-1]))
    return statistics.median(samples)


def write_json(path: str, data: dict[str, Any]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")


def create_bench_partner(settings: Settings, partner_id: str, **changes: Any) -> str:
    """A EUR partner at 5 % points and 8 % commission, with fresh postback credentials; returns its
    webhook secret."""
    issued = issue(partner_id)
    partner = {
        "partner_id": partner_id,
        "name": "Bench",
        "currency": "EUR",
        "allowed_domains": ["bench.example"],
        "points_percent": Decimal(5),
        "commission_percent": Decimal(8),
        **changes,
    }
    PartnerStore(settings).create_partner(NewPartner.model_validate(partner), issued.credentials)
    return issued.webhook_secret
