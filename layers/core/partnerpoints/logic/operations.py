"""The operator console's view of the machinery: what waits in the dead-letter queue, what is left of
the nightly run, and how the last nights' statement runs ended."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache

from partnerpoints.activity import SHARDS
from partnerpoints.dal.queue_depths import QueueDepths
from partnerpoints.dal.statement_files import StatementBucket
from partnerpoints.logic.statement_runs import night_run
from partnerpoints.models.operations import OperationsOverview
from partnerpoints.settings import get_settings

MAX_NIGHTS = 31


class Operations:
    def __init__(
        self,
        bucket: StatementBucket,
        queues: QueueDepths,
        dead_letter_queue_url: str,
        statement_tasks_queue_url: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._bucket = bucket
        self._queues = queues
        self._dead_letters = dead_letter_queue_url
        self._tasks = statement_tasks_queue_url
        self._clock = clock

    def overview(self, nights: int) -> OperationsOverview:
        """Today's (UTC) run first, which the schedule starts after midnight, then the nights before."""
        now = self._clock()
        today = now.astimezone(UTC).date()
        return OperationsOverview(
            checked_at=now,
            dead_letter_queue=self._queues.depth(self._dead_letters),
            statement_tasks=self._queues.depth(self._tasks),
            nights=[night_run(self._bucket, today - timedelta(days=back), SHARDS) for back in range(nights)],
        )


@cache
def get_operations() -> Operations:
    settings = get_settings()
    return Operations(
        StatementBucket(settings),
        QueueDepths(settings),
        settings.required("dead_letter_queue_url"),
        settings.required("statement_tasks_queue_url"),
    )
