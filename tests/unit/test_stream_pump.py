"""The stream pump's checkpointing with a scripted stream and function: what Lambda guarantees for a
DynamoDB event source (in order, nothing lost, retries from the first failure) must hold here too."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from partnerpoints_infra.local.function_pool import InvocationResult
from partnerpoints_infra.local.stream_pump import AwsClients, StreamMapping, StreamPump

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/1"


def record(sequence: int) -> dict[str, Any]:
    return {
        "eventName": "INSERT",
        "dynamodb": {"SequenceNumber": str(sequence), "Keys": {"pk": {"S": f"k{sequence}"}}},
    }


class ScriptedStream:
    """One shard of records 1..total; the second GetRecords call fails as an expired iterator would."""

    def __init__(self, total: int, fail_on_call: int | None = 2) -> None:
        self.records = [record(sequence) for sequence in range(1, total + 1)]
        self.calls = 0
        self.fail_on_call = fail_on_call

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, **request: Any) -> dict[str, Any]:
        if request["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER":
            return {"ShardIterator": f"at:{int(request['SequenceNumber'])}"}
        return {"ShardIterator": "at:0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise RuntimeError("ExpiredIteratorException: the iterator expired")
        position = int(ShardIterator.split(":")[1])
        batch = self.records[position : position + Limit]
        return {"Records": batch, "NextShardIterator": f"at:{position + len(batch)}"}


class ScriptedFunction:
    """Reports the given sequence numbers as failed, every time they are delivered."""

    def __init__(self, failing: set[str] | None = None, payload: Any = None) -> None:
        self.batches: list[list[str]] = []
        self.failing = failing or set()
        self.payload = payload

    def invoke(self, name: str, event: Any, client_context: str | None = None) -> InvocationResult:
        sequences = [item["dynamodb"]["SequenceNumber"] for item in event["Records"]]
        self.batches.append(sequences)
        if self.payload is not None:
            return InvocationResult("r", self.payload)
        failures = [{"itemIdentifier": sequence} for sequence in sequences if sequence in self.failing]
        return InvocationResult("r", {"batchItemFailures": failures})

    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"


class Queue:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:
        self.messages.append(MessageBody)


def run_pump(stream: ScriptedStream, function: ScriptedFunction, until: int, **mapping: Any) -> Queue:
    queue = Queue()
    settings = {"batch_size": 2, "starting_position": "TRIM_HORIZON", **mapping}
    pump = StreamPump(
        StreamMapping(name="m", function="F", stream_arn=ARN, on_failure_arn="arn:q", **settings),
        function,  # type: ignore[arg-type]
        AwsClients(streams=stream, sqs=queue, queue_urls={"arn:q": "https://queue"}),
        lambda name, line: None,
    )
    pump.start()
    deadline = time.monotonic() + 20
    while sum(len(batch) for batch in function.batches) < until and time.monotonic() < deadline:
        time.sleep(0.02)
    pump.stop()
    return queue


def test_a_failed_poll_resumes_after_the_last_record_handled() -> None:
    function = ScriptedFunction()
    run_pump(ScriptedStream(total=5), function, until=5)
    delivered = [sequence for batch in function.batches for sequence in batch]
    assert delivered == ["1", "2", "3", "4", "5"]  # in order, none lost, none twice


def test_retries_start_at_the_first_failed_record_then_go_to_the_queue() -> None:
    function = ScriptedFunction(failing={"3"})
    queue = run_pump(
        ScriptedStream(total=4, fail_on_call=None),
        function,
        until=8,
        maximum_retry_attempts=2,
        report_item_failures=True,
    )
    assert function.batches == [["1", "2"], ["3", "4"], ["3", "4"], ["3", "4"]]
    assert len(queue.messages) == 1
    assert '"startSequenceNumber": "3"' in queue.messages[0]


def test_an_unknown_item_identifier_fails_the_whole_batch() -> None:
    function = ScriptedFunction(payload={"batchItemFailures": [{"itemIdentifier": "nope"}]})
    run_pump(
        ScriptedStream(total=2, fail_on_call=None),
        function,
        until=4,
        maximum_retry_attempts=1,
        report_item_failures=True,
    )
    assert function.batches == [["1", "2"], ["1", "2"]]


def test_without_report_item_failures_a_returned_list_is_ignored() -> None:
    function = ScriptedFunction(failing={"1"})
    run_pump(ScriptedStream(total=2, fail_on_call=None), function, until=2, maximum_retry_attempts=1)
    assert function.batches == [["1", "2"]]


class WindowedFunction:
    """Counts its records in the window's state; remembers what each final invocation was handed."""

    def __init__(self, forget_state_once: bool = False) -> None:
        self.events: list[dict[str, Any]] = []
        self.finals: list[tuple[str, dict[str, Any]]] = []
        self.forget_state_once = forget_state_once

    def invoke(self, name: str, event: Any, client_context: str | None = None) -> InvocationResult:
        self.events.append(event)
        if event["isFinalInvokeForWindow"]:
            self.finals.append((event["window"]["start"], event["state"]))
            return InvocationResult("r", {"state": {}})
        if self.forget_state_once:
            self.forget_state_once = False
            return InvocationResult("r", {"batchItemFailures": []})  # no state: a failure in Lambda
        count = event["state"].get("count", 0) + len(event["Records"])
        return InvocationResult("r", {"state": {"count": count}})

    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"


def timed_stream(seconds: list[int]) -> ScriptedStream:
    stream = ScriptedStream(total=len(seconds), fail_on_call=None)
    for item, second in zip(stream.records, seconds, strict=True):
        item["dynamodb"]["ApproximateCreationDateTime"] = datetime(2026, 2, 28, 23, 59, second, tzinfo=UTC)
    return stream


def run_windowed(stream: ScriptedStream, function: WindowedFunction, finals: int) -> None:
    pump = StreamPump(
        StreamMapping(
            name="m",
            function="F",
            stream_arn=ARN,
            batch_size=10,
            starting_position="TRIM_HORIZON",
            tumbling_window_seconds=30,
        ),
        function,  # type: ignore[arg-type]
        AwsClients(streams=stream, sqs=Queue(), queue_urls={}),
        lambda name, line: None,
    )
    pump.start()
    deadline = time.monotonic() + 20
    while len(function.finals) < finals and time.monotonic() < deadline:
        time.sleep(0.02)
    pump.stop()


def test_a_tumbling_window_carries_its_state_and_closes_once_per_window() -> None:
    function = WindowedFunction()
    # 23:59:00-29 is one window, 23:59:30-59 the next: both over long ago, so both close.
    run_windowed(timed_stream([1, 5, 29, 30, 59]), function, finals=2)
    assert function.finals == [("2026-02-28T23:59:00Z", {"count": 3}), ("2026-02-28T23:59:30Z", {"count": 2})]
    first = function.events[0]
    assert first["shardId"] == "shard-1"
    assert first["eventSourceARN"] == ARN
    assert first["window"] == {"start": "2026-02-28T23:59:00Z", "end": "2026-02-28T23:59:30Z"}


def test_an_answer_without_state_is_retried_with_the_same_state() -> None:
    function = WindowedFunction(forget_state_once=True)
    run_windowed(timed_stream([1, 2]), function, finals=1)
    assert function.finals == [("2026-02-28T23:59:00Z", {"count": 2})]
    assert [len(event["Records"]) for event in function.events] == [2, 2, 0]


class RolledBackStream(ScriptedStream):
    """moto's way with a cancelled transaction: after the first poll, every iterator taken so far reads
    a stream copy that never grows again; only a fresh iterator sees the records written since."""

    def __init__(self, total: int) -> None:
        super().__init__(total, fail_on_call=None)
        self.generation = 0
        self.visible = 2  # records 3.. are written after the rollback

    def get_shard_iterator(self, **request: Any) -> dict[str, Any]:
        iterator = super().get_shard_iterator(**request)["ShardIterator"]
        return {"ShardIterator": f"{iterator}:{self.generation}"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        self.calls += 1
        _, position_text, generation = ShardIterator.split(":")
        position = int(position_text)
        if self.calls == 2:  # the rollback: the stream goes on in a new generation of objects
            self.generation, self.visible = 1, len(self.records)
        if int(generation) != self.generation:
            return {"Records": [], "NextShardIterator": ShardIterator}  # the orphaned copy
        batch = self.records[position : min(position + Limit, self.visible)]
        return {"Records": batch, "NextShardIterator": f"at:{position + len(batch)}:{generation}"}


def test_an_iterator_left_on_a_rolled_back_copy_is_taken_afresh_and_nothing_is_lost() -> None:
    function = ScriptedFunction()
    run_pump(RolledBackStream(total=5), function, until=5)
    delivered = [sequence for batch in function.batches for sequence in batch]
    assert delivered == ["1", "2", "3", "4", "5"]
