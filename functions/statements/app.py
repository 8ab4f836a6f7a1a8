"""StatementsFunction: the nightly close.

Invoked three ways: by the schedule (02:00 UTC, `{}`: close yesterday), by an operator (`{"date": ...}`
re-runs a day; `{"action": "status", "period": ...}` reads its progress), and by its own shard queue.
The run settles the day and queues one message per shard; each message writes that shard's statements,
and the shard that finds all the others done writes the manifest. A shard that fails is reported alone
(partial batch response), retried by SQS, then dead-lettered.
"""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from partnerpoints.exceptions import InvalidField
from partnerpoints.logic.earning import check_with_earning_rules
from partnerpoints.logic.nightly_statements import default_day, get_nightly_statements
from partnerpoints.models.periods import Period
from partnerpoints.models.statements import ShardTaskRecord, StatementRun
from partnerpoints.observability import logger, metrics, tracer
from partnerpoints.settings import Requirements

# Checked at import, the function's init: a deployment that lacks one of these fails here, named.
REQUIREMENTS = Requirements(
    tables=(
        "AccountBalancesTable",
        "LedgerEntriesTable",
        "OrderChangesTable",
        "OrderPointsTable",
        "PartnerCountersTable",
        "OrdersTable",
        "WebhookEventsTable",
    ),
    variables=(
        "STATEMENTS_BUCKET_NAME",
        "STATEMENT_TASKS_QUEUE_URL",
        "EARNING_RULES",
    ),
)
check_with_earning_rules(REQUIREMENTS)

processor = BatchProcessor(event_type=EventType.SQS, model=ShardTaskRecord)


@tracer.capture_method
def record_handler(record: ShardTaskRecord) -> None:
    task = record.body
    outcome = get_nightly_statements().run_shard(Period.parse(task.period), task.shard)
    metrics.add_metric(name="MemberStatements", unit=MetricUnit.Count, value=outcome.members)
    metrics.add_metric(name="PartnerStatements", unit=MetricUnit.Count, value=outcome.partners)
    # Finance alarms on this: a statement that does not reconcile is listed, never corrected. One broken
    # account is one alarm a night: on a month's last day the month's roll-up lists what the day's run
    # found too (both manifests show it) but counts only what the day's run could not see.
    metrics.add_metric(name="StatementMismatches", unit=MetricUnit.Count, value=outcome.first_seen)


def run(event: dict[str, Any]) -> dict[str, Any]:
    try:
        request = StatementRun.model_validate(event)
    except ValidationError as error:
        problems = [f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}" for e in error.errors()]
        raise InvalidField(
            "the statements run was asked something it cannot do: " + "; ".join(problems)
        ) from error
    statements = get_nightly_statements()
    if request.action == "status":
        label = request.period or (request.date or default_day(datetime.now(UTC))).isoformat()
        return statements.status(Period.parse(label))
    day = request.date or default_day(datetime.now(UTC))
    if day > datetime.now(UTC).date():
        raise InvalidField(
            f"{day.isoformat()} is still to come (UTC): only past days and today can be closed"
        )
    return statements.close(day)


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return process_partial_response(  # type: ignore[return-value]  # a TypedDict of that shape
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    return run(event)
