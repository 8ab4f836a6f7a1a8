"""AccrualFunction: every change of the Orders stream becomes ledger postings, exactly once.

Powertools' BatchProcessor parses each record (OrderStreamRecord) and reports the ones that failed, so
a failing record fails alone: Lambda retries from it, then sends the batch's description to the
dead-letter queue once MaximumRetryAttempts are spent.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from partnerpoints.logic.accrual import AccrualOutcome, get_accrual
from partnerpoints.logic.earning import check_with_earning_rules
from partnerpoints.models.order_stream import OrderStreamRecord
from partnerpoints.observability import logger, metrics, tracer
from partnerpoints.settings import Requirements

# Checked at import, the function's init: a deployment that lacks one of these fails here, named.
REQUIREMENTS = Requirements(
    tables=(
        "AccountBalancesTable",
        "LedgerEntriesTable",
        "OrderPointsTable",
        "PartnersTable",
    ),
    variables=("EARNING_RULES",),
)
check_with_earning_rules(REQUIREMENTS)

processor = BatchProcessor(event_type=EventType.DynamoDBStreams, model=OrderStreamRecord)
METRIC_BY_OUTCOME = {
    AccrualOutcome.POSTED: "OrderVersionsPosted",
    AccrualOutcome.RECORDED: "OrderVersionsWithoutPostings",
    AccrualOutcome.ALREADY_APPLIED: "OrderVersionsAlreadyApplied",
    AccrualOutcome.NOT_ATTRIBUTED: "UnattributedOrderVersions",
}


@tracer.capture_method
def record_handler(record: OrderStreamRecord) -> None:
    order = record.dynamodb.NewImage
    if order is None:  # an order item removed by hand: its points stay as posted
        logger.warning("order removed from the table; points unchanged", keys=record.dynamodb.Keys)
        return
    result = get_accrual().accrue(order)
    metrics.add_metric(name=METRIC_BY_OUTCOME[result.outcome], unit=MetricUnit.Count, value=1)
    if result.outcome is AccrualOutcome.POSTED:
        metrics.add_metric(name="LedgerPostings", unit=MetricUnit.Count, value=len(result.postings))


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(  # type: ignore[return-value]  # a TypedDict of that shape
        event=event, record_handler=record_handler, processor=processor, context=context
    )
