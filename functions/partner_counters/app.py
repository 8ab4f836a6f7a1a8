"""PartnerCountersFunction: the Clicks, Orders and LedgerEntries streams counted per partner and day,
per link and per sub id value, in tumbling windows; and members' own clicks kept for their account.

Each invocation folds its records into the window's state and returns it; the invocation that closes
the window writes the counts, once (logic.activity_counters, dal.counter_store). A failure fails the
invocation: Lambda retries it with the same state, then sends the batch's description to the
dead-letter queue once MaximumRetryAttempts are spent.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from partnerpoints.logic.activity_counters import Source, StreamChange, get_activity_counters
from partnerpoints.logic.member_clicks import get_member_clicks
from partnerpoints.models.counters import ActivityWindowEvent, WindowId, WindowState
from partnerpoints.observability import logger, metrics, tracer
from partnerpoints.settings import Requirements

# Checked at import, the function's init: a deployment that lacks one of these fails here, named.
REQUIREMENTS = Requirements(tables=("PartnerCountersTable", "MemberClicksTable", "PartnersTable"))
REQUIREMENTS.check()


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    window = parse(event=event, model=ActivityWindowEvent)
    counters = get_activity_counters()
    changes = [
        StreamChange(
            source=Source.of_keys(record.dynamodb.Keys),
            sequence_number=record.dynamodb.SequenceNumber,
            old=record.dynamodb.OldImage if isinstance(record.dynamodb.OldImage, dict) else None,
            new=record.dynamodb.NewImage if isinstance(record.dynamodb.NewImage, dict) else None,
        )
        for record in window.Records
    ]
    state, uncountable = counters.fold(WindowState.model_validate(window.state), changes)
    # Members' own clicks: idempotent writes, so written as the records come, not when the window closes.
    member_clicks = get_member_clicks().record(changes)
    if member_clicks:
        metrics.add_metric(name="MemberClicksWritten", unit=MetricUnit.Count, value=member_clicks)
    for change in uncountable:
        # Retrying cannot make an item that is no order an order: it is logged, and the window moves on.
        logger.error(
            "stream record not counted", sequence_number=change.sequence_number, source=change.source
        )
    metrics.add_metric(
        name="ActivityRecordsCounted", unit=MetricUnit.Count, value=len(changes) - len(uncountable)
    )
    if uncountable:
        metrics.add_metric(name="ActivityRecordsNotCounted", unit=MetricUnit.Count, value=len(uncountable))
    if not window.closes_window:
        return {"state": state.dump()}
    written, found = counters.close(
        WindowId(
            stream=window.stream,
            shard_id=window.shardId,
            start=window.window.start.isoformat(),
            first_sequence=state.first or "",
        ),
        state,
    )
    logger.info(
        "window counted",
        stream=window.stream,
        shard_id=window.shardId,
        window_start=window.window.start.isoformat(),
        counters=len(state.counts),
        transactions_written=written,
        transactions_found_written=found,
    )
    metrics.add_metric(name="CounterWindowsWritten", unit=MetricUnit.Count, value=written)
    if found:
        metrics.add_metric(name="CounterWindowsAlreadyWritten", unit=MetricUnit.Count, value=found)
    return {"state": {}}
