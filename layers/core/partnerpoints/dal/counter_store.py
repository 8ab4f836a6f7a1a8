"""A partner's activity counters (template: PartnerCountersTable), through boto3's low-level client:
counter names are data ("sales.EUR"), so they are top-level number attributes that ADD creates, which
no declared model could list.

A window's counts are written once: each transaction of them carries a marker item named after the
shard, the window's start and its first record (and the part of the window, when its counters need
more than one transaction). A window delivered again finds its marker and writes nothing.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from partnerpoints.activity import activity_key, shard_of
from partnerpoints.dal.low_level_store import LowLevelStore
from partnerpoints.dal.transactions import RETRYABLE_REASONS, back_off
from partnerpoints.exceptions import StorageUnavailable
from partnerpoints.models.counters import (
    CATEGORY,
    DAY,
    LINK,
    OTHER,
    SUB,
    SUB_ID_VALUES,
    CounterKey,
    WindowId,
    split_zone,
    zone_prefix,
)

MARKER_DAYS = 3  # longer than a stream keeps a record (24 hours): a redelivery always finds its marker
KEYS_PER_TRANSACTION = 40  # each may bring a sub id tally too: 2 x 40 + the marker, under 100 items
SUB_TALLY = "subtally#"  # how many values of a link's sub id field have their own counter that day
MAX_ATTEMPTS = 8
_DESERIALIZER = TypeDeserializer()


@dataclass(frozen=True)
class CounterRow:
    key: str
    counters: dict[str, int]


def _chunks(deltas: dict[CounterKey, Counter[str]]) -> Iterator[list[tuple[CounterKey, Counter[str]]]]:
    ordered = sorted(deltas.items())
    for start in range(0, len(ordered), KEYS_PER_TRANSACTION):
        yield ordered[start : start + KEYS_PER_TRANSACTION]


def _sub_id_group(sort_key: str) -> tuple[str, str]:
    """("[z#<zone>#]sub#<link>#<field>#<day>#", value) of a sub id counter's sort key, or ("", key)
    for a key of no sub id (a zone's local days keep their own allowance)."""
    zone, plain = split_zone(sort_key)
    if not plain.startswith(SUB):
        return "", sort_key
    head, _, value = plain[len(SUB) :].partition("#")  # link
    field, _, rest = value.partition("#")
    day, _, value = rest.partition("#")
    return f"{zone}{SUB}{head}#{field}#{day}#", value


class CounterStore(LowLevelStore):
    @property
    def table(self) -> str:
        return self._settings.table_name("PartnerCountersTable")

    # Writing a window.

    def add_window(self, window: WindowId, deltas: dict[CounterKey, Counter[str]]) -> tuple[int, int]:
        """Add a window's counts; (parts written, parts found already written)."""
        written = skipped = 0
        for part, chunk in enumerate(_chunks(deltas)):
            if self._write_part(window, part, chunk):
                written += 1
            else:
                skipped += 1
        return written, skipped

    def _write_part(self, window: WindowId, part: int, chunk: list[tuple[CounterKey, Counter[str]]]) -> bool:
        for attempt in range(MAX_ATTEMPTS):
            items = [self._marker_put(window, part)]
            items += self._counter_updates(chunk)
            try:
                self.client.transact_write_items(TransactItems=items)
                return True
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise StorageUnavailable("the activity counters could not be written") from error
                codes = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
                if codes and codes[0] == "ConditionalCheckFailed":
                    return False  # this part of the window is written already
                if not any(code in RETRYABLE_REASONS or code == "ConditionalCheckFailed" for code in codes):
                    raise StorageUnavailable("the activity counters could not be written") from error
                # A conflict, or another window gave a sub id field its last own values: read again.
                back_off(attempt)
        raise StorageUnavailable("the activity counters stayed contended; the window will be retried")

    def _marker_put(self, window: WindowId, part: int) -> dict[str, Any]:
        expires_at = int(time.time()) + MARKER_DAYS * 86400
        return {
            "Put": {
                "TableName": self.table,
                "Item": {**window.marker(part), "expires_at": {"N": str(expires_at)}},
                "ConditionExpression": "attribute_not_exists(partner_id)",
            }
        }

    def _counter_updates(self, chunk: list[tuple[CounterKey, Counter[str]]]) -> list[dict[str, Any]]:
        """The chunk's counters as updates, a sub id value past its field's day allowance folded into
        OTHER, with the tally of the values that got their own counter (conditioned on its limit)."""
        merged: dict[CounterKey, Counter[str]] = {}
        new_values: dict[tuple[str, str], set[str]] = {}
        known_by_group: dict[tuple[str, str], tuple[set[str], int]] = {}
        for (partner_id, written_key), counters in chunk:
            sort_key = written_key
            group, value = _sub_id_group(sort_key)
            if group:
                if (partner_id, group) not in known_by_group:
                    known_by_group[(partner_id, group)] = self._sub_id_values(partner_id, group)
                known, tally = known_by_group[(partner_id, group)]
                fresh = new_values.setdefault((partner_id, group), set())
                if value not in known and value not in fresh:
                    if tally + len(fresh) < SUB_ID_VALUES:
                        fresh.add(value)
                    else:
                        value = OTHER
                sort_key = f"{group}{value}"
            merged.setdefault((partner_id, sort_key), Counter()).update(counters)
        updates = [
            self._add(partner_id, sort_key, counters) for (partner_id, sort_key), counters in merged.items()
        ]
        for (partner_id, group), fresh in sorted(new_values.items()):
            if fresh:
                updates.append(
                    self._tally(partner_id, group, len(fresh), known_by_group[(partner_id, group)][1])
                )
        return updates

    def _add(self, partner_id: str, sort_key: str, counters: Counter[str]) -> dict[str, Any]:
        names = {f"#c{index}": name for index, name in enumerate(sorted(counters))}
        values = {f":c{index}": {"N": str(counters[name])} for index, name in enumerate(sorted(counters))}
        expression = "ADD " + ", ".join(f"#c{index} :c{index}" for index in range(len(names)))
        if sort_key.startswith(DAY):
            # The nightly statements list the partners with counters on a day through this index key.
            day = date.fromisoformat(sort_key[len(DAY) :])
            names["#ak"], values[":ak"] = "activity_key", {"S": activity_key(day, shard_of(partner_id))}
            expression += " SET #ak = :ak"
        return {
            "Update": {
                "TableName": self.table,
                "Key": {"partner_id": {"S": partner_id}, "counter_key": {"S": sort_key}},
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def _tally(self, partner_id: str, group: str, added: int, seen: int) -> dict[str, Any]:
        # Conditioned on the tally read: a window of another shard that took values since then cancels
        # this transaction, and the part is folded again.
        condition = "attribute_not_exists(#n)" if seen == 0 else "#n = :seen"
        values: dict[str, Any] = {":added": {"N": str(added)}}
        if seen:
            values[":seen"] = {"N": str(seen)}
        return {
            "Update": {
                "TableName": self.table,
                "Key": {"partner_id": {"S": partner_id}, "counter_key": {"S": f"{SUB_TALLY}{group}"}},
                "UpdateExpression": "ADD #n :added",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#n": "values"},
                "ExpressionAttributeValues": values,
            }
        }

    def _sub_id_values(self, partner_id: str, group: str) -> tuple[set[str], int]:
        """The values of a sub id group with their own counter, and its tally."""
        rows = self._query(partner_id, group, f"{group}\uffff", consistent=True)
        known = {row.key[len(group) :] for row in rows} - {OTHER}
        tally = self._get(partner_id, f"{SUB_TALLY}{group}").get("values", 0)
        return known, int(tally)

    # Reading.

    def _get(self, partner_id: str, sort_key: str) -> dict[str, int]:
        try:
            item = self.client.get_item(
                TableName=self.table,
                Key={"partner_id": {"S": partner_id}, "counter_key": {"S": sort_key}},
                ConsistentRead=True,
            ).get("Item", {})
        except ClientError as error:
            raise StorageUnavailable("the activity counters could not be read") from error
        return _numbers(item)

    def _query(self, partner_id: str, low: str, high: str, *, consistent: bool = False) -> list[CounterRow]:
        rows = []
        arguments: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "partner_id = :p AND counter_key BETWEEN :low AND :high",
            "ExpressionAttributeValues": {":p": {"S": partner_id}, ":low": {"S": low}, ":high": {"S": high}},
            "ConsistentRead": consistent,
        }
        try:
            while True:
                answer = self.client.query(**arguments)
                rows += [
                    CounterRow(item["counter_key"]["S"], _numbers(item)) for item in answer.get("Items", [])
                ]
                if "LastEvaluatedKey" not in answer:
                    return rows
                arguments["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        except ClientError as error:
            raise StorageUnavailable("the activity counters could not be read") from error

    # Days are UTC's, or the local days of `zone` (counted for a partner since it has had that zone).

    def days(self, partner_id: str, first: date, last: date, zone: str | None = None) -> list[CounterRow]:
        """The partner's day items from `first` to `last`, oldest first (key: the day)."""
        prefix = f"{zone_prefix(zone)}{DAY}"
        rows = self._query(partner_id, f"{prefix}{first.isoformat()}", f"{prefix}{last.isoformat()}")
        return [CounterRow(row.key[len(prefix) :], row.counters) for row in rows]

    def _ranged(self, partner_id: str, prefix: str, first: date, last: date) -> list[CounterRow]:
        rows = self._query(partner_id, f"{prefix}{first.isoformat()}#", f"{prefix}{last.isoformat()}$")
        return [CounterRow(row.key[len(prefix) :], row.counters) for row in rows]

    def links(self, partner_id: str, first: date, last: date, zone: str | None = None) -> list[CounterRow]:
        """Each link's days in the range (key: "<day>#<link_id>")."""
        return self._ranged(partner_id, f"{zone_prefix(zone)}{LINK}", first, last)

    def categories(
        self, partner_id: str, first: date, last: date, zone: str | None = None
    ) -> list[CounterRow]:
        """Each product category's days in the range (key: "<day>#<category>")."""
        return self._ranged(partner_id, f"{zone_prefix(zone)}{CATEGORY}", first, last)

    def sub_ids(
        self, partner_id: str, link_id: str, field: str, first: date, last: date, *, zone: str | None = None
    ) -> list[CounterRow]:
        """One link's sub id field per day and value (key: "<day>#<value>")."""
        return self._ranged(partner_id, f"{zone_prefix(zone)}{SUB}{link_id}#{field}#", first, last)


def _numbers(item: dict[str, Any]) -> dict[str, int]:
    return {name: int(_DESERIALIZER.deserialize(value)) for name, value in item.items() if "N" in value}
