"""Where a period's statement run keeps its records, and how far a run got: read by the nightly job's
own status action and by the operator console, which must not load the whole job to know it."""

from __future__ import annotations

from datetime import date
from typing import Any

from partnerpoints.dal.statement_files import StatementBucket
from partnerpoints.models.operations import NightRun
from partnerpoints.models.periods import Period


def prefix(period: Period) -> str:
    return f"statements/{period.label}/"


def run_progress(bucket: StatementBucket, period: Period) -> tuple[int, dict[str, Any] | None]:
    """The shards done (each writes one record) and the manifest (None until the last shard is done)."""
    manifest = bucket.get_json(f"{prefix(period)}manifest.json")
    return len(bucket.keys(f"{prefix(period)}shards/")), manifest


def night_run(bucket: StatementBucket, day: date, shards: int) -> NightRun:
    done, manifest = run_progress(bucket, Period.day(day))
    if manifest is None:
        return NightRun(day=day, shards=shards, shards_done=done, manifest_written=False)
    reconciliation = manifest["reconciliation"]
    return NightRun(
        day=day,
        shards=shards,
        shards_done=done,
        manifest_written=True,
        members=manifest["members"],
        partners=manifest["partners"],
        accounts=manifest["accounts"],
        clean=reconciliation["clean"],
        mismatches=len(reconciliation["mismatches"]),
        expired_members=manifest["expired_members"],
        tier_changes=manifest["tier_changes"],
    )
