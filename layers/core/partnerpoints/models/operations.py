"""What the operator console shows of the program's machinery: the dead-letter queue, the nightly
run's queue and the last nights' statement runs with their reconciliation."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class QueueDepth(BaseModel):
    """SQS's approximate counts (they lag by up to a minute)."""

    messages: int = Field(ge=0, description="waiting to be received")
    in_flight: int = Field(ge=0, description="received and not yet deleted (being handled, or retried)")


class NightRun(BaseModel):
    """One day's statement run: how far its shards got and, once its manifest is written, what the
    reconciliation of every account with its entries found."""

    day: dt.date
    shards: int
    shards_done: int
    manifest_written: bool
    members: int | None = None
    partners: int | None = None
    accounts: int | None = None
    clean: bool | None = Field(default=None, description="null until the manifest is written")
    mismatches: int | None = Field(default=None, description="accounts whose balance is not their entries")
    expired_members: int | None = None
    tier_changes: int | None = None


class OperationsOverview(BaseModel):
    checked_at: dt.datetime
    dead_letter_queue: QueueDepth = Field(
        description="stream batches, shard tasks and scheduled runs that kept failing (docs/operations.md)"
    )
    statement_tasks: QueueDepth = Field(description="the nightly run's shards still to write")
    nights: list[NightRun] = Field(description="newest first; a night not run yet has no shards done")
