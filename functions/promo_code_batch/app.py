"""PromoCodeBatchFunction: writes a batch of unique promo codes, invoked asynchronously with
{"batch_id": ...} when an operator asks for the batch.

It stops a minute before its timeout and fails, so that Lambda's retry of the asynchronous invocation
resumes the batch where it stopped; after the retries the event lands in the dead-letter queue.
"""

from typing import Annotated, Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, StringConstraints

from partnerpoints.logic.promo_campaigns import get_promo_campaigns
from partnerpoints.models.promo import BatchStatus
from partnerpoints.observability import logger, metrics, tracer
from partnerpoints.settings import Requirements

# Checked at import, the function's init: a deployment that lacks one of these fails here, named.
REQUIREMENTS = Requirements(
    tables=(
        "PromoCodeBatchesTable",
        "PromoCodesTable",
    ),
)
REQUIREMENTS.check()

SAFETY_MARGIN_MS = 60_000


class BatchUnfinished(RuntimeError):
    """Time ran short; the retry of this invocation carries on."""


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_id: Annotated[str, StringConstraints(pattern=r"^batch-[0-9a-f]{12}$")]


@logger.inject_lambda_context(correlation_id_path="batch_id")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse(event=event, model=GenerateRequest)
    batch = get_promo_campaigns().generate(
        request.batch_id, out_of_time=lambda: context.get_remaining_time_in_millis() < SAFETY_MARGIN_MS
    )
    if batch.status is not BatchStatus.COMPLETE:
        raise BatchUnfinished(f"batch {batch.batch_id}: {batch.generated} of {batch.count} codes; resuming")
    metrics.add_metric(name="PromoCodesGenerated", unit="Count", value=batch.count)
    return batch.model_dump(mode="json")
