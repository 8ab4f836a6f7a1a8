"""The ledger on moto tables built from the template: exactly-once posting, guarded debits, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from partnerpoints.exceptions import ConflictingEntry, InsufficientPoints, InvalidCursor
from partnerpoints.logic.ledger import Ledger
from partnerpoints.models.ledger import Account, EntryKind, Posting
from partnerpoints_infra.provision import LocalStack

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def post(
    ledger: Ledger,
    entry_id: str,
    kind: EntryKind,
    points: int,
    member: str = "m-1",
    account: Account = Account.MAIN,
    reference: str = "ref",
    at: datetime = T0,
) -> Posting:
    posting = Posting(
        entry_id=entry_id, member_id=member, account=account, kind=kind, points=points, reference=reference
    )
    ledger.post(posting, now=at)
    return posting


def main_balance(ledger: Ledger, member: str = "m-1") -> tuple[int, int, int]:
    balance = ledger.balances(member)[Account.MAIN]
    return balance.available, balance.pending, balance.lifetime_earned


def count_items(stack: LocalStack, logical_id: str) -> int:
    client = boto3.client("dynamodb", region_name="us-east-1")
    return int(client.scan(TableName=stack.table_name(logical_id), Select="COUNT")["Count"])


def test_a_purchase_moves_from_pending_to_available(ledger: Ledger) -> None:
    post(ledger, "order#shop#1#pending", EntryKind.ACCRUAL_PENDING, 250)
    assert main_balance(ledger) == (0, 250, 0)
    post(ledger, "order#shop#1#release", EntryKind.ACCRUAL_RELEASE, 250)
    assert main_balance(ledger) == (250, 0, 250)


def test_reposting_returns_the_first_entry_and_changes_nothing(
    ledger: Ledger, moto_stack: LocalStack
) -> None:
    posting = Posting(
        entry_id="promo#WIN-7K3P#m-1",
        member_id="m-1",
        account=Account.PROMO,
        kind=EntryKind.PROMO_CREDIT,
        points=500,
        reference="code:WIN-7K3P",
    )
    first = ledger.post(posting, now=T0)
    again = ledger.post(posting.model_copy(update={"description": "retried"}), now=T0 + timedelta(hours=1))
    assert not first.duplicate
    assert again.duplicate
    assert again.entry == first.entry  # the original, with its original timestamps
    assert ledger.balances("m-1")[Account.PROMO].available == 500
    assert count_items(moto_stack, "LedgerEntriesTable") == 1


@pytest.mark.parametrize(
    "change",
    [{"points": 501}, {"member_id": "m-2"}, {"reference": "code:OTHER"}, {"kind": EntryKind.ADJUSTMENT}],
)
def test_a_different_event_under_an_existing_id_is_refused(ledger: Ledger, change: dict[str, object]) -> None:
    original = {
        "entry_id": "e-1",
        "member_id": "m-1",
        "account": Account.PROMO,
        "kind": EntryKind.PROMO_CREDIT,
        "points": 500,
        "reference": "code:A",
    }
    ledger.post(Posting.model_validate(original))
    with pytest.raises(ConflictingEntry) as refused:
        ledger.post(Posting.model_validate({**original, **change}))
    assert refused.value.details[0]["existing"]["points"] == 500
    assert ledger.balances("m-1")[Account.PROMO].available == 500
    assert ledger.balances("m-2")[Account.PROMO].available == 0


def test_a_spend_never_overdraws(ledger: Ledger, moto_stack: LocalStack) -> None:
    post(ledger, "credit", EntryKind.ADJUSTMENT, 100)
    with pytest.raises(InsufficientPoints) as refused:
        post(ledger, "spend-1", EntryKind.SPEND, -101)
    assert refused.value.details == [{"member_id": "m-1", "account": "main", "available": 100, "needed": 101}]
    assert main_balance(ledger) == (100, 0, 0)
    assert count_items(moto_stack, "LedgerEntriesTable") == 1  # nothing half-written
    post(ledger, "spend-2", EntryKind.SPEND, -100)
    assert main_balance(ledger) == (0, 0, 0)


def test_spending_from_an_account_never_credited_is_refused(ledger: Ledger) -> None:
    with pytest.raises(InsufficientPoints, match="has 0 available points"):
        post(ledger, "spend", EntryKind.SPEND, -1, member="newcomer", account=Account.PROMO)


def test_release_cannot_exceed_what_is_pending(ledger: Ledger) -> None:
    post(ledger, "pending", EntryKind.ACCRUAL_PENDING, 50)
    with pytest.raises(InsufficientPoints, match="50 pending points"):
        post(ledger, "release", EntryKind.ACCRUAL_RELEASE, 60)
    with pytest.raises(InsufficientPoints):
        post(ledger, "void", EntryKind.ACCRUAL_VOID, -60)


def test_a_clawback_after_spending_goes_negative_and_is_shown(ledger: Ledger) -> None:
    post(ledger, "pending", EntryKind.ACCRUAL_PENDING, 100)
    post(ledger, "release", EntryKind.ACCRUAL_RELEASE, 100)
    post(ledger, "spend", EntryKind.SPEND, -100)
    post(ledger, "refund-clawback", EntryKind.CLAWBACK, -100)
    assert main_balance(ledger) == (-100, 0, 100)
    assert ledger.rebuilt_balance("m-1", Account.MAIN).available == -100


def test_accounts_are_kept_apart(ledger: Ledger) -> None:
    post(ledger, "main", EntryKind.ADJUSTMENT, 10)
    post(ledger, "promo", EntryKind.PROMO_CREDIT, 20, account=Account.PROMO)
    post(ledger, "other", EntryKind.ADJUSTMENT, 30, member="m-2")
    balances = ledger.balances("m-1")
    assert (balances[Account.MAIN].available, balances[Account.PROMO].available) == (10, 20)
    assert ledger.balances("m-2")[Account.MAIN].available == 30


def test_history_pages_newest_first_without_gaps_or_repeats(ledger: Ledger) -> None:
    for minute in range(7):
        post(ledger, f"e{minute}", EntryKind.ADJUSTMENT, minute + 1, at=T0 + timedelta(minutes=minute))
    post(ledger, "elsewhere", EntryKind.PROMO_CREDIT, 5, account=Account.PROMO)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = ledger.history("m-1", Account.MAIN, limit=3, cursor=cursor)
        seen += [entry.entry_id for entry in page.entries]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"e{minute}" for minute in reversed(range(7))]
    assert pages == 3


def test_an_exact_last_page_has_no_cursor(ledger: Ledger) -> None:
    for n in range(3):
        post(ledger, f"e{n}", EntryKind.ADJUSTMENT, 1, at=T0 + timedelta(seconds=n))
    assert ledger.history("m-1", Account.MAIN, limit=3).next_cursor is None


@pytest.mark.parametrize("cursor", ["not-base64!", "e30", "W10"])
def test_a_forged_cursor_is_refused(ledger: Ledger, cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        ledger.history("m-1", Account.MAIN, limit=3, cursor=cursor)


def test_a_cursor_from_another_account_is_refused(ledger: Ledger) -> None:
    for n in range(3):
        post(ledger, f"e{n}", EntryKind.ADJUSTMENT, 1, member="m-2", at=T0 + timedelta(seconds=n))
    cursor = ledger.history("m-2", Account.MAIN, limit=1).next_cursor
    with pytest.raises(InvalidCursor):
        ledger.history("m-1", Account.MAIN, limit=1, cursor=cursor)


@pytest.mark.parametrize("limit", [0, 101])
def test_page_size_is_bounded(ledger: Ledger, limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        ledger.history("m-1", Account.MAIN, limit=limit)
