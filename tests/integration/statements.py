"""Helpers for the statements tests: the shard queue drained through the function as Lambda's SQS
event source would, and the statements bucket read back."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import boto3

from partnerpoints.logic.nightly_statements import NightlyStatements, nightly_statements
from partnerpoints.settings import Settings
from partnerpoints_infra.functions import invoke
from partnerpoints_infra.local.function_pool import InvocationResult
from partnerpoints_infra.local.queue_pump import failed_message_ids, lambda_message
from partnerpoints_infra.provision import LocalStack
from tests.integration.counters import count_activity


def _sqs(stack: LocalStack) -> Any:
    return boto3.client("sqs", endpoint_url=stack.endpoints.sqs, region_name=stack.endpoints.region)


def drain_shard_queue(stack: LocalStack, batch_size: int = 4) -> list[str]:
    """Deliver every queued shard task to StatementsFunction; the message ids it reported failed (left
    on the queue, visible again at once)."""
    sqs = _sqs(stack)
    queue = stack.resources["StatementTasksQueue"]
    failed_ids: list[str] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue.ref, MaxNumberOfMessages=batch_size, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return failed_ids
        event = {"Records": [lambda_message(message, queue.attributes["Arn"]) for message in messages]}
        answer = invoke(stack, "StatementsFunction", event)
        failed = failed_message_ids(messages, InvocationResult("local", answer), partial=True)
        for message in messages:
            if message["MessageId"] in failed:
                failed_ids.append(message["MessageId"])
                sqs.change_message_visibility(
                    QueueUrl=queue.ref, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                sqs.delete_message(QueueUrl=queue.ref, ReceiptHandle=message["ReceiptHandle"])
        if failed and len(failed) == len(messages):
            return failed_ids


def statements_of(stack: LocalStack) -> NightlyStatements:
    """The nightly job as StatementsFunction runs it (its environment: bucket, queue, expiry)."""
    return nightly_statements(Settings.from_environment(stack.runtime_environment("StatementsFunction")))


def run_day(stack: LocalStack, day: date) -> dict[str, Any]:
    """The run for `day` as an operator starts it (settle, queue the shards), then every shard through
    the function as the queue delivers them. Tests close today: provisionally, as the demo does. The
    partner counters are brought up to date first, as the stream windows would be by then."""
    count_activity(stack)
    queued: dict[str, Any] = invoke(stack, "StatementsFunction", {"date": day.isoformat()})
    assert drain_shard_queue(stack) == []
    return queued


def bucket_objects(stack: LocalStack) -> dict[str, bytes]:
    s3 = boto3.client("s3", endpoint_url=stack.endpoints.s3, region_name=stack.endpoints.region)
    bucket = stack.resources["StatementsBucket"].ref
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            objects[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return objects


def object_json(objects: dict[str, bytes], key: str) -> Any:
    return json.loads(objects[key])
