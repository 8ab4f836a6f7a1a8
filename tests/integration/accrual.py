"""Helpers for the accrual tests: the Orders stream's records as Lambda would deliver them, and the
accrual function run on them in this process."""

from __future__ import annotations

import json
from typing import Any

import boto3

from partnerpoints_infra.functions import invoke
from partnerpoints_infra.local.stream_pump import lambda_record
from partnerpoints_infra.provision import LocalStack


class OrdersStream:
    """Reads a table's stream (the Orders table's unless told) from its start, remembering where it
    stopped."""

    def __init__(self, stack: LocalStack, table: str = "OrdersTable") -> None:
        self._client = boto3.client(
            "dynamodbstreams", endpoint_url=stack.endpoints.dynamodb, region_name="us-east-1"
        )
        self.arn = stack.resolve({"Fn::GetAtt": [table, "StreamArn"]})
        self._iterators: dict[str, str | None] = {}

    def new_records(self) -> list[dict[str, Any]]:
        """Records written since the last call, in stream order, as Lambda hands them over."""
        shards = self._client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        records = []
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._client.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            iterator = self._iterators[shard_id]
            while iterator:
                answer = self._client.get_records(ShardIterator=iterator, Limit=1000)
                records += [lambda_record(record, self.arn) for record in answer["Records"]]
                iterator = answer.get("NextShardIterator")
                if not answer["Records"]:
                    break
            self._iterators[shard_id] = iterator
        return records


def run_accrual(stack: LocalStack, records: list[dict[str, Any]]) -> list[str]:
    """The sequence numbers the accrual function reported as failed."""
    answer = invoke(stack, "AccrualFunction", {"Records": records})
    return [failure["itemIdentifier"] for failure in json.loads(json.dumps(answer))["batchItemFailures"]]
