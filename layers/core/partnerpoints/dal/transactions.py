"""What every conditional writer needs: which cancellations are worth retrying, how long to wait, and
how to tell our own lost write from someone else's item."""

from __future__ import annotations

import random
import time
from typing import TypeGuard

from pynamodb.exceptions import CancellationReason, PutError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from partnerpoints.exceptions import PartnerPointsError

# Concurrent transactions on one item are cancelled with TransactionConflict, and a hot item can be
# throttled; both are safe to retry because every write carries its own condition.
RETRYABLE_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
MAX_ATTEMPTS = 12
BACKOFF_BASE_SECONDS = 0.01
BACKOFF_CAP_SECONDS = 0.5


def is_retryable(reasons: list[CancellationReason | None]) -> bool:
    return any(reason is not None and reason.code in RETRYABLE_REASONS for reason in reasons)


def failed_condition(reason: CancellationReason | None) -> TypeGuard[CancellationReason]:
    return reason is not None and reason.code == "ConditionalCheckFailed"


def back_off(attempt: int) -> None:
    """Full jitter: a random wait up to an exponentially growing cap."""
    time.sleep(random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)))  # noqa: S311


def is_stored(item: Model) -> bool:
    """Whether exactly `item` is stored (it is then read again into `item`). When a write lands but its
    answer is lost, the SDK sends it again and its condition fails on our own item: an item identical
    to ours, to its write's microsecond (every item we write carries the time it was written), is that
    write, not another request's. For a transaction, one of its items stored is all of them:
    transactions land whole."""
    expected = item.serialize()
    try:
        item.refresh(consistent_read=True)
    except item.DoesNotExist:
        return False
    return bool(item.serialize() == expected)


def create_once(item: Model, condition: Condition, refusal: PartnerPointsError) -> None:
    """Put `item` if its key is new, else raise `refusal` (unless the item met is our own lost write)."""
    try:
        item.save(condition=condition)
    except PutError as error:
        if getattr(error, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        if not is_stored(item):
            raise refusal from error
