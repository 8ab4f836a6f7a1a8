"""The template's alarms on the local stack: a poison record in the Orders stream ends in the dead-letter
queue after the accrual's retries, and the DeadLetterQueueAlarm says so on the console."""

from __future__ import annotations

import threading
from pathlib import Path

import boto3

from partnerpoints_infra.local.alarms import ALARM_SOURCE
from partnerpoints_infra.local.serve import ServeOptions, running_stack
from tests.e2e.test_local_stack_features import eventually


def test_a_poison_order_record_reaches_the_dead_letter_queue_and_raises_its_alarm(tmp_path: Path) -> None:
    lines: list[str] = []
    lock = threading.Lock()

    def printer(name: str, line: str) -> None:
        with lock:
            lines.append(f"{name} | {line}")

    def alarm_lines() -> list[str]:
        with lock:
            return [line for line in lines if line.startswith(ALARM_SOURCE)]

    options = ServeOptions(port=0, lambda_port=0, state_dir=tmp_path)
    with running_stack(options, printer=printer) as running:
        not_evaluated = {line.rsplit(" ", 1)[-1] for line in alarm_lines() if "not evaluated" in line}
        assert not_evaluated == {
            "BackgroundFunctionsFailingAlarm",
            "HttpApiServerErrorsAlarm",
            "OrderStreamBacklogAlarm",
            "CounterStreamBacklogAlarm",
            "WebhookEventStreamBacklogAlarm",
        }
        stack = running.stack
        dynamodb = boto3.client("dynamodb", endpoint_url=stack.endpoints.dynamodb, region_name="us-east-1")
        # An item of the Orders table that is no order: the accrual cannot read it, whatever it retries.
        dynamodb.put_item(
            TableName=stack.table_name("OrdersTable"),
            Item={"partner_id": {"S": "shop-x"}, "order_id": {"S": "POISON-1"}},
        )
        raised = eventually(
            lambda: next((line for line in alarm_lines() if "ALARM DeadLetterQueueAlarm" in line), None),
            timeout=120,
        )
        assert "threshold 1" in raised
        sqs = boto3.client("sqs", endpoint_url=stack.endpoints.sqs, region_name="us-east-1")
        messages = sqs.receive_message(
            QueueUrl=stack.resources["DeadLetterQueue"].ref, MaxNumberOfMessages=10
        )
        assert "DDBStreamBatchInfo" in messages["Messages"][0]["Body"]
    assert not any("ALARM StatementMismatchesAlarm" in line for line in lines)
