"""What every transactional writer needs: which cancellations are worth retrying, and how long to wait."""

from __future__ import annotations

import random
import time
from typing import TypeGuard

from pynamodb.exceptions import CancellationReason

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
