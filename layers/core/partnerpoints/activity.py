"""The activity index's keys: what happened on a day, split into shards, so the nightly job reads the
members and partners active that day and never the whole of a table.

Items written with the day's activity (ledger entries, clicks, order changes) carry an attribute
"{day}#{shard:02d}"; sparse indexes keyed on it list one shard's subjects of one day. The shard of a
member or partner is a hash of its id, fixed: changing SHARDS would hide the days written before.
Standard library only: the click function imports it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

SHARDS = 16


def shard_of(subject_id: str) -> int:
    digest = hashlib.sha256(subject_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") % SHARDS


def activity_key(day: date, shard: int) -> str:
    return f"{day.isoformat()}#{shard:02d}"


def activity_key_of(subject_id: str, moment: datetime) -> str:
    """The index key of `subject_id`'s activity at `moment` (its UTC day)."""
    return activity_key(moment.astimezone(UTC).date(), shard_of(subject_id))
