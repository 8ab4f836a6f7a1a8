"""Page cursors: a DynamoDB LastEvaluatedKey handed to the caller as an opaque string, and taken back
only if it has exactly the key's attributes and is bound to the same query (an account, a queue)."""

from __future__ import annotations

import base64
import binascii
import json

from partnerpoints.exceptions import InvalidCursor


def encode_cursor(key: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(
    cursor: str, attributes: frozenset[str], bound_to: tuple[str, str], what: str
) -> dict[str, dict[str, str]]:
    """The start key for DynamoDB; InvalidCursor unless `bound_to` = (attribute, value) holds."""
    try:
        key = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    except (ValueError, binascii.Error) as error:
        raise InvalidCursor("the cursor is not one this service issued") from error
    attribute, value = bound_to
    if (
        not isinstance(key, dict)
        or set(key) != attributes
        or not all(isinstance(item, str) for item in key.values())
        or key[attribute] != value
    ):
        raise InvalidCursor(f"the cursor is not one this service issued for {what}")
    return {name: {"S": item} for name, item in key.items()}
