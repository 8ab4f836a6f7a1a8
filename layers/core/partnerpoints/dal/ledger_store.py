"""The only code that reads or writes the ledger tables; it speaks domain models and domain exceptions."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import CancellationReason, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from partnerpoints.activity import activity_key_of
from partnerpoints.dal.cursors import PageQuery
from partnerpoints.dal.ledger_tables import (
    AccountBalanceItem,
    AccountHistoryIndex,
    LedgerEntryItem,
    MemberHistoryIndex,
)
from partnerpoints.dal.tables import bind_tables
from partnerpoints.dal.transactions import MAX_ATTEMPTS, back_off, failed_condition, is_retryable
from partnerpoints.exceptions import ConcurrentChange, ConflictingEntry, InsufficientPoints, LedgerBusy
from partnerpoints.models.ledger import (
    Account,
    Balance,
    Bucket,
    EntryKind,
    HistoryPage,
    LedgerEntry,
    Posting,
    PostResult,
)
from partnerpoints.observability import logger
from partnerpoints.settings import Settings

_ENTRY, _BALANCE = 0, 1  # positions in the posting transaction
Transaction = TransactWrite  # what logic stages more writes into, without importing PynamoDB
StageMore = Callable[[TransactWrite, datetime], None]


def account_id(member_id: str, account: Account) -> str:
    return f"{member_id}#{account}"


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_entry(item: LedgerEntryItem) -> LedgerEntry:
    return LedgerEntry(
        entry_id=item.entry_id,
        member_id=item.member_id,
        account=Account(item.account),
        kind=item.kind,
        points=int(item.points),
        reference=item.reference,
        description=item.description,
        partner_id=item.partner_id,
        order_id=item.order_id,
        tier=item.tier,
        allocations={key: int(value) for key, value in item.allocations.as_dict().items()}
        if item.allocations is not None
        else None,
        occurred_at=item.occurred_at,
        posted_at=item.posted_at,
    )


def _to_balance(item: AccountBalanceItem) -> Balance:
    return Balance(
        member_id=item.member_id,
        account=Account(item.account),
        available=int(item.available),
        pending=int(item.pending),
        lifetime_earned=int(item.lifetime_earned),
        updated_at=item.updated_at,
    )


def entry_item(posting: Posting, posted_at: datetime, write_token: str | None = None) -> LedgerEntryItem:
    return LedgerEntryItem(
        write_token=write_token,
        entry_id=posting.entry_id,
        account_id=account_id(posting.member_id, posting.account),
        history_key=f"{_timestamp(posted_at)}#{posting.entry_id}",
        member_id=posting.member_id,
        account=str(posting.account),
        kind=str(posting.kind),
        points=posting.points,
        reference=posting.reference,
        description=posting.description,
        partner_id=posting.partner_id,
        order_id=posting.order_id,
        tier=posting.tier,
        allocations=posting.allocations,
        operator=posting.operator,
        occurred_at=posting.occurred_at or posted_at,
        posted_at=posted_at,
        activity_key=activity_key_of(posting.member_id, posted_at),
        partner_activity_key=activity_key_of(posting.partner_id, posted_at) if posting.partner_id else None,
    )


def stage_postings(
    transaction: TransactWrite, postings: list[Posting], posted_at: datetime, write_token: str | None = None
) -> None:
    """Add the entries (each only if new) and one balance update per account they touch to a
    transaction. Entries of one account are merged into one update, since a transaction may touch an
    item once; a bucket one of them guards may not end below zero."""
    by_account: dict[tuple[str, Account], list[Posting]] = {}
    for posting in postings:
        transaction.save(
            entry_item(posting, posted_at, write_token),
            condition=LedgerEntryItem.entry_id.does_not_exist(),
            return_values="ALL_OLD",
        )
        by_account.setdefault((posting.member_id, posting.account), []).append(posting)
    for (member_id, account), group in by_account.items():
        effects = [posting.effect() for posting in group]
        available = sum(effect.available for effect in effects)
        pending = sum(effect.pending for effect in effects)
        lifetime = sum(effect.lifetime_earned for effect in effects)
        actions: list[Action] = [AccountBalanceItem.updated_at.set(posted_at)]
        for attribute, delta in (
            (AccountBalanceItem.available, available),
            (AccountBalanceItem.pending, pending),
            (AccountBalanceItem.lifetime_earned, lifetime),
        ):
            if delta:
                actions.append(attribute.add(delta))
        guarded = {effect.guard for effect in effects if effect.guard is not None}
        condition: Condition | None = None
        if Bucket.AVAILABLE in guarded and available < 0:
            condition = AccountBalanceItem.available >= -available
        if Bucket.PENDING in guarded and pending < 0:
            at_least = AccountBalanceItem.pending >= -pending
            condition = at_least if condition is None else condition & at_least
        transaction.update(
            AccountBalanceItem(member_id, str(account)),
            actions=actions,
            condition=condition,
            return_values="ALL_OLD",
        )


class LedgerStore:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)
        self._connection = Connection(region=settings.region, host=settings.dynamodb_endpoint_url)

    def post(
        self, posting: Posting, now: datetime | None = None, stage_more: StageMore | None = None
    ) -> PostResult:
        """Put the entry and move the balance in one transaction; a repeat of the same event is a no-op.
        `stage_more` adds items of its own to the transaction (a promo holding); if one of their
        conditions fails, ConcurrentChange says so and nothing is written."""
        posted_at = now or datetime.now(UTC)
        write_token = secrets.token_hex(12)
        for attempt in range(MAX_ATTEMPTS):
            try:
                self._transact(posting, posted_at, stage_more, write_token)
            except TransactWriteError as error:
                reasons = error.cancellation_reasons or [None, None]
                # An existing entry settles the matter (duplicate or conflict) whatever else collided.
                if not failed_condition(reasons[_ENTRY]) and is_retryable(reasons):
                    back_off(attempt)
                    continue
                return self._explain_cancellation(posting, reasons, error, write_token)
            entry = LedgerEntry(
                **posting.model_dump(exclude={"occurred_at"}),
                occurred_at=posting.occurred_at or posted_at,
                posted_at=posted_at,
            )
            logger.info(
                "ledger entry posted", entry_id=posting.entry_id, kind=posting.kind, points=posting.points
            )
            return PostResult(entry=entry, duplicate=False)
        logger.warning("ledger busy", entry_id=posting.entry_id, attempts=MAX_ATTEMPTS)
        raise LedgerBusy(f"the account kept changing under entry {posting.entry_id}; retry later")

    def _transact(
        self, posting: Posting, posted_at: datetime, stage_more: StageMore | None, write_token: str
    ) -> None:
        # Both the entry and the balance report ALL_OLD on failure: the existing entry tells a duplicate
        # from a conflict without a second read.
        with TransactWrite(connection=self._connection) as transaction:
            stage_postings(transaction, [posting], posted_at, write_token)
            if stage_more is not None:
                stage_more(transaction, posted_at)

    def _explain_cancellation(
        self,
        posting: Posting,
        reasons: list[CancellationReason | None],
        error: TransactWriteError,
        write_token: str,
    ) -> PostResult:
        entry_reason, balance_reason = reasons[_ENTRY], reasons[_BALANCE]
        if failed_condition(entry_reason):
            item = (
                LedgerEntryItem.from_raw_data(entry_reason.raw_item)
                if entry_reason.raw_item
                else self._entry_item(posting.entry_id)
            )
            existing = to_entry(item) if item is not None else None
            if existing is not None and posting.same_event_as(existing):
                # Our own write, whose answer was lost and which the SDK sent again: not a duplicate.
                ours = item is not None and item.write_token == write_token
                logger.info("ledger entry already posted", entry_id=posting.entry_id, own_write=ours)
                return PostResult(entry=existing, duplicate=not ours)
            raise ConflictingEntry(
                f"entry {posting.entry_id} already exists with different contents",
                details=[{"entry_id": posting.entry_id, "existing": _describe(existing)}],
            ) from error
        if failed_condition(balance_reason):
            effect = posting.effect()
            bucket = effect.guard or Bucket.AVAILABLE
            needed = -int(getattr(effect, bucket))
            # No stored balance yet means nothing was ever posted there.
            current = 0
            if balance_reason.raw_item:
                current = int(getattr(AccountBalanceItem.from_raw_data(balance_reason.raw_item), bucket))
            raise InsufficientPoints(
                f"{posting.member_id}'s {posting.account} account has {current} {bucket} points; "
                f"this {posting.kind} needs {needed}",
                details=[
                    {
                        "member_id": posting.member_id,
                        "account": str(posting.account),
                        str(bucket): current,
                        "needed": needed,
                    }
                ],
            ) from error
        if any(failed_condition(reason) for reason in reasons[_BALANCE + 1 :]):
            raise ConcurrentChange(f"what entry {posting.entry_id} depends on changed; read again") from error
        raise error

    def get_entry(self, entry_id: str) -> LedgerEntry | None:
        item = self._entry_item(entry_id)
        return to_entry(item) if item is not None else None

    @staticmethod
    def _entry_item(entry_id: str) -> LedgerEntryItem | None:
        try:
            return LedgerEntryItem.get(entry_id, consistent_read=True)
        except LedgerEntryItem.DoesNotExist:
            return None

    def get_balances(self, member_id: str) -> dict[Account, Balance]:
        """Both accounts of a member, zero where nothing was ever posted (one strongly consistent query)."""
        found = {
            Account(item.account): _to_balance(item)
            for item in AccountBalanceItem.query(member_id, consistent_read=True)
        }
        return {
            account: found.get(account, Balance(member_id=member_id, account=account)) for account in Account
        }

    def history(self, member_id: str, account: Account, limit: int, cursor: str | None) -> HistoryPage:
        """Newest first. The index is eventually consistent: an entry appears within moments of posting."""
        return _newest_first(
            LedgerEntryItem.account_history, "account_id", account_id(member_id, account), limit, cursor
        )

    def member_history(self, member_id: str, limit: int, cursor: str | None) -> HistoryPage:
        """Both accounts' entries of a member, newest first (eventually consistent, like `history`)."""
        return _newest_first(LedgerEntryItem.member_history, "member_id", member_id, limit, cursor)

    def last_entry_of(self, member_id: str, kinds: frozenset[EntryKind]) -> LedgerEntry | None:
        """The member's newest entry of one of `kinds`, either account (eventually consistent)."""
        for item in LedgerEntryItem.member_history.query(
            member_id,
            scan_index_forward=False,
            filter_condition=LedgerEntryItem.kind.is_in(*(str(kind) for kind in kinds)),
        ):
            return to_entry(item)
        return None

    def all_entries(self, member_id: str, account: Account) -> list[LedgerEntry]:
        """Every entry of one account (statement rebuilds and reconciliation), oldest first."""
        return [
            to_entry(item) for item in LedgerEntryItem.account_history.query(account_id(member_id, account))
        ]


def _newest_first(
    index: AccountHistoryIndex | MemberHistoryIndex, key: str, value: str, limit: int, cursor: str | None
) -> HistoryPage:
    pages = PageQuery[LedgerEntryItem](
        run=lambda start, count: index.query(
            value, scan_index_forward=False, limit=count, last_evaluated_key=start
        ),
        key_of=lambda last: {
            "entry_id": last.entry_id,
            key: getattr(last, key),
            "history_key": last.history_key,
        },
        attributes=frozenset({"entry_id", key, "history_key"}),
        bound_to=(key, value),
        what="this history",
    )
    page, next_cursor = pages.page(limit, cursor)
    return HistoryPage(entries=[to_entry(item) for item in page], next_cursor=next_cursor)


def _describe(entry: LedgerEntry | None) -> dict[str, Any]:
    if entry is None:
        return {}
    return entry.model_dump(mode="json", include={"member_id", "account", "kind", "points", "reference"})
