"""A partner's activity counted per UTC day (and per local day of the partner's time zone, when it has
one), from the changes of its clicks, orders and ledger entries.

Every stream record is a change from an old image to a new one; what it adds to the counters is what
the new image counts for less what the old one counted for. Summed over every change of an item, the
differences telescope to what the item counts for now, in whatever order the changes are added: a
counter is exact as long as each change is added once (dal.counter_store makes that so per window).

An order counts on each day it changed, for what `statements.order_in_period` says it did that day:
the day's counters are the partner's statement of that day. A click counts on the day of its first
request, with the repeats of its flood window. A ledger entry naming a partner counts its points on
the day it was posted. Removals (the clicks' time to live) take nothing away: history stays.

Local days: a click and an order carry the zone their partner had when they were written, so every
change of one item is counted in the same zone and its differences telescope there too. An order that
changes after its partner moved to another zone starts afresh in the new one: the days of its new
changes are counted whole there, the old zone keeps what it had. A ledger entry is counted once, in the
zone its partner has when the entry is counted (`zones`, looked up per batch).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cache
from typing import Any

from pydantic import ValidationError

from partnerpoints.dal.counter_store import CounterStore
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.logic.statements import order_in_period
from partnerpoints.models.clicks import SUB_IDS
from partnerpoints.models.counters import (
    NO_CATEGORY,
    CounterKey,
    WindowId,
    WindowState,
    category_key,
    day_key,
    link_key,
    sub_id_key,
    zone_prefix,
)
from partnerpoints.models.ledger import EntryKind
from partnerpoints.models.orders import Order, OrderStatus
from partnerpoints.models.periods import Period, local_day, zone_of
from partnerpoints.settings import Settings

Deltas = dict[CounterKey, Counter[str]]
# The time zones of partners, by id (None: UTC only); what a ledger entry's local day is counted in.
ZoneLookup = Callable[[Collection[str]], Mapping[str, str | None]]

# Points at a partner, as the partner statement counts them: (counter, sign of the entry's points).
_POINTS_BY_KIND = {
    EntryKind.ACCRUAL_PENDING: ("points.issued", 1),
    EntryKind.ACCRUAL_RELEASE: ("points.released", 1),
    EntryKind.ACCRUAL_VOID: ("points.reversed", -1),
    EntryKind.CLAWBACK: ("points.reversed", -1),
    EntryKind.SPEND: ("points.spent", -1),
    EntryKind.SPEND_REFUND: ("points.spend_refunded", 1),
}


def add_deltas(total: Deltas, more: Mapping[CounterKey, Mapping[str, int]], sign: int = 1) -> Deltas:
    """`total` += sign * `more`, dropping counters that come back to zero (nothing to write)."""
    for key, counters in more.items():
        target = total.setdefault(key, Counter())
        for name, value in counters.items():
            target[name] += sign * value
            if target[name] == 0:
                del target[name]
        if not target:
            del total[key]
    return total


def _difference(old: Deltas, new: Deltas) -> Deltas:
    return add_deltas(add_deltas({}, new), old, sign=-1)


def _zoned(zone: str | None) -> str | None:
    """The zone whose local days get counters of their own: None for none, and for UTC's own."""
    return None if zone is None or zone == "UTC" else zone


def _in_zone(deltas: Deltas, zone: str | None) -> Deltas:
    prefix = zone_prefix(zone)
    return {(partner_id, f"{prefix}{key}"): counters for (partner_id, key), counters in deltas.items()}


# Clicks: the click table's items, as the click function writes them (dal.click_store).


def clicked_at_of(image: Mapping[str, Any]) -> datetime:
    """When a click item's first request came, as the click function stamps it."""
    return datetime.strptime(str(image["clicked_at"]), "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)


def _click_counts(image: Mapping[str, Any] | None) -> Deltas:
    if image is None or "partner_id" not in image:
        return {}  # moto reports an item that an UpdateItem creates as its key first, then whole
    clicks = int(image.get("clicks", 1))
    counts = Counter(
        {
            "clicks.total": clicks,
            "clicks.unique": int(bool(image.get("unique"))),
            "clicks.bot": clicks if image.get("bot") else 0,
            "clicks.blocked": clicks if image.get("blocked") else 0,
        }
    )
    partner_id, link_id, clicked_at = str(image["partner_id"]), str(image["link_id"]), clicked_at_of(image)
    sub_ids = image.get("sub_ids") or {}

    def keys_of(day: date) -> list[CounterKey]:
        keys = [day_key(partner_id, day), link_key(partner_id, day, link_id)]
        return keys + [
            sub_id_key(partner_id, link_id, field, day, str(sub_ids[field]))
            for field in SUB_IDS
            if field in sub_ids
        ]

    counted = dict.fromkeys(keys_of(clicked_at.date()), +counts)
    zone = _zoned(image.get("time_zone"))
    if zone is not None:
        counted |= _in_zone(dict.fromkeys(keys_of(local_day(clicked_at, zone_of(zone))), +counts), zone)
    return counted


def click_change(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> Deltas:
    if new is None:  # expired (time to live) or removed by hand: its clicks were made
        return {}
    return _difference(_click_counts(old), _click_counts(new))


# Orders: what an order did on each day it changed, as the partner statement of that day says.


def _order_day_counts(order: Order, period: Period) -> Counter[str]:
    change = order_in_period(order, period)
    if change is None:
        return Counter()
    state, currency = change.after, order.currency
    if not state.referred:
        return +Counter(
            {
                "unreferred.orders": 1,
                "unreferred.new": int(change.new),
                f"unreferred_sales.{currency}": state.amount_minor if change.new else 0,
            }
        )
    refund = state.status is OrderStatus.REFUNDED and (
        change.before is None
        or not change.before.referred
        or change.before.status is not OrderStatus.REFUNDED
    )
    return +Counter(
        {
            "orders.changed": 1,
            f"orders.{state.status}": 1,
            "orders.new": int(change.new),
            "orders.refunds": int(refund),
            f"orders_new.{currency}": int(change.new),
            f"sales.{currency}": state.amount_minor if change.new else 0,
            f"refunded.{currency}": change.refunded_minor,
            f"commission_due.{currency}": change.commission_due,
            f"commission_reversed.{currency}": change.commission_reversed,
        }
    )


def split_by_category(order: Order, amount_minor: int) -> dict[str, int]:
    """`amount_minor` shared among the order's categories in proportion to their lines' amounts, to
    the minor unit: floors first, then the units left over to the largest remainders (ties to the
    first category by name), so the parts add up to the amount exactly."""
    weights: Counter[str] = Counter()
    for line in order.items:
        weights[line.category or NO_CATEGORY] += line.amount_minor
    whole = sum(weights.values())
    if whole <= 0:
        return {NO_CATEGORY: amount_minor}
    shares = {category: divmod(amount_minor * weight, whole) for category, weight in sorted(weights.items())}
    parts = {category: floor for category, (floor, _) in shares.items()}
    left = amount_minor - sum(parts.values())
    by_remainder = sorted(shares, key=lambda category: (-shares[category][1], category))
    for category in by_remainder[:left]:
        parts[category] += 1
    return parts


def _category_counts(order: Order, figures: Counter[str]) -> dict[str, Counter[str]]:
    """A referred order's day per product category: new and refunded orders holding it, and the sale
    and refund shared by line."""
    if not figures["orders.changed"]:
        return {}
    currency = order.currency
    sales = split_by_category(order, figures[f"sales.{currency}"])
    refunded = split_by_category(order, figures[f"refunded.{currency}"])
    counts = {
        category: +Counter(
            {
                "orders.new": figures["orders.new"],
                "orders.refunds": figures["orders.refunds"],
                f"sales.{currency}": sales[category],
                f"refunded.{currency}": refunded[category],
            }
        )
        for category in sales
    }
    return {category: counted for category, counted in counts.items() if counted}


def _order_counts(order: Order | None, days: Iterable[date], zone_name: str | None = None) -> Deltas:
    """What `order` counts for on `days`, local days of `zone_name` (keys in that zone) or UTC's."""
    if order is None:
        return {}
    zone = zone_of(zone_name)
    changed_on = {local_day(transition.at, zone) for transition in order.history}
    counts: Deltas = {}
    for day in days:
        if day not in changed_on:
            continue  # the statement of a day lists the orders that changed on it, no other
        figures = _order_day_counts(order, Period.day(day, zone))
        keys = [day_key(order.partner_id, day)]
        if order.attribution.link_id:
            keys.append(link_key(order.partner_id, day, order.attribution.link_id))
        add_deltas(counts, dict.fromkeys(keys, figures))
        for category, category_figures in _category_counts(order, figures).items():
            add_deltas(counts, {category_key(order.partner_id, day, category): category_figures})
    return _in_zone(counts, zone_name)


def order_change(old: Order | None, new: Order | None) -> Deltas:
    if new is None:
        return {}
    known = {transition.version for transition in old.history} if old is not None else set()
    fresh = [transition.at for transition in new.history if transition.version not in known]
    days = sorted({local_day(moment) for moment in fresh})
    deltas = _difference(_order_counts(old, days), _order_counts(new, days))
    zone = _zoned(new.time_zone)
    if zone is not None:
        local_days = sorted({local_day(moment, zone_of(zone)) for moment in fresh})
        # Counted in this zone before only when the old version was stamped with it.
        before = old if old is not None and _zoned(old.time_zone) == zone else None
        add_deltas(
            deltas, _difference(_order_counts(before, local_days, zone), _order_counts(new, local_days, zone))
        )
    return deltas


# Ledger entries: immutable, so only their creation counts.


def _posted_at(image: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(image["posted_at"]).replace("+0000", "+00:00"))


def entry_change(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, zone: str | None = None
) -> Deltas:
    """What a new entry at a partner counts for; `zone`: the partner's, where it has one."""
    if old is not None or new is None or not new.get("partner_id"):
        return {}
    counted = _POINTS_BY_KIND.get(EntryKind(str(new["kind"])))
    if counted is None:
        return {}
    name, sign = counted
    # The entry's partner activity key holds its UTC day (entries written before it: their posted_at).
    activity_key = new.get("partner_activity_key")
    day = date.fromisoformat(activity_key[:10]) if isinstance(activity_key, str) else _posted_at(new).date()
    partner_id, points = str(new["partner_id"]), Counter({name: sign * int(new["points"])})
    deltas = {day_key(partner_id, day): points}
    zone = _zoned(zone)
    if zone is not None:
        deltas |= _in_zone({day_key(partner_id, local_day(_posted_at(new), zone_of(zone))): points}, zone)
    return deltas


# A stream window: its records folded into the window's state, written when the window closes.


class Source(StrEnum):
    CLICKS = "clicks"
    ORDERS = "orders"
    LEDGER = "ledger"

    @classmethod
    def of_keys(cls, keys: Mapping[str, Any]) -> Source:
        """Which table a record is of, by its key: the function reads three streams, and the keys
        tell them apart whatever the tables are called."""
        if "click_id" in keys:
            return cls.CLICKS
        if "order_id" in keys:
            return cls.ORDERS
        if "entry_id" in keys:
            return cls.LEDGER
        raise ValueError(f"no activity is counted from items keyed {sorted(keys)}")


def record_change(
    source: Source,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    zones: Mapping[str, str | None] | None = None,
) -> Deltas:
    """What one stream record of `source` adds to the counters (images as plain values); `zones`: the
    partners' time zones, for ledger entries."""
    if source is Source.CLICKS:
        return click_change(old, new)
    if source is Source.ORDERS:
        return order_change(
            Order.model_validate(old) if old is not None else None,
            Order.model_validate(new) if new is not None else None,
        )
    partner_id = str((new or {}).get("partner_id") or "")
    return entry_change(old, new, (zones or {}).get(partner_id))


def _no_zones(partner_ids: Collection[str]) -> Mapping[str, str | None]:
    return {}


class ActivityCounters:
    def __init__(self, store: CounterStore, zones: ZoneLookup = _no_zones) -> None:
        self._store = store
        self._zones = zones

    def fold(
        self, state: WindowState, changes: Iterable[StreamChange]
    ) -> tuple[WindowState, list[StreamChange]]:
        """The window's state with `changes` added, and the changes whose images are not what their
        table holds (an item put by hand that is no order): those count for nothing."""
        deltas, first = state.deltas(), state.first
        uncountable = []
        changes = list(changes)
        entries_at = {
            str(change.new["partner_id"])
            for change in changes
            if change.source is Source.LEDGER
            and change.old is None
            and change.new
            and change.new.get("partner_id")
        }
        zones = self._zones(entries_at) if entries_at else {}
        for change in changes:
            first = first or change.sequence_number
            try:
                add_deltas(deltas, record_change(change.source, change.old, change.new, zones))
            except (ValidationError, KeyError, ValueError):
                uncountable.append(change)
        return WindowState.of(first, deltas), uncountable

    def close(self, window: WindowId, state: WindowState) -> tuple[int, int]:
        """Write the window's counts, once; (transactions written, found written already)."""
        if state.first is None or not state.counts:
            return 0, 0
        return self._store.add_window(window, state.deltas())


@dataclass(frozen=True)
class StreamChange:
    source: Source
    sequence_number: str
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None


@cache
def get_activity_counters() -> ActivityCounters:
    settings = Settings.from_environment()
    return ActivityCounters(CounterStore(settings), PartnerStore(settings).time_zones)
