"""PynamoDB models of the ledger tables. Keys and indexes must match template.yaml (a test checks)."""

from __future__ import annotations

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model


class AccountHistoryIndex(GlobalSecondaryIndex["LedgerEntryItem"]):
    class Meta:
        index_name = "account_history"
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True)
    history_key = UnicodeAttribute(range_key=True)


class MemberHistoryIndex(GlobalSecondaryIndex["LedgerEntryItem"]):
    """Every entry of a member, both accounts, by time: the member's activity."""

    class Meta:
        index_name = "member_history"
        projection = AllProjection()

    member_id = UnicodeAttribute(hash_key=True)
    history_key = UnicodeAttribute(range_key=True)


class MemberActivityIndex(GlobalSecondaryIndex["LedgerEntryItem"]):
    """One shard's entries of one day, by member: the members the nightly job closes."""

    class Meta:
        index_name = "member_activity"
        projection = IncludeProjection(["member_id", "account", "kind", "points"])

    activity_key = UnicodeAttribute(hash_key=True)
    history_key = UnicodeAttribute(range_key=True)


class PartnerActivityIndex(GlobalSecondaryIndex["LedgerEntryItem"]):
    """Sparse: entries naming a partner (orders, spends at it), one partner shard of one day."""

    class Meta:
        index_name = "partner_activity"
        projection = IncludeProjection(["partner_id", "order_id", "member_id", "kind", "points"])

    partner_activity_key = UnicodeAttribute(hash_key=True)
    history_key = UnicodeAttribute(range_key=True)


class LedgerEntryItem(Model):
    """One immutable entry; keyed by the caller's deterministic entry id (template: LedgerEntriesTable)."""

    class Meta:
        table_name = "LedgerEntriesTable"  # replaced by dal.tables.bind_tables()
        region: str | None = None
        host: str | None = None

    entry_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()  # "{member_id}#{account}"
    history_key = UnicodeAttribute()  # "{posted_at}#{entry_id}": sorts an account's entries by time
    member_id = UnicodeAttribute()
    account = UnicodeAttribute()
    kind = UnicodeAttribute()
    points = NumberAttribute()
    reference = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    # Entries an order caused name it, and the tier whose multiplier applied.
    partner_id = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    tier = UnicodeAttribute(null=True)
    # Promo entries: campaign id -> points (what each campaign's holding gained or lost).
    allocations = MapAttribute[str, int](null=True)
    operator = UnicodeAttribute(null=True)  # who posted it by hand, for audit: never in a member's answers
    occurred_at = UTCDateTimeAttribute()
    posted_at = UTCDateTimeAttribute()
    # The activity index (partnerpoints.activity): the posting day and the member's or partner's shard.
    activity_key = UnicodeAttribute(null=True)
    partner_activity_key = UnicodeAttribute(null=True)
    # Random per write: a write whose answer was lost, sent again by the SDK, finds its own token and is
    # not taken for an earlier request's duplicate.
    write_token = UnicodeAttribute(null=True)

    account_history = AccountHistoryIndex()
    member_history = MemberHistoryIndex()
    member_activity = MemberActivityIndex()
    partner_activity = PartnerActivityIndex()


class AccountBalanceItem(Model):
    """A member account's running balances (template: AccountBalancesTable)."""

    class Meta:
        table_name = "AccountBalancesTable"  # replaced by dal.tables.bind_tables()
        region: str | None = None
        host: str | None = None

    member_id = UnicodeAttribute(hash_key=True)
    account = UnicodeAttribute(range_key=True)
    available = NumberAttribute(default=0)
    pending = NumberAttribute(default=0)
    lifetime_earned = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute(null=True)
