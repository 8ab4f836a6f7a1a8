"""SQS event sources, locally: each AWS::Lambda::EventSourceMapping on a queue of the template polls
it and invokes its function with Lambda's SQS event, honouring BatchSize and FunctionResponseTypes
[ReportBatchItemFailures].

As in Lambda, the messages of a successful batch are deleted; a failed message (or every message of a
failed batch) stays on the queue and comes back, and the queue's RedrivePolicy moves it to its
dead-letter queue after maxReceiveCount receives. One difference, for a developer's patience: a failed
message becomes visible again after RETRY_VISIBILITY_SECONDS, not after the queue's visibility timeout.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from partnerpoints_infra.local.background import BackgroundLoop
from partnerpoints_infra.local.function_pool import FunctionPool, InvocationResult, Printer
from partnerpoints_infra.local.stream_pump import AwsClients
from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import resources_of_type

POLL_INTERVAL_SECONDS = 0.2
RETRY_VISIBILITY_SECONDS = 1
MAX_MESSAGES_PER_RECEIVE = 10  # SQS's limit


@dataclass(frozen=True)
class QueueMapping:
    name: str
    function: str
    queue_arn: str
    batch_size: int = 10
    report_item_failures: bool = False
    enabled: bool = True


def lambda_message(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """A ReceiveMessage message as Lambda hands it to the function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }


def failed_message_ids(messages: list[dict[str, Any]], result: InvocationResult, partial: bool) -> set[str]:
    """The messages to leave on the queue after an invocation."""
    every = {message["MessageId"] for message in messages}
    if not result.ok:
        return every
    if not partial or not isinstance(result.payload, dict):
        return set()
    failed: set[str] = set()
    for failure in result.payload.get("batchItemFailures") or []:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in every:
            return every  # Lambda treats an empty or unknown identifier as the whole batch failing
        failed.add(identifier)
    return failed


class QueuePump(BackgroundLoop):
    def __init__(
        self, mapping: QueueMapping, pool: FunctionPool, clients: AwsClients, printer: Printer
    ) -> None:
        self.mapping = mapping
        self._pool = pool
        self._sqs = clients.sqs
        self._queue_url = clients.queue_urls[mapping.queue_arn]
        self._printer = printer
        super().__init__(f"queue-{mapping.name}")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                delivered = self._poll()
            except Exception as error:  # a backend hiccup: the messages are still on the queue
                if self._stop.is_set():
                    return
                self._printer(self.mapping.function, f"queue poll failed ({error}); polling again")
                delivered = False
            if not delivered:
                self._stop.wait(POLL_INTERVAL_SECONDS)

    def _poll(self) -> bool:
        answer = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=min(self.mapping.batch_size, MAX_MESSAGES_PER_RECEIVE),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages", [])
        if not messages:
            return False
        event = {"Records": [lambda_message(message, self.mapping.queue_arn) for message in messages]}
        result = self._pool.invoke(self.mapping.function, event)
        failed = failed_message_ids(messages, result, self.mapping.report_item_failures)
        for message in messages:
            if message["MessageId"] in failed:
                self._sqs.change_message_visibility(
                    QueueUrl=self._queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=RETRY_VISIBILITY_SECONDS,
                )
            else:
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        if failed:
            self._printer(
                self.mapping.function, f"{len(failed)} of {len(messages)} queue messages failed; retried"
            )
        return True


def queue_mappings(stack: LocalStack) -> list[QueueMapping]:
    """The template's SQS event source mappings, resolved."""
    mappings = []
    for name, resource in resources_of_type(stack.template, "AWS::Lambda::EventSourceMapping").items():
        properties = resource["Properties"]
        source = stack.resolve(properties["EventSourceArn"])
        if ":sqs:" not in source:
            continue
        mappings.append(
            QueueMapping(
                name=name,
                function=stack.resolve(properties["FunctionName"]),
                queue_arn=source,
                batch_size=int(properties.get("BatchSize", 10)),
                report_item_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
                enabled=str(properties.get("Enabled", True)).lower() != "false",
            )
        )
    return mappings
