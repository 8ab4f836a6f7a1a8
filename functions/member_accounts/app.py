"""MemberAccountsFunction: a member's balances and activity (JWT-authorized; only their own accounts)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from partnerpoints.exceptions import NotYourAccount
from partnerpoints.http_api import create_http_app
from partnerpoints.logic.ledger import get_ledger
from partnerpoints.models.ledger import Account, MemberId
from partnerpoints.observability import logger, metrics, tracer

app = create_http_app()


def _require_own(member_id: str) -> None:
    # The JWT authorizer has verified the token; the subject decides whose accounts it may read.
    subject = app.current_event.request_context.authorizer.jwt_claim.get("sub")
    if subject != member_id:
        raise NotYourAccount("a member may only see their own accounts")


@app.get("/members/<member_id>/balances")
@tracer.capture_method
def get_balances(member_id: MemberId) -> dict[str, Any]:
    _require_own(member_id)
    balances = get_ledger().balances(member_id)
    return {
        "member_id": member_id,
        "accounts": {account.value: balance.model_dump(mode="json") for account, balance in balances.items()},
    }


@app.get("/members/<member_id>/accounts/<account>/activity")
@tracer.capture_method
def get_activity(
    member_id: MemberId,
    account: Account,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict[str, Any]:
    _require_own(member_id)
    return get_ledger().history(member_id, account, limit=limit, cursor=cursor).model_dump(mode="json")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
