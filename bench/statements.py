"""Nightly statements figures for `make bench`: the run for a day with 1,000 active members among
1,000, and with 1,000 active among 50,000, on DynamoDB Local. The activity index is what keeps the
second from growing with the inactive members; the figures show whether it does. Nothing asserts."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

from harness import metered_dynamodb
from partnerpoints.activity import SHARDS
from partnerpoints.dal.ledger_store import entry_item
from partnerpoints.dal.ledger_tables import AccountBalanceItem, LedgerEntryItem
from partnerpoints.dal.tables import bind_tables
from partnerpoints.logic.nightly_statements import nightly_statements
from partnerpoints.models.ledger import Account, EntryKind, Posting
from partnerpoints.models.periods import Period
from partnerpoints.settings import Settings
from partnerpoints_infra.provision import Endpoints, LocalStack, provision

ACTIVE = 1_000
POPULATIONS = (1_000, 50_000)


def _seed(settings: Settings, members: int, active_day: datetime, quiet_day: datetime) -> None:
    """`members` members with one credit each: the first ACTIVE on the day closed, the rest 100 days
    before (in the tables and their indexes, but not active that day). Written in batches."""
    bind_tables(settings)
    with LedgerEntryItem.batch_write() as entries, AccountBalanceItem.batch_write() as balances:
        for number in range(members):
            member_id = f"member-{number:06d}"
            posted_at = active_day if number < ACTIVE else quiet_day
            posting = Posting(
                entry_id=f"bench#{member_id}",
                member_id=member_id,
                account=Account.MAIN,
                kind=EntryKind.ADJUSTMENT,
                points=100,
                reference="bench credit",
            )
            entries.save(entry_item(posting, posted_at))
            balances.save(
                AccountBalanceItem(member_id, str(Account.MAIN), available=100, updated_at=posted_at)
            )


def statements_figures(endpoint: str) -> dict[str, dict[str, float]]:
    day = datetime.now(UTC).date() - timedelta(days=1)
    active_day = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    figures = {}
    for members in POPULATIONS:
        stack: LocalStack = provision(Endpoints(dynamodb=endpoint), stack_name=f"bench-statements-{members}")
        os.environ.update(stack.runtime_environment("StatementsFunction"))  # the earning rules among them
        settings = Settings.from_environment()
        seeding = time.perf_counter()
        _seed(settings, members, active_day, active_day - timedelta(days=100))
        seeded = time.perf_counter() - seeding
        with metered_dynamodb() as meter:
            statements = nightly_statements(settings)
            started = time.perf_counter()
            statements.close(day)
            for shard in range(SHARDS):  # what the queue's messages do, here one after another
                statements.run_shard(Period.day(day), shard)
            seconds = time.perf_counter() - started
        manifest = statements.status(Period.day(day))["manifest"] or {}
        figures[f"{ACTIVE:,} active among {members:,}"] = {
            "members": members,
            "statements": manifest.get("members", 0),
            "clean": float(bool(manifest.get("reconciliation", {}).get("clean"))),
            "seconds": seconds,
            "requests": float(sum(meter.requests.values())),
            "read_units": meter.read_units,
            "write_units": meter.write_units,
            "seed_seconds": seeded,
        }
    return figures
