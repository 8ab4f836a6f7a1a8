"""The keys of a partner's activity counters (template: PartnerCountersTable), and the stream window
state that carries counts between the invocations of one tumbling window.

Every counter item belongs to its partner (the hash key); its sort key says what it counts, day first
so that a range of days is one Query:

    day#2026-11-30                          the partner's day
    link#2026-11-30#<link_id>               one link's day
    sub#<link_id>#sub1#2026-11-30#<value>   one sub id value's day on a link (clicks)
    sub#<link_id>#sub1#2026-11-30#~other    the values past the first SUB_ID_VALUES of that day
    cat#2026-11-30#<category>               a product category's referred sales and refunds that day
    cat#2026-11-30#~none                    the part of orders on lines without a category (or no lines)

A partner with a time zone has each of those again for its local days, behind the zone's name:

    z#Europe/Berlin#day#2026-11-30          the partner's day from Berlin's midnight to Berlin's next
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel
from pydantic import BaseModel, Field

DAY = "day#"
LINK = "link#"
SUB = "sub#"
CATEGORY = "cat#"
ZONED = "z#"  # no other counter key starts so, and no IANA zone name holds "#"
NO_CATEGORY = "~none"  # no category key starts with "~" (models.partners.CategoryKey)
# A link's sub id field keeps its own counter for this many values a day; later values of that day
# are counted together under OTHER (an affiliate's sub ids are campaign names, not click ids).
SUB_ID_VALUES = 50
OTHER = "~other"

CounterKey = tuple[str, str]  # (partner_id, sort key)
WINDOW_MARKER = "~window#"  # the hash key of a stream window's markers: no partner id starts with "~"


def zone_prefix(zone: str | None) -> str:
    """What the keys of a zone's local days start with ("" for UTC's: they are the plain keys)."""
    return "" if zone is None or zone == "UTC" else f"{ZONED}{zone}#"


def split_zone(sort_key: str) -> tuple[str, str]:
    """(zone prefix, the plain key) of a counter's sort key."""
    if not sort_key.startswith(ZONED):
        return "", sort_key
    zone, _, rest = sort_key[len(ZONED) :].partition("#")
    return f"{ZONED}{zone}#", rest


def day_key(partner_id: str, day: date) -> CounterKey:
    return partner_id, f"{DAY}{day.isoformat()}"


def link_key(partner_id: str, day: date, link_id: str) -> CounterKey:
    return partner_id, f"{LINK}{day.isoformat()}#{link_id}"


def category_key(partner_id: str, day: date, category: str) -> CounterKey:
    return partner_id, f"{CATEGORY}{day.isoformat()}#{category}"


def sub_id_prefix(link_id: str, field: str, day: date) -> str:
    return f"{SUB}{link_id}#{field}#{day.isoformat()}#"


def sub_id_key(partner_id: str, link_id: str, field: str, day: date, value: str) -> CounterKey:
    return partner_id, f"{sub_id_prefix(link_id, field, day)}{value}"


@dataclass(frozen=True)
class WindowId:
    """One shard's tumbling window of one stream, from its first record on."""

    stream: str  # "<table>/stream/<label>" of the stream's ARN
    shard_id: str
    start: str
    first_sequence: str

    def marker(self, part: int) -> dict[str, dict[str, str]]:
        return {
            "partner_id": {"S": f"{WINDOW_MARKER}{self.stream}#{self.shard_id}"},
            "counter_key": {"S": f"{self.start}#{self.first_sequence}#{part}"},
        }


class WindowState(BaseModel):
    """What one shard's window has counted so far (at most 1 MB: Lambda ends a window early past it).

    `first` is the sequence number of the window's first record: with the shard and the window's start
    it names the window's write, so a window delivered twice is written once."""

    first: str | None = None
    counts: list[tuple[str, str, dict[str, int]]] = Field(default_factory=list)

    @classmethod
    def of(cls, first: str | None, deltas: dict[CounterKey, Counter[str]]) -> WindowState:
        return cls(
            first=first,
            counts=[(partner, key, dict(counters)) for (partner, key), counters in sorted(deltas.items())],
        )

    def deltas(self) -> dict[CounterKey, Counter[str]]:
        return {(partner, key): Counter(counters) for partner, key, counters in self.counts}

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class StreamWindow(BaseModel):
    start: datetime
    end: datetime


class ActivityWindowEvent(BaseModel):
    """A DynamoDB stream batch delivered to a function with a tumbling window: the records, the window
    they belong to, the state the previous invocation of the window returned, and the shard."""

    Records: list[DynamoDBStreamRecordModel] = Field(default_factory=list)
    window: StreamWindow
    state: dict[str, Any] = Field(default_factory=dict)
    shardId: str  # noqa: N815 - Lambda's field names
    eventSourceARN: str  # noqa: N815
    isFinalInvokeForWindow: bool = False  # noqa: N815
    isWindowTerminatedEarly: bool = False  # noqa: N815

    @property
    def closes_window(self) -> bool:
        """The window's counts are written now: at its end, or when Lambda ended it early (state over 1
        MB; the next invocation continues the same window with a fresh state)."""
        return self.isFinalInvokeForWindow or self.isWindowTerminatedEarly

    @property
    def stream(self) -> str:
        """ "<table>/stream/<label>": which stream, whatever the account and region."""
        return self.eventSourceARN.split(":table/", 1)[-1]
