"""The statements bucket and the shard queue of the nightly job (boto3: S3 and SQS).

Records that carry a run's timings are compared without them before they are written, so a re-run
that changes nothing leaves every object byte for byte as the first run wrote it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

from partnerpoints.settings import Settings

VOLATILE = "timings_ms"
# How long a presigned link to a statement or an analytics file reads it.
LINK_LIFETIME = timedelta(minutes=5)
# What S3 answers for a key that is not there: 404 to a role that may list the bucket, 403 to one that
# may not (so that the answer does not tell what exists). The functions' roles read only the prefixes
# they need and may not list the whole bucket, so in AWS a missing key of theirs is a 403.
_ABSENT = frozenset({"NoSuchKey", "404", "AccessDenied", "403"})


def _absent(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in _ABSENT


def canonical_json(document: Any) -> bytes:
    return (json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def _without_timings(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != VOLATILE}


class StatementBucket:
    """The statements bucket alone: what readers of statements (the reporting routes) need."""

    def __init__(self, settings: Settings) -> None:
        self._bucket: str = settings.required("statements_bucket_name")
        self._s3 = boto3.client("s3", region_name=settings.region)

    def presigned_get(self, key: str, seconds: int) -> str:
        """A URL that reads `key` for `seconds`, signed with this function's own credentials."""
        url: str = self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=seconds
        )
        return url

    def exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if _absent(error):
                return False
            raise
        return True

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)

    def get_json(self, key: str) -> dict[str, Any] | None:
        try:
            answer = self._s3.get_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if _absent(error):
                return None
            raise
        document: dict[str, Any] = json.loads(answer["Body"].read())
        return document

    def keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix):
            found.extend(item["Key"] for item in page.get("Contents", []))
        return found


class StatementFiles(StatementBucket):
    """The bucket and the shard queue of the nightly job."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._queue_url: str = settings.required("statement_tasks_queue_url")
        self._sqs = boto3.client("sqs", region_name=settings.region)

    def put_record(self, key: str, document: dict[str, Any]) -> bool:
        """Write a JSON record unless the stored one says the same apart from its timings; True when
        written."""
        existing = self.get_json(key)
        if existing is not None and _without_timings(existing) == _without_timings(
            json.loads(canonical_json(document))
        ):
            return False
        self.put(key, canonical_json(document), "application/json")
        return True

    def put_once(self, key: str, document: dict[str, Any]) -> bool:
        """Write a JSON record only if none is there yet (the first run's record stays)."""
        if self.get_json(key) is not None:
            return False
        self.put(key, canonical_json(document), "application/json")
        return True

    def enqueue(self, tasks: Iterable[dict[str, Any]]) -> int:
        batch: list[dict[str, Any]] = []
        sent = 0
        for task in tasks:
            batch.append({"Id": str(len(batch)), "MessageBody": json.dumps(task, sort_keys=True)})
            if len(batch) == 10:  # SendMessageBatch's limit
                sent += self._send(batch)
                batch = []
        if batch:
            sent += self._send(batch)
        return sent

    def _send(self, batch: list[dict[str, Any]]) -> int:
        answer = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=batch)
        if answer.get("Failed"):
            raise RuntimeError(f"the shard queue refused {len(answer['Failed'])} tasks: {answer['Failed']}")
        return len(batch)
