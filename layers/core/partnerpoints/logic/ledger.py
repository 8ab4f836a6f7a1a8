"""The points ledger: post business events exactly once, read balances and history, rebuild from entries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache

from partnerpoints.dal.ledger_store import LedgerStore
from partnerpoints.models.ledger import (
    Account,
    Balance,
    HistoryPage,
    LedgerEntry,
    Posting,
    PostResult,
    effect_of,
)
from partnerpoints.settings import get_settings

MAX_HISTORY_PAGE = 100


def fold_entries(member_id: str, account: Account, entries: Iterable[LedgerEntry]) -> Balance:
    """The balance an account must have given its entries (invariant 1: balance = sum of entries)."""
    available = pending = lifetime_earned = 0
    for entry in entries:
        effect = effect_of(entry.kind, entry.points)
        available += effect.available
        pending += effect.pending
        lifetime_earned += effect.lifetime_earned
    return Balance(
        member_id=member_id,
        account=account,
        available=available,
        pending=pending,
        lifetime_earned=lifetime_earned,
    )


class Ledger:
    def __init__(self, store: LedgerStore) -> None:
        self._store = store

    def post(self, posting: Posting, now: datetime | None = None) -> PostResult:
        """Post once. The same entry id again returns the first entry with `duplicate=True`; the same id
        with a different member, account, kind, points or reference raises ConflictingEntry."""
        return self._store.post(posting, now=now)

    def entry(self, entry_id: str) -> LedgerEntry | None:
        return self._store.get_entry(entry_id)

    def balances(self, member_id: str) -> dict[Account, Balance]:
        return self._store.get_balances(member_id)

    def history(
        self, member_id: str, account: Account, limit: int = 50, cursor: str | None = None
    ) -> HistoryPage:
        if not 1 <= limit <= MAX_HISTORY_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_HISTORY_PAGE}")
        return self._store.history(member_id, account, limit, cursor)

    def all_entries(self, member_id: str, account: Account) -> list[LedgerEntry]:
        """Every entry of one account, oldest first (statements and reconciliation)."""
        return self._store.all_entries(member_id, account)

    def rebuilt_balance(self, member_id: str, account: Account) -> Balance:
        """The balance recomputed from every entry of the account, for reconciliation."""
        return fold_entries(member_id, account, self.all_entries(member_id, account))


@cache
def get_ledger() -> Ledger:
    """The process-wide ledger, bound to the tables named in the environment."""
    return Ledger(LedgerStore(get_settings()))
