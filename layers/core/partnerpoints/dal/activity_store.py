"""Reads of the activity index (partnerpoints.activity): who was active on a day, one shard at a time.
Each read is one Query of a sparse index; none scans a table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from partnerpoints.activity import activity_key
from partnerpoints.dal.counter_store import CounterStore
from partnerpoints.dal.counter_tables import PartnerCounterItem
from partnerpoints.dal.ledger_tables import LedgerEntryItem
from partnerpoints.dal.order_tables import OrderChangeItem
from partnerpoints.dal.tables import bind_tables
from partnerpoints.models.ledger import EntryKind
from partnerpoints.settings import Settings


@dataclass(frozen=True)
class MemberActivity:
    member_id: str
    account: str
    kind: EntryKind


@dataclass(frozen=True)
class PartnerEntry:
    partner_id: str
    order_id: str | None
    member_id: str
    kind: EntryKind
    points: int


@dataclass(frozen=True)
class ClickCount:
    """One link's clicks of a day, from the partner counters."""

    partner_id: str
    link_id: str
    total: int
    unique: int
    bot: int
    blocked: int


class ActivityStore:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)
        self._counters = CounterStore(settings)

    def member_entries(self, day: date, shard: int) -> list[MemberActivity]:
        return [
            MemberActivity(item.member_id, item.account, EntryKind(item.kind))
            for item in LedgerEntryItem.member_activity.query(activity_key(day, shard))
        ]

    def partner_entries(self, day: date, shard: int) -> list[PartnerEntry]:
        return [
            PartnerEntry(
                item.partner_id or "", item.order_id, item.member_id, EntryKind(item.kind), int(item.points)
            )
            for item in LedgerEntryItem.partner_activity.query(activity_key(day, shard))
        ]

    def clicks(self, day: date, shard: int) -> list[ClickCount]:
        """The clicks per link of one shard's partners with counters on `day`: one Query of the active
        partners index, and one of each such partner's link counters of the day."""
        counts = []
        for item in PartnerCounterItem.active_partners.query(activity_key(day, shard)):
            for row in self._counters.links(item.partner_id, day, day):
                counters = row.counters
                if counters.get("clicks.total", 0) or counters.get("clicks.unique", 0):
                    counts.append(
                        ClickCount(
                            item.partner_id,
                            row.key.partition("#")[2],
                            counters.get("clicks.total", 0),
                            counters.get("clicks.unique", 0),
                            counters.get("clicks.bot", 0),
                            counters.get("clicks.blocked", 0),
                        )
                    )
        return counts

    def changed_orders(self, day: date, shard: int) -> list[tuple[str, str]]:
        return [(item.partner_id, item.order_id) for item in OrderChangeItem.query(activity_key(day, shard))]
