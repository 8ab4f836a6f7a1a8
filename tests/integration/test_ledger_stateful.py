"""Hypothesis drives random postings, retries, conflicting re-posts and overdrafts against the real
ledger (moto tables from the template) and an in-memory model; after every step the stored balances
must equal the model and the sum of their entries, and no spend may have overdrawn an account."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from moto import mock_aws

from partnerpoints.dal.ledger_store import LedgerStore
from partnerpoints.exceptions import ConflictingEntry, InsufficientPoints
from partnerpoints.logic.ledger import Ledger
from partnerpoints.models.ledger import KIND_RULES, Account, Bucket, EntryKind, Posting
from partnerpoints_infra.provision import provision
from tests.conftest import settings_for

MEMBERS = ("m-1", "m-2")
UNGUARDED_DEBITS = {EntryKind.CLAWBACK, EntryKind.PROMO_REVOKE}

postings = st.sampled_from(sorted(EntryKind)).flatmap(
    lambda kind: st.tuples(
        st.just(kind),
        st.sampled_from(sorted(KIND_RULES[kind].accounts)),
        st.integers(min_value=1, max_value=400).map(lambda n: n * (KIND_RULES[kind].sign or 1))
        if KIND_RULES[kind].sign
        else st.integers(min_value=-400, max_value=400).filter(bool),
    )
)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.mock = mock_aws()
        self.mock.start()
        self.ledger = Ledger(LedgerStore(settings_for(provision())))
        self.model: dict[tuple[str, Account], dict[str, int]] = defaultdict(
            lambda: {"available": 0, "pending": 0, "lifetime_earned": 0}
        )
        self.posted: list[Posting] = []
        self.went_negative_legitimately: set[tuple[str, Account]] = set()
        self.counter = 0

    def teardown(self) -> None:
        self.mock.stop()

    @initialize()
    def nothing_yet(self) -> None:
        for member in MEMBERS:
            assert all(balance.available == 0 for balance in self.ledger.balances(member).values())

    def _next_id(self) -> str:
        self.counter += 1
        return f"event#{self.counter}"

    def _would_overdraw(self, posting: Posting) -> bool:
        effect = posting.effect()
        if effect.guard is None:
            return False
        current = self.model[(posting.member_id, posting.account)][effect.guard]
        delta = effect.available if effect.guard is Bucket.AVAILABLE else effect.pending
        return current + delta < 0

    def _apply(self, posting: Posting) -> None:
        effect = posting.effect()
        balance = self.model[(posting.member_id, posting.account)]
        balance["available"] += effect.available
        balance["pending"] += effect.pending
        balance["lifetime_earned"] += effect.lifetime_earned
        if posting.kind in UNGUARDED_DEBITS:
            self.went_negative_legitimately.add((posting.member_id, posting.account))

    @rule(member=st.sampled_from(MEMBERS), event=postings)
    def post_new_event(self, member: str, event: tuple[EntryKind, Account, int]) -> None:
        kind, account, points = event
        posting = Posting(
            entry_id=self._next_id(),
            member_id=member,
            account=account,
            kind=kind,
            points=points,
            reference=f"ref:{kind}",
        )
        if self._would_overdraw(posting):
            with pytest.raises(InsufficientPoints):
                self.ledger.post(posting)
            return
        result = self.ledger.post(posting)
        assert not result.duplicate
        self._apply(posting)
        self.posted.append(posting)

    @precondition(lambda self: self.posted)
    @rule(data=st.data())
    def retry_a_posted_event(self, data: Any) -> None:
        posting = data.draw(st.sampled_from(self.posted))
        result = self.ledger.post(posting)
        assert result.duplicate
        assert result.entry.points == posting.points

    @precondition(lambda self: self.posted)
    @rule(data=st.data(), extra=st.integers(min_value=1, max_value=50))
    def repost_an_id_with_other_points(self, data: Any, extra: int) -> None:
        posting = data.draw(st.sampled_from(self.posted))
        changed = posting.model_copy(
            update={"points": posting.points + extra * (1 if posting.points > 0 else -1)}
        )
        with pytest.raises(ConflictingEntry):
            self.ledger.post(changed)

    @rule(
        member=st.sampled_from(MEMBERS),
        account=st.sampled_from(sorted(Account)),
        excess=st.integers(min_value=1, max_value=100),
    )
    def spend_more_than_available(self, member: str, account: Account, excess: int) -> None:
        available = self.model[(member, account)]["available"]
        points = -(max(available, 0) + excess)
        with pytest.raises(InsufficientPoints):
            self.ledger.post(
                Posting(
                    entry_id=self._next_id(),
                    member_id=member,
                    account=account,
                    kind=EntryKind.SPEND,
                    points=points,
                    reference="overdraft attempt",
                )
            )

    @invariant()
    def balances_equal_model_and_sum_of_entries(self) -> None:
        for member in MEMBERS:
            stored = self.ledger.balances(member)
            for account in Account:
                balance = stored[account]
                numbers = {
                    "available": balance.available,
                    "pending": balance.pending,
                    "lifetime_earned": balance.lifetime_earned,
                }
                assert numbers == self.model[(member, account)]
                rebuilt = self.ledger.rebuilt_balance(member, account)
                assert (rebuilt.available, rebuilt.pending, rebuilt.lifetime_earned) == (
                    balance.available,
                    balance.pending,
                    balance.lifetime_earned,
                )
                assert balance.pending >= 0
                if (member, account) not in self.went_negative_legitimately:
                    assert balance.available >= 0


TestLedgerMachine = LedgerMachine.TestCase
TestLedgerMachine.settings = settings(
    max_examples=14,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
