"""Helpers for the partner counters: the three streams PartnerCountersFunction reads, delivered to it in
this process as Lambda's tumbling windows would (a batch folded into the state, then the final call)."""

from __future__ import annotations

from typing import Any

from partnerpoints_infra.functions import invoke
from partnerpoints_infra.provision import LocalStack
from tests.integration.accrual import OrdersStream

COUNTED_TABLES = ("ClicksTable", "OrdersTable", "LedgerEntriesTable")
# Per stream ARN (each stack's streams are new): where counting stopped.
_READERS: dict[str, OrdersStream] = {}


def deliver_window(stack: LocalStack, stream_arn: str, records: list[dict[str, Any]]) -> None:
    """One window of a stream's records, named by the stream and its first record: delivering the same
    records again is the same window, which the counters take once."""
    window = {"start": "2028-02-29T00:00:00Z", "end": "2028-02-29T00:00:10Z"}
    base = {
        "window": window,
        "shardId": f"shardId-{stream_arn.rsplit('/', 1)[-1]}",
        "eventSourceARN": stream_arn,
    }
    answer = invoke(stack, "PartnerCountersFunction", {**base, "Records": records, "state": {}})
    final = {**base, "Records": [], "state": answer["state"], "isFinalInvokeForWindow": True}
    assert invoke(stack, "PartnerCountersFunction", final) == {"state": {}}


def count_activity(stack: LocalStack) -> None:
    """Count what the three streams have new since the last call for this stack."""
    for table in COUNTED_TABLES:
        arn = stack.resolve({"Fn::GetAtt": [table, "StreamArn"]})
        reader = _READERS.setdefault(arn, OrdersStream(stack, table))
        records = reader.new_records()
        if records:
            deliver_window(stack, arn, records)
