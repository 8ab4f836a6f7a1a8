"""The operator console's overview: the dead-letter queue's depth, the nightly queue's, and each night's
statement run read from the statements bucket (moto, resources built from the template)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import boto3
import pytest

from partnerpoints.dal.queue_depths import QueueDepths
from partnerpoints.dal.statement_files import StatementBucket, canonical_json
from partnerpoints.logic.operations import Operations
from partnerpoints.settings import Settings
from partnerpoints_infra.functions import invoke
from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import PROJECT_ROOT

MANIFEST = {
    "members": 12,
    "partners": 3,
    "accounts": 20,
    "expired_members": 1,
    "tier_changes": 2,
    "reconciliation": {"clean": False, "mismatches": [{"member_id": "bob", "account": "main"}]},
}


def _put(stack: LocalStack, key: str, document: dict[str, object]) -> None:
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=stack.resources["StatementsBucket"].ref, Key=key, Body=canonical_json(document)
    )


def _operations(stack: LocalStack, now: datetime) -> Operations:
    settings = Settings.from_environment(stack.runtime_environment("AdminApiFunction"))
    return Operations(
        StatementBucket(settings),
        QueueDepths(settings),
        settings.required("dead_letter_queue_url"),
        settings.required("statement_tasks_queue_url"),
        clock=lambda: now,
    )


@pytest.mark.parametrize(
    ("now", "days"),
    [
        (datetime(2028, 2, 29, 0, 30, tzinfo=UTC), [date(2028, 2, 29), date(2028, 2, 28), date(2028, 2, 27)]),
        (datetime(2027, 1, 1, 0, 30, tzinfo=UTC), [date(2027, 1, 1), date(2026, 12, 31), date(2026, 12, 30)]),
    ],
)
def test_each_night_says_how_far_its_run_got_and_what_reconciliation_found(
    moto_stack: LocalStack, now: datetime, days: list[date]
) -> None:
    finished, running, never = days
    for shard in range(16):
        _put(moto_stack, f"statements/{finished}/shards/{shard:02d}.json", {"shard": shard})
    _put(moto_stack, f"statements/{finished}/manifest.json", MANIFEST)
    for shard in range(5):
        _put(moto_stack, f"statements/{running}/shards/{shard:02d}.json", {"shard": shard})

    overview = _operations(moto_stack, now).overview(nights=3)

    assert [night.day for night in overview.nights] == [finished, running, never]
    done, partial, missing = overview.nights
    assert (done.shards_done, done.manifest_written, done.clean, done.mismatches) == (16, True, False, 1)
    assert (done.members, done.partners, done.accounts, done.tier_changes) == (12, 3, 20, 2)
    assert (partial.shards_done, partial.manifest_written, partial.clean) == (5, False, None)
    assert (missing.shards_done, missing.manifest_written) == (0, False)


def test_the_queues_are_counted_not_read(moto_stack: LocalStack) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    dead_letters = moto_stack.resources["DeadLetterQueue"].ref
    for number in range(3):
        sqs.send_message(QueueUrl=dead_letters, MessageBody=json.dumps({"failed": number}))
    sqs.receive_message(QueueUrl=dead_letters, MaxNumberOfMessages=1, VisibilityTimeout=60)

    overview = _operations(moto_stack, datetime(2026, 11, 30, 12, tzinfo=UTC)).overview(nights=1)

    assert (overview.dead_letter_queue.messages, overview.dead_letter_queue.in_flight) == (2, 1)
    assert (overview.statement_tasks.messages, overview.statement_tasks.in_flight) == (0, 0)
    assert overview.nights[0].day == date(2026, 11, 30)


def test_the_route_answers_the_overview_and_bounds_the_nights(moto_stack: LocalStack) -> None:
    request = json.loads((PROJECT_ROOT / "events/AdminApiFunction/get-operations.json").read_text())
    response = invoke(moto_stack, "AdminApiFunction", request)
    body = json.loads(response["body"])
    assert response["statusCode"] == 200
    assert len(body["nights"]) == 3
    assert body["dead_letter_queue"] == {"messages": 0, "in_flight": 0}

    request["queryStringParameters"] = {"nights": "32"}
    request["rawQueryString"] = "nights=32"
    response = invoke(moto_stack, "AdminApiFunction", request)
    assert response["statusCode"] == 422
    assert "nights" in response["body"]
