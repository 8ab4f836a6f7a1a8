"""AdminAdjustmentsFunction: POST /admin/members/{member_id}/adjustments (operators, IAM-authorized)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from partnerpoints.http_api import create_http_app
from partnerpoints.logic.adjustments import adjust_account
from partnerpoints.logic.ledger import get_ledger
from partnerpoints.models.adjustments import AdjustmentRequest
from partnerpoints.models.ledger import MemberId
from partnerpoints.observability import logger, metrics, tracer

app = create_http_app()


@app.post("/admin/members/<member_id>/adjustments")
@tracer.capture_method
def post_adjustment(member_id: MemberId, adjustment: AdjustmentRequest) -> Response[dict[str, Any]]:
    operator = app.current_event.request_context.authorizer.iam.user_arn or "unknown operator"
    result = adjust_account(get_ledger(), member_id, adjustment, operator)
    return Response(
        status_code=200 if result.duplicate else 201,
        content_type=content_types.APPLICATION_JSON,
        body=result.model_dump(mode="json"),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
