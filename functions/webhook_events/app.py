"""WebhookEventsFunction: the Orders and LedgerEntries streams become webhook events, each fact once.

Powertools' BatchProcessor hands each record to `record_handler` and reports the ones that failed, so
a failing record fails alone: Lambda retries from it, then sends the batch's description to the
dead-letter queue once MaximumRetryAttempts are spent. A record redelivered makes the same events
(their ids are digests of their facts), which the table keeps once.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from partnerpoints.logic.webhook_events import entry_events, get_webhook_event_recorder, order_events
from partnerpoints.models.ledger import LedgerEntry
from partnerpoints.models.orders import Order
from partnerpoints.observability import logger, metrics, tracer
from partnerpoints.settings import Requirements

# Checked at import, the function's init: a deployment that lacks one of these fails here, named.
REQUIREMENTS = Requirements(tables=("WebhookEventsTable",))
REQUIREMENTS.check()

processor = BatchProcessor(event_type=EventType.DynamoDBStreams, model=DynamoDBStreamRecordModel)


@tracer.capture_method
def record_handler(record: DynamoDBStreamRecordModel) -> None:
    change = record.dynamodb
    new, old = change.NewImage, change.OldImage
    if not isinstance(new, dict):  # an item removed (by hand, or a TTL): no fact to tell
        return
    keys = change.Keys or {}
    if "entry_id" in keys:
        events = entry_events(LedgerEntry.model_validate(new))
    elif "order_id" in keys:
        events = order_events(
            Order.model_validate(old) if isinstance(old, dict) else None, Order.model_validate(new)
        )
    else:
        raise ValueError(f"no webhook event comes from items keyed {sorted(keys)}")
    recorded = get_webhook_event_recorder().record(events)
    if recorded:
        metrics.add_metric(name="WebhookEventsRecorded", unit=MetricUnit.Count, value=recorded)
    if recorded < len(events):
        metrics.add_metric(
            name="WebhookEventsAlreadyRecorded", unit=MetricUnit.Count, value=len(events) - recorded
        )
    if events:
        logger.debug("webhook events", types=[str(event.type) for event in events], recorded=recorded)


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(  # type: ignore[return-value]  # a TypedDict of that shape
        event=event, record_handler=record_handler, processor=processor, context=context
    )
