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


def create_once(item: Model, condition: Condition, refusal: PartnerPointsError) -> None:
    """Put `item` if its key is new, else raise `refusal`. When the write landed but its answer was lost,
    the SDK sends it again and the condition fails on our own item: an item identical to ours, to its
    creation's microsecond, is that write, not an earlier request's."""
    expected = item.serialize()
    try:
        item.save(condition=condition)
    except PutError as error:
        if getattr(error, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        try:
            item.refresh(consistent_read=True)
        except item.DoesNotExist:
            raise refusal from error
        if item.serialize() != expected:
            raise refusal from error
