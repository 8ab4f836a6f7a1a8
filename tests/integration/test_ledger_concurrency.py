"""Races against AWS DynamoDB Local (a real storage engine; moto is not safe under concurrent writes)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from partnerpoints.exceptions import InsufficientPoints
from partnerpoints.logic.ledger import Ledger
from partnerpoints.models.ledger import Account, EntryKind, Posting

THREADS = 20


def race(action: Callable[[int], str], threads: int = THREADS) -> Counter[str]:
    """Run `action(i)` on `threads` threads released at the same instant."""
    start = threading.Barrier(threads)

    def run(i: int) -> str:
        start.wait()
        return action(i)

    with ThreadPoolExecutor(threads) as pool:
        return Counter(pool.map(run, range(threads)))


def test_twenty_spends_racing_for_five_spends_worth_exactly_five_succeed(local_ledger: Ledger) -> None:
    local_ledger.post(
        Posting(
            entry_id="grant",
            member_id="m-1",
            account=Account.MAIN,
            kind=EntryKind.ADJUSTMENT,
            points=500,
            reference="welcome",
        )
    )

    def spend(i: int) -> str:
        try:
            local_ledger.post(
                Posting(
                    entry_id=f"spend#{i}",
                    member_id="m-1",
                    account=Account.MAIN,
                    kind=EntryKind.SPEND,
                    points=-100,
                    reference=f"basket:{i}",
                )
            )
        except InsufficientPoints:
            return "refused"
        return "spent"

    outcomes = race(spend)
    assert outcomes == Counter({"spent": 5, "refused": 15})
    assert local_ledger.balances("m-1")[Account.MAIN].available == 0
    spends = [e for e in local_ledger.all_entries("m-1", Account.MAIN) if e.kind is EntryKind.SPEND]
    assert len(spends) == 5
    assert local_ledger.rebuilt_balance("m-1", Account.MAIN).available == 0


@pytest.mark.parametrize("account", [Account.MAIN, Account.PROMO])
def test_the_same_event_delivered_twenty_times_at_once_posts_once(
    local_ledger: Ledger, account: Account
) -> None:
    kind = EntryKind.ADJUSTMENT if account is Account.MAIN else EntryKind.PROMO_CREDIT
    # Warm the client first, so the threads race on DynamoDB rather than on loading botocore's models.
    local_ledger.post(
        Posting(entry_id="warm-up", member_id="m-0", account=account, kind=kind, points=1, reference="r")
    )
    posting = Posting(
        entry_id="event#1", member_id="m-1", account=account, kind=kind, points=70, reference="r"
    )
    outcomes = race(lambda _: "duplicate" if local_ledger.post(posting).duplicate else "posted")
    assert outcomes == Counter({"posted": 1, "duplicate": THREADS - 1})
    assert local_ledger.balances("m-1")[account].available == 70
    assert local_ledger.rebuilt_balance("m-1", account).available == 70
