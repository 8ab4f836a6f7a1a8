"""DynamoDB stream event sources, locally: each AWS::Lambda::EventSourceMapping of the template polls
its table's stream and invokes its function, honouring BatchSize, StartingPosition,
FunctionResponseTypes [ReportBatchItemFailures], MaximumRetryAttempts, TumblingWindowInSeconds and the
OnFailure destination.

As in Lambda, a batch that fails is retried from the first failed record (the checkpoint); when the
retries are exhausted, a description of the batch (shard, sequence numbers) goes to the on-failure
destination and the shard moves on. Nothing is dropped silently.

With a tumbling window, each shard's records are grouped by the window their creation time falls in;
every invocation gets the window, the shard and the state the previous one returned (an answer without
`state` is a failure, as in Lambda), and once the window's end has passed a last invocation with
isFinalInvokeForWindow closes it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from partnerpoints_infra.local.background import BackgroundLoop
from partnerpoints_infra.local.function_pool import FunctionPool, InvocationResult, Printer
from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import resources_of_type

POLL_INTERVAL_SECONDS = 0.2
# An iterator that brought nothing this many polls in a row is taken afresh from the checkpoint: moto
# rolls a cancelled TransactWriteItems back by replacing its tables with copies, and an iterator taken
# before that keeps reading the discarded copy's stream, which never grows again (a silent stall that
# fault injection found). Cheap, and harmless against DynamoDB Local or AWS.
IDLE_POLLS_BEFORE_REFRESH = 25  # 5 s, the cadence of shard discovery
RETRY_DELAY_SECONDS = 0.2
MAX_RETRY_DELAY_SECONDS = 2.0


@dataclass(frozen=True)
class AwsClients:
    """The clients the event sources need, and the template's queues by ARN (failure destinations)."""

    streams: Any
    sqs: Any
    queue_urls: dict[str, str]


@dataclass(frozen=True)
class StreamMapping:
    name: str
    function: str
    stream_arn: str
    starting_position: str = "LATEST"
    batch_size: int = 100
    maximum_retry_attempts: int = -1  # -1: until the record expires, as in Lambda
    report_item_failures: bool = False
    on_failure_arn: str | None = None
    enabled: bool = True
    tumbling_window_seconds: int = 0


@dataclass
class OpenWindow:
    """A shard's tumbling window between its first record and its final invocation."""

    start: datetime
    end: datetime
    state: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, moment: datetime, seconds: int) -> OpenWindow:
        epoch = int(moment.timestamp())
        start = datetime.fromtimestamp(epoch - epoch % seconds, UTC)
        return cls(start, start + timedelta(seconds=seconds))

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def describe(self) -> dict[str, str]:
        return {
            "start": self.start.isoformat().replace("+00:00", "Z"),
            "end": self.end.isoformat().replace("+00:00", "Z"),
        }


def _json_safe(value: Any) -> Any:
    # Stream images carry B and BS attributes as bytes; Lambda delivers them base64-encoded.
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | set | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda hands it to the function."""
    return {**_json_safe(record), "eventSourceARN": stream_arn}


def _iso(value: Any) -> str | None:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else None


class StreamPump(BackgroundLoop):
    """One thread per mapping; each shard is read in order and checkpointed only past delivered records."""

    def __init__(
        self,
        mapping: StreamMapping,
        pool: FunctionPool,
        clients: AwsClients,
        printer: Printer,
    ) -> None:
        self.mapping = mapping
        self._streams = clients.streams
        self._sqs = clients.sqs
        self._pool = pool
        self._queue_urls = clients.queue_urls
        self._printer = printer
        self._iterators: dict[str, str | None] = {}
        self._checkpoints: dict[str, str] = {}  # shard -> last sequence number handled
        self._idle_polls: dict[str, int] = {}  # shard -> polls in a row that brought no record
        self._windows: dict[str, OpenWindow] = {}  # shard -> its open tumbling window
        super().__init__(f"stream-{mapping.name}")

    def start(self) -> None:
        # Iterators are taken now, so LATEST means "written after the stack started".
        self._discover_shards()
        super().start()

    def _discover_shards(self) -> None:
        description = self._streams.describe_stream(StreamArn=self.mapping.stream_arn)["StreamDescription"]
        for shard in description["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id in self._iterators:
                continue
            # Shards that appear later are read from their start: their records are all new.
            position = self.mapping.starting_position if not self._thread.is_alive() else "TRIM_HORIZON"
            self._iterators[shard_id] = self._streams.get_shard_iterator(
                StreamArn=self.mapping.stream_arn, ShardId=shard_id, ShardIteratorType=position
            )["ShardIterator"]

    def _run(self) -> None:
        polls = 0
        while not self._stop.is_set():
            delivered = False
            for shard_id, iterator in list(self._iterators.items()):
                if iterator is None or self._stop.is_set():
                    continue
                try:
                    delivered |= self._poll(shard_id, iterator)
                except Exception as error:  # an expired iterator, a backend hiccup: resume, lose nothing
                    if self._stop.is_set():
                        return
                    self._printer(
                        self.mapping.function, f"stream poll failed ({error}); resuming from the checkpoint"
                    )
                    with contextlib.suppress(Exception):  # if this fails too, the next round tries again
                        self._resume(shard_id)
                    self._stop.wait(POLL_INTERVAL_SECONDS)
            self._close_windows()
            polls += 1
            if polls % 25 == 0:
                self._discover_shards()
            if not delivered:
                self._stop.wait(POLL_INTERVAL_SECONDS)

    def _poll(self, shard_id: str, iterator: str) -> bool:
        answer = self._streams.get_records(ShardIterator=iterator, Limit=self.mapping.batch_size)
        records = answer.get("Records", [])
        if records:
            self._deliver(shard_id, records)
            self._checkpoints[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
        self._iterators[shard_id] = answer.get("NextShardIterator")
        idle = 0 if records else self._idle_polls.get(shard_id, 0) + 1
        self._idle_polls[shard_id] = idle
        if (
            idle >= IDLE_POLLS_BEFORE_REFRESH
            and self._iterators[shard_id] is not None
            and self._can_resume(shard_id)
        ):
            self._idle_polls[shard_id] = 0
            self._resume(shard_id)
        return bool(records)

    def _can_resume(self, shard_id: str) -> bool:
        # Without a checkpoint only TRIM_HORIZON can be taken again (nothing was handled yet); LATEST
        # would skip what was written since the stack started.
        return shard_id in self._checkpoints or self.mapping.starting_position == "TRIM_HORIZON"

    def _resume(self, shard_id: str) -> None:
        """A fresh iterator just after the last record handled (or at the mapping's start)."""
        position: dict[str, str] = {"ShardIteratorType": self.mapping.starting_position}
        if shard_id in self._checkpoints:
            position = {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "SequenceNumber": self._checkpoints[shard_id],
            }
        self._iterators[shard_id] = self._streams.get_shard_iterator(
            StreamArn=self.mapping.stream_arn, ShardId=shard_id, **position
        )["ShardIterator"]

    def _deliver(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        if self.mapping.tumbling_window_seconds <= 0:
            self._invoke(shard_id, records)
            return
        group: list[dict[str, Any]] = []  # the records of the shard's open window, in order
        for record in records:
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            moment = created.astimezone(UTC) if isinstance(created, datetime) else datetime.now(UTC)
            window = self._windows.get(shard_id)
            if window is not None and not window.holds(moment):
                self._invoke(shard_id, group, window)
                group = []
                self._close_window(shard_id)
                window = None
            if window is None:
                self._windows[shard_id] = OpenWindow.of(moment, self.mapping.tumbling_window_seconds)
            group.append(record)
        self._invoke(shard_id, group, self._windows.get(shard_id))

    def _close_windows(self) -> None:
        now = datetime.now(UTC)
        for shard_id, window in list(self._windows.items()):
            if window.end <= now and not self._stop.is_set():
                self._close_window(shard_id)

    def _close_window(self, shard_id: str) -> None:
        self._invoke(shard_id, [], self._windows.pop(shard_id), final=True)

    def _event(
        self, shard_id: str, batch: list[dict[str, Any]], window: OpenWindow | None, final: bool
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "Records": [lambda_record(record, self.mapping.stream_arn) for record in batch]
        }
        if window is not None:
            event.update(
                window=window.describe(),
                state=window.state,
                shardId=shard_id,
                eventSourceARN=self.mapping.stream_arn,
                isFinalInvokeForWindow=final,
                isWindowTerminatedEarly=False,
            )
        return event

    def _invoke(
        self,
        shard_id: str,
        records: list[dict[str, Any]],
        window: OpenWindow | None = None,
        *,
        final: bool = False,
    ) -> None:
        batch = records
        attempts = 0
        while (batch or final) and not self._stop.is_set():
            result = self._pool.invoke(self.mapping.function, self._event(shard_id, batch, window, final))
            failed_from = self._first_failure(batch, result)
            if failed_from is None and window is not None:
                window.state = result.payload["state"] or {}
                return
            if failed_from is None:
                return
            batch = batch[failed_from or 0 :]
            attempts += 1
            if 0 <= self.mapping.maximum_retry_attempts < attempts:
                self._send_to_destination(shard_id, batch, result, attempts)
                return
            self._stop.wait(min(RETRY_DELAY_SECONDS * attempts, MAX_RETRY_DELAY_SECONDS))

    def _first_failure(self, batch: list[dict[str, Any]], result: InvocationResult) -> int | None:
        """Index of the first record to retry, or None when the whole batch succeeded."""
        if not result.ok:
            return 0
        if self.mapping.tumbling_window_seconds > 0 and not (
            isinstance(result.payload, dict) and isinstance(result.payload.get("state"), dict)
        ):
            return 0  # a windowed function must answer its state
        if not self.mapping.report_item_failures or not isinstance(result.payload, dict):
            return None
        failures = result.payload.get("batchItemFailures") or []
        sequence_numbers = [record["dynamodb"]["SequenceNumber"] for record in batch]
        indexes = []
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if identifier not in sequence_numbers:
                # Lambda treats an empty or unknown identifier as a failure of the whole batch.
                return 0
            indexes.append(sequence_numbers.index(identifier))
        return min(indexes) if indexes else None

    def _send_to_destination(
        self, shard_id: str, batch: list[dict[str, Any]], result: InvocationResult, attempts: int
    ) -> None:
        if not batch:  # a window's final invocation, which carries no records
            self._printer(
                self.mapping.function, f"window of shard {shard_id} failed to close after {attempts} attempts"
            )
            return
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self._pool.arn(self.mapping.function),
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": result.function_error or "",
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime")),
                "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime")),
                "batchSize": len(batch),
                "streamArn": self.mapping.stream_arn,
            },
        }
        destination = self.mapping.on_failure_arn
        queue_url = self._queue_urls.get(destination or "")
        if queue_url is None:
            self._printer(
                self.mapping.function,
                f"stream batch failed after {attempts} attempts and has no on-failure queue: "
                + json.dumps(message["DDBStreamBatchInfo"]),
            )
            return
        self._sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))
        self._printer(
            self.mapping.function,
            f"stream batch of {len(batch)} failed after {attempts} attempts; sent to {destination}",
        )


def stream_mappings(stack: LocalStack) -> list[StreamMapping]:
    """The template's DynamoDB stream event source mappings, resolved."""
    mappings = []
    for name, resource in resources_of_type(stack.template, "AWS::Lambda::EventSourceMapping").items():
        properties = resource["Properties"]
        source = stack.resolve(properties["EventSourceArn"])
        if ":dynamodb:" not in source:
            continue
        on_failure = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        mappings.append(
            StreamMapping(
                name=name,
                function=stack.resolve(properties["FunctionName"]),
                stream_arn=source,
                starting_position=properties.get("StartingPosition", "LATEST"),
                batch_size=int(properties.get("BatchSize", 100)),
                maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", -1)),
                report_item_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
                on_failure_arn=stack.resolve(on_failure) if on_failure else None,
                enabled=str(properties.get("Enabled", True)).lower() != "false",
                tumbling_window_seconds=int(properties.get("TumblingWindowInSeconds", 0)),
            )
        )
    return mappings
