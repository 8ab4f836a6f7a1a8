"""The ledger's definition: which kind goes on which account, with which sign, moving which balance."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from partnerpoints.logic.ledger import fold_entries
from partnerpoints.models.ledger import (
    KIND_RULES,
    Account,
    Bucket,
    Effect,
    EntryKind,
    LedgerEntry,
    Posting,
)

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def posting(kind: EntryKind, points: int, account: Account = Account.MAIN, **extra: object) -> Posting:
    return Posting(
        entry_id=f"test#{kind}#{points}",
        member_id="m-1",
        account=account,
        kind=kind,
        points=points,
        reference="order:shop:1",
        **extra,
    )


@pytest.mark.parametrize(
    ("kind", "account", "points", "expected"),
    [
        (EntryKind.ACCRUAL_PENDING, Account.MAIN, 120, Effect(pending=120)),
        (
            EntryKind.ACCRUAL_RELEASE,
            Account.MAIN,
            120,
            Effect(available=120, pending=-120, lifetime_earned=120, guard=Bucket.PENDING),
        ),
        (EntryKind.ACCRUAL_VOID, Account.MAIN, -40, Effect(pending=-40, guard=Bucket.PENDING)),
        (EntryKind.CLAWBACK, Account.MAIN, -40, Effect(available=-40)),
        (EntryKind.PROMO_CREDIT, Account.PROMO, 500, Effect(available=500)),
        (EntryKind.PROMO_REVOKE, Account.PROMO, -500, Effect(available=-500)),
        (EntryKind.SPEND, Account.MAIN, -30, Effect(available=-30, guard=Bucket.AVAILABLE)),
        (EntryKind.SPEND, Account.PROMO, -30, Effect(available=-30, guard=Bucket.AVAILABLE)),
        (EntryKind.SPEND_REFUND, Account.MAIN, 30, Effect(available=30)),
        (EntryKind.EXPIRY, Account.MAIN, -10, Effect(available=-10, guard=Bucket.AVAILABLE)),
        (EntryKind.ADJUSTMENT, Account.MAIN, 25, Effect(available=25)),
        (EntryKind.ADJUSTMENT, Account.PROMO, -25, Effect(available=-25, guard=Bucket.AVAILABLE)),
    ],
)
def test_each_kind_moves_the_documented_balances(
    kind: EntryKind, account: Account, points: int, expected: Effect
) -> None:
    assert posting(kind, points, account).effect() == expected


def test_every_kind_has_a_rule() -> None:
    assert set(KIND_RULES) == set(EntryKind)


@pytest.mark.parametrize(
    ("kind", "account", "points", "problem"),
    [
        (EntryKind.ACCRUAL_PENDING, Account.PROMO, 10, "belong on the main account"),
        (EntryKind.PROMO_CREDIT, Account.MAIN, 10, "belong on the promo account"),
        (EntryKind.SPEND, Account.MAIN, 10, "must be negative"),
        (EntryKind.ACCRUAL_PENDING, Account.MAIN, -10, "must be positive"),
        (EntryKind.ADJUSTMENT, Account.MAIN, 0, "must not be zero"),
    ],
)
def test_postings_that_make_no_sense_are_refused(
    kind: EntryKind, account: Account, points: int, problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        posting(kind, points, account)


@pytest.mark.parametrize(
    "field_values",
    [
        {"entry_id": ""},
        {"entry_id": "has space"},
        {"entry_id": "x" * 257},
        {"member_id": "-starts-with-dash"},
        {"reference": ""},
        {"occurred_at": datetime(2026, 1, 1)},  # naive: whose midnight?
        {"unexpected": "field"},
    ],
)
def test_malformed_postings_are_refused(field_values: dict[str, object]) -> None:
    values: dict[str, object] = {
        "entry_id": "e-1",
        "member_id": "m-1",
        "account": "main",
        "kind": "adjustment",
        "points": 5,
        "reference": "ref",
        **field_values,
    }
    with pytest.raises(ValidationError):
        Posting.model_validate(values)


def stored(p: Posting) -> LedgerEntry:
    return LedgerEntry(**p.model_dump(exclude={"occurred_at"}), occurred_at=NOW, posted_at=NOW)


def test_a_retry_is_the_same_event_but_a_different_amount_is_not() -> None:
    original = posting(EntryKind.ACCRUAL_PENDING, 100, description="first try")
    retry = posting(EntryKind.ACCRUAL_PENDING, 100, description="second try", occurred_at=NOW)
    assert retry.same_event_as(stored(original))
    assert not posting(EntryKind.ACCRUAL_PENDING, 101).same_event_as(stored(original))
    assert not posting(EntryKind.ADJUSTMENT, 100).same_event_as(stored(original))


def test_fold_of_a_purchase_lifecycle() -> None:
    entries = [
        stored(posting(EntryKind.ACCRUAL_PENDING, 200)),
        stored(posting(EntryKind.ACCRUAL_VOID, -50)),
        stored(posting(EntryKind.ACCRUAL_RELEASE, 150)),
        stored(posting(EntryKind.SPEND, -100)),
        stored(posting(EntryKind.CLAWBACK, -80)),
    ]
    balance = fold_entries("m-1", Account.MAIN, entries)
    assert (balance.available, balance.pending, balance.lifetime_earned) == (-30, 0, 150)


credits_and_debits = st.lists(
    st.tuples(
        st.sampled_from([EntryKind.ADJUSTMENT, EntryKind.SPEND, EntryKind.SPEND_REFUND, EntryKind.EXPIRY]),
        st.integers(min_value=1, max_value=10**9),
    ),
    max_size=30,
)


@given(credits_and_debits)
def test_available_is_the_signed_sum_of_available_movements(moves: list[tuple[EntryKind, int]]) -> None:
    signed = [(kind, -points if KIND_RULES[kind].sign < 0 else points) for kind, points in moves]
    entries = [
        LedgerEntry(
            entry_id=f"e{i}",
            member_id="m",
            account=Account.MAIN,
            kind=kind,
            points=points,
            reference="r",
            occurred_at=NOW,
            posted_at=NOW,
        )
        for i, (kind, points) in enumerate(signed)
    ]
    balance = fold_entries("m", Account.MAIN, entries)
    assert balance.available == sum(points for _, points in signed)
    assert balance.pending == 0


@given(st.text(min_size=0, max_size=2000))
def test_a_description_is_shortened_to_fit_never_refused(text: str) -> None:
    # Found by the schema fuzz: a 500-character reason plus "(by <operator ARN>)" failed the entry.
    described = posting(EntryKind.ADJUSTMENT, 5, description=text).description
    assert described is not None
    assert len(described) <= 500
    if len(text) <= 500:
        assert described == text
    else:
        assert described == text[:499] + "…"
