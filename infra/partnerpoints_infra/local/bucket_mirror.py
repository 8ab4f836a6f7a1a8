"""Copies every object of the template's buckets to files under the state directory, so a person can
open a statement the functions wrote (`.local/buckets/StatementsBucket/...`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from partnerpoints_infra.local.background import BackgroundLoop

MIRROR_INTERVAL_SECONDS = 1.0


class BucketMirror(BackgroundLoop):
    def __init__(self, s3_client: Any, buckets: dict[str, str], root: Path) -> None:
        self._s3 = s3_client
        self._buckets = buckets  # logical id -> bucket name
        self._root = root
        self._seen: dict[tuple[str, str], str] = {}
        super().__init__("bucket-mirror")

    def stop(self) -> None:
        super().stop()
        self.sync()  # what was written just before the stop is mirrored too

    def _run(self) -> None:
        while not self._stop.wait(MIRROR_INTERVAL_SECONDS):
            self.sync()

    def sync(self) -> list[Path]:
        """Write new and changed objects; the paths written."""
        written = []
        for logical_id, bucket in self._buckets.items():
            folder = (self._root / logical_id).resolve()
            for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for item in page.get("Contents", []):
                    key, etag = item["Key"], item["ETag"]
                    if self._seen.get((bucket, key)) == etag:
                        continue
                    target = (folder / key).resolve()
                    if not target.is_relative_to(folder) or key.endswith("/"):
                        continue  # a key like ../x or a folder marker is not mirrored
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(self._s3.get_object(Bucket=bucket, Key=key)["Body"].read())
                    self._seen[(bucket, key)] = etag
                    written.append(target)
        return written
