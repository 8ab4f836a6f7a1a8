"""What the ledger does when DynamoDB cancels a posting for reasons other than the data itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

from partnerpoints.dal import ledger_store
from partnerpoints.dal.ledger_store import LedgerStore, StageMore
from partnerpoints.exceptions import LedgerBusy
from partnerpoints.logic.ledger import Ledger
from partnerpoints.models.ledger import Account, EntryKind, Posting

POSTING = Posting(
    entry_id="e-1", member_id="m-1", account=Account.MAIN, kind=EntryKind.ADJUSTMENT, points=10, reference="r"
)


def cancelled(*codes: str | None) -> TransactWriteError:
    reasons = [CancellationReason(code=code) if code else None for code in codes]
    cause = VerboseClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}},
        "TransactWriteItems",
        cancellation_reasons=reasons,
    )
    return TransactWriteError("cancelled", cause=cause)


Flaky = Callable[[list[TransactWriteError]], list[int]]


@pytest.fixture
def flaky(monkeypatch: pytest.MonkeyPatch) -> Flaky:
    """Make the next transactions fail with the given errors, then behave; returns the attempt log."""
    monkeypatch.setattr(ledger_store, "back_off", lambda attempt: None)

    def install(failures: list[TransactWriteError]) -> list[int]:
        attempts: list[int] = []
        real = LedgerStore._transact

        def transact(
            self: LedgerStore,
            posting: Posting,
            posted_at: datetime,
            stage_more: StageMore | None,
            write_token: str,
        ) -> None:
            attempts.append(len(attempts))
            if failures:
                raise failures.pop(0)
            real(self, posting, posted_at, stage_more, write_token)

        monkeypatch.setattr(LedgerStore, "_transact", transact)
        return attempts

    return install


def test_conflicts_and_throttling_are_retried_until_the_posting_lands(ledger: Ledger, flaky: Flaky) -> None:
    attempts = flaky([cancelled("TransactionConflict", None), cancelled(None, "ThrottlingError")])
    result = ledger.post(POSTING)
    assert not result.duplicate
    assert len(attempts) == 3
    assert ledger.balances("m-1")[Account.MAIN].available == 10


def test_an_account_that_never_settles_is_reported_busy(
    ledger: Ledger, flaky: Flaky, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_store, "MAX_ATTEMPTS", 4)
    attempts = flaky([cancelled("TransactionConflict", "TransactionConflict") for _ in range(4)])
    with pytest.raises(LedgerBusy):
        ledger.post(POSTING)
    assert len(attempts) == 4
    assert ledger.balances("m-1")[Account.MAIN].available == 0


def test_an_unexplained_cancellation_is_not_disguised(ledger: Ledger, flaky: Flaky) -> None:
    flaky([cancelled("ValidationError", None)])
    with pytest.raises(TransactWriteError):
        ledger.post(POSTING)


def test_an_entry_can_be_read_by_its_id(ledger: Ledger) -> None:
    ledger.post(POSTING)
    entry = ledger.entry("e-1")
    assert entry is not None
    assert entry.points == 10
    assert ledger.entry("missing") is None
