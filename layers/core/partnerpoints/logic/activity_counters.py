"""A partner's activity counted per UTC day, from the changes of its clicks, orders and ledger entries.

Every stream record is a change from an old image to a new one; what it adds to the counters is what
the new image counts for less what the old one counted for. Summed over every change of an item, the
differences telescope to what the item counts for now, in whatever order the changes are added: a
counter is exact as long as each change is added once (dal.counter_store makes that so per window).

An order counts on each day it changed, for what `statements.order_in_period` says it did that day:
the day's counters are the partner's statement of that day. A click counts on the day of its first
request, with the repeats of its flood window. A ledger entry naming a partner counts its points on
the day it was posted. Removals (the clicks' time to live) take nothing away: history stays.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cache
from typing import Any

from pydantic import ValidationError

from partnerpoints.dal.counter_store import CounterStore
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
)
from partnerpoints.models.ledger import EntryKind
from partnerpoints.models.orders import Order, OrderStatus
from partnerpoints.models.periods import Period
from partnerpoints.settings import Settings

Deltas = dict[CounterKey, Counter[str]]

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
    partner_id, link_id, day = str(image["partner_id"]), str(image["link_id"]), clicked_at_of(image).date()
    keys = [day_key(partner_id, day), link_key(partner_id, day, link_id)]
    sub_ids = image.get("sub_ids") or {}
    keys += [
        sub_id_key(partner_id, link_id, field, day, str(sub_ids[field]))
        for field in SUB_IDS
        if field in sub_ids
    ]
    return dict.fromkeys(keys, +counts)


def click_change(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> Deltas:
    if new is None:  # expired (time to live) or removed by hand: its clicks were made
        return {}
    return _difference(_click_counts(old), _click_counts(new))


# Orders: what an order did on each day it changed, as the partner statement of that day says.


def _order_day_counts(order: Order, day: date) -> Counter[str]:
    change = order_in_period(order, Period.day(day))
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


def _order_counts(order: Order | None, days: Iterable[date]) -> Deltas:
    if order is None:
        return {}
    changed_on = {transition.at.date() for transition in order.history}
    counts: Deltas = {}
    for day in days:
        if day not in changed_on:
            continue  # the statement of a day lists the orders that changed on it, no other
        figures = _order_day_counts(order, day)
        keys = [day_key(order.partner_id, day)]
        if order.attribution.link_id:
            keys.append(link_key(order.partner_id, day, order.attribution.link_id))
        add_deltas(counts, dict.fromkeys(keys, figures))
        for category, category_figures in _category_counts(order, figures).items():
            add_deltas(counts, {category_key(order.partner_id, day, category): category_figures})
    return counts


def order_change(old: Order | None, new: Order | None) -> Deltas:
    if new is None:
        return {}
    known = {transition.version for transition in old.history} if old is not None else set()
    days = sorted({transition.at.date() for transition in new.history if transition.version not in known})
    return _difference(_order_counts(old, days), _order_counts(new, days))


# Ledger entries: immutable, so only their creation counts.


def entry_change(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> Deltas:
    if old is not None or new is None or not new.get("partner_id"):
        return {}
    counted = _POINTS_BY_KIND.get(EntryKind(str(new["kind"])))
    if counted is None:
        return {}
    name, sign = counted
    activity_key = new.get("partner_activity_key")
    if isinstance(activity_key, str):
        day = date.fromisoformat(activity_key[:10])
    else:
        day = datetime.fromisoformat(str(new["posted_at"]).replace("+0000", "+00:00")).date()
    return {day_key(str(new["partner_id"]), day): Counter({name: sign * int(new["points"])})}


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


def record_change(source: Source, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> Deltas:
    """What one stream record of `source` adds to the counters (images as plain values)."""
    if source is Source.CLICKS:
        return click_change(old, new)
    if source is Source.ORDERS:
        return order_change(
            Order.model_validate(old) if old is not None else None,
            Order.model_validate(new) if new is not None else None,
        )
    return entry_change(old, new)


class ActivityCounters:
    def __init__(self, store: CounterStore) -> None:
        self._store = store

    def fold(
        self, state: WindowState, changes: Iterable[StreamChange]
    ) -> tuple[WindowState, list[StreamChange]]:
        """The window's state with `changes` added, and the changes whose images are not what their
        table holds (an item put by hand that is no order): those count for nothing."""
        deltas, first = state.deltas(), state.first
        uncountable = []
        for change in changes:
            first = first or change.sequence_number
            try:
                add_deltas(deltas, record_change(change.source, change.old, change.new))
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
    return ActivityCounters(CounterStore(Settings.from_environment()))
