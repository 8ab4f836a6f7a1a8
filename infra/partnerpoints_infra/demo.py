"""`make demo`: build the template's resources locally and run the ledger through a small story.

Grows with each feature; for now: two members earn, spend, retry and get refunded, and every balance
is checked against the sum of its entries.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta

from partnerpoints_infra.dynamodb_local import dynamodb_local
from partnerpoints_infra.provision import Endpoints, LocalStack, provision

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@contextmanager
def local_stack(use_dynamodb_local: bool) -> Iterator[LocalStack]:
    """moto for everything, or DynamoDB Local for the tables (moto still holds the bucket and queue)."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    from moto import mock_aws

    with ExitStack() as stack:
        endpoint = stack.enter_context(dynamodb_local()) if use_dynamodb_local else None
        stack.enter_context(mock_aws())
        yield provision(Endpoints(dynamodb=endpoint))


def run_story(stack: LocalStack) -> bool:
    """Post the story, print balances and history; True when every balance reconciles."""
    from partnerpoints.dal.ledger_store import LedgerStore
    from partnerpoints.exceptions import InsufficientPoints
    from partnerpoints.logic.ledger import Ledger
    from partnerpoints.models.ledger import Account, EntryKind, Posting
    from partnerpoints.settings import Settings

    ledger = Ledger(LedgerStore(Settings.from_environment(stack.runtime_environment())))
    backend = (
        f"DynamoDB Local at {stack.endpoints.dynamodb}" if stack.endpoints.dynamodb else "moto (in memory)"
    )
    print(f"Tables from template.yaml in {backend}:")
    for logical_id in ("LedgerEntriesTable", "AccountBalancesTable", "IdempotencyTable"):
        print(f"  {logical_id:<22} {stack.table_name(logical_id)}")
    print()

    story = [
        (
            "alice",
            Account.MAIN,
            EntryKind.ACCRUAL_PENDING,
            420,
            "order#shop-a#A-1001#pending",
            "order shop-a/A-1001: 84.00 EUR at 5% = 420 points, pending",
        ),
        (
            "alice",
            Account.MAIN,
            EntryKind.ACCRUAL_RELEASE,
            420,
            "order#shop-a#A-1001#release",
            "return window over: 420 points available",
        ),
        ("alice", Account.PROMO, EntryKind.PROMO_CREDIT, 250, "promo#WELCOME#alice", "promo code WELCOME"),
        ("alice", Account.MAIN, EntryKind.SPEND, -300, "spend#shop-b#S-1", "spent 300 points at shop-b"),
        ("alice", Account.MAIN, EntryKind.SPEND, -300, "spend#shop-b#S-1", "the app retried that spend"),
        (
            "alice",
            Account.MAIN,
            EntryKind.SPEND,
            -500,
            "spend#shop-b#S-2",
            "tries to spend more than she has",
        ),
        (
            "bob",
            Account.MAIN,
            EntryKind.ACCRUAL_PENDING,
            800,
            "order#shop-a#B-7#pending",
            "order shop-a/B-7: 800 points pending",
        ),
        ("bob", Account.MAIN, EntryKind.ACCRUAL_RELEASE, 800, "order#shop-a#B-7#release", "released"),
        ("bob", Account.MAIN, EntryKind.SPEND, -600, "spend#shop-c#S-9", "spent 600 points at shop-c"),
        (
            "bob",
            Account.MAIN,
            EntryKind.CLAWBACK,
            -800,
            "order#shop-a#B-7#refunded",
            "order refunded after release: clawback, balance goes negative and is shown",
        ),
    ]
    for step, (member, account, kind, points, entry_id, what) in enumerate(story):
        posting = Posting(
            entry_id=entry_id,
            member_id=member,
            account=account,
            kind=kind,
            points=points,
            reference=entry_id.rsplit("#", 1)[0],
            description=what,
        )
        try:
            result = ledger.post(posting, now=START + timedelta(hours=step))
            outcome = "duplicate: first result returned, nothing changed" if result.duplicate else "posted"
        except InsufficientPoints as refused:
            outcome = f"refused: {refused.message}"
        print(f"{member:<6} {kind:<16} {points:>6}  {what}\n{'':<31}-> {outcome}")

    print()
    print(f"{'member':<8}{'account':<8}{'available':>10}{'pending':>9}{'lifetime':>10}  sum of entries")
    reconciled = True
    for member in ("alice", "bob"):
        for account, balance in ledger.balances(member).items():
            rebuilt = ledger.rebuilt_balance(member, account)
            same = (rebuilt.available, rebuilt.pending, rebuilt.lifetime_earned) == (
                balance.available,
                balance.pending,
                balance.lifetime_earned,
            )
            reconciled &= same
            print(
                f"{member:<8}{account:<8}{balance.available:>10}{balance.pending:>9}"
                f"{balance.lifetime_earned:>10}  {'matches' if same else 'MISMATCH'}"
            )

    print("\nalice's main account, newest first:")
    for entry in ledger.history("alice", Account.MAIN, limit=10).entries:
        print(f"  {entry.posted_at:%Y-%m-%d %H:%M}  {entry.kind:<16}{entry.points:>6}  {entry.entry_id}")
    print("\nreconciliation:", "every balance equals the sum of its entries" if reconciled else "MISMATCH")
    return reconciled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the Partner Points demo on the local stack.")
    parser.add_argument("--dynamodb-local", action="store_true", help="keep the tables in AWS DynamoDB Local")
    args = parser.parse_args(argv)
    with local_stack(args.dynamodb_local) as stack:
        return 0 if run_story(stack) else 1


if __name__ == "__main__":
    raise SystemExit(main())
