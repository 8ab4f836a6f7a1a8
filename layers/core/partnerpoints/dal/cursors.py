"""Page cursors: a DynamoDB LastEvaluatedKey handed to the caller as an opaque string, and taken back
only if it has exactly the key's attributes and is bound to the same query (an account, a queue)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from partnerpoints.exceptions import InvalidCursor

T = TypeVar("T")


def encode_cursor(key: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(
    cursor: str, attributes: frozenset[str], bound_to: tuple[str, str] | None, what: str
) -> dict[str, dict[str, str]]:
    """The start key for DynamoDB; InvalidCursor unless `bound_to` = (attribute, value) holds (None: a
    scan of a whole table, bound to nothing)."""
    try:
        key = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    except (ValueError, binascii.Error) as error:
        raise InvalidCursor("the cursor is not one this service issued") from error
    if (
        not isinstance(key, dict)
        or set(key) != attributes
        or not all(isinstance(item, str) for item in key.values())
        or (bound_to is not None and key[bound_to[0]] != bound_to[1])
    ):
        raise InvalidCursor(f"the cursor is not one this service issued for {what}")
    return {name: {"S": item} for name, item in key.items()}


@dataclass(frozen=True)
class PageQuery(Generic[T]):
    """A query of an index paged by cursor: `run(start_key, count)` queries from `start_key` (None: the
    beginning) for at most `count` items; `key_of(item)` is the item's cursor (every key attribute of the
    table and the index, as strings); the cursor must hold `bound_to`, the query's own key (None for a
    scan of a whole table)."""

    run: Callable[[dict[str, dict[str, str]] | None, int], Iterable[T]]
    key_of: Callable[[T], dict[str, str]]
    attributes: frozenset[str]
    bound_to: tuple[str, str] | None
    what: str

    def page(self, limit: int, cursor: str | None) -> tuple[list[T], str | None]:
        """Up to `limit` items and the cursor of the next page (None: this was the last). One item more
        is read to know whether another page exists."""
        start = decode_cursor(cursor, self.attributes, self.bound_to, self.what) if cursor else None
        items = list(self.run(start, limit + 1))
        page = items[:limit]
        return page, encode_cursor(self.key_of(page[-1])) if len(items) > limit else None
