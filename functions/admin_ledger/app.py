"""AdminLedgerFunction: operators' ledger operations (IAM-authorized).

POST /admin/members/{member_id}/adjustments   a manual credit or debit, once per adjustment id
POST /admin/spends/{entry_id}/refund           give a spend's points back, once
POST /admin/releases                           release matured pending points as of a time
"""

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from partnerpoints.exceptions import (
    ConflictingEntry,
    InsufficientPoints,
    InvalidField,
    LedgerBusy,
    NotASpend,
    SpendNotFound,
)
from partnerpoints.http_api import create_http_app, json_response, operator_of
from partnerpoints.http_errors import answers
from partnerpoints.logic.accrual import DEFAULT_LOOKBACK_DAYS, MAX_LOOKBACK_DAYS, get_accrual
from partnerpoints.logic.adjustments import adjust_account
from partnerpoints.logic.earning import check_with_earning_rules
from partnerpoints.logic.ledger import get_ledger
from partnerpoints.logic.member_accounts import get_member_accounts
from partnerpoints.models.adjustments import AdjustmentRequest
from partnerpoints.models.ledger import MemberId, PostResult
from partnerpoints.models.members import RefundReceipt
from partnerpoints.models.order_points import ReleaseReport
from partnerpoints.models.periods import Moment
from partnerpoints.observability import logger, metrics, tracer
from partnerpoints.settings import Requirements

# Checked at import, the function's init: a deployment that lacks one of these fails here, named.
REQUIREMENTS = Requirements(
    tables=(
        "AccountBalancesTable",
        "LedgerEntriesTable",
        "OrderPointsTable",
        "PromoHoldingsTable",
    ),
    variables=("EARNING_RULES",),
)
check_with_earning_rules(REQUIREMENTS)

app = create_http_app()
TAGS = ["ledger"]
EntryIdPath = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,256}$")]


class ReleaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of: Moment | None = None  # default: now
    lookback_days: int = Field(default=DEFAULT_LOOKBACK_DAYS, ge=0, le=MAX_LOOKBACK_DAYS)


def _operator() -> str:
    return operator_of(app.current_event)


@app.post(
    "/admin/members/<member_id>/adjustments",
    tags=TAGS,
    summary="A manual credit or debit, posted once per adjustment id",
    responses=answers(
        {201: "posted", 200: "already posted: the first result"},
        InvalidField,
        InsufficientPoints,
        ConflictingEntry,
        LedgerBusy,
    ),
)
@tracer.capture_method
def post_adjustment(member_id: MemberId, adjustment: AdjustmentRequest) -> Response[PostResult]:
    result = adjust_account(get_ledger(), member_id, adjustment, _operator())
    return json_response(200 if result.duplicate else 201, result)


@app.post(
    "/admin/spends/<entry_id>/refund",
    tags=TAGS,
    summary="Give a spend's points back, once",
    responses=answers(
        {201: "refunded", 200: "already refunded: the first receipt"}, SpendNotFound, NotASpend, LedgerBusy
    ),
)
@tracer.capture_method
def refund_spend(entry_id: EntryIdPath) -> Response[RefundReceipt]:
    # Entry ids hold '#', sent percent-encoded; the route matches the raw path, so decode here.
    receipt = get_member_accounts().refund_spend(unquote(entry_id), _operator())
    return json_response(200 if receipt.duplicate else 201, receipt)


@app.post(
    "/admin/releases",
    tags=TAGS,
    summary="Release matured pending points as of a time (the nightly run does this itself)",
    responses=answers({200: "what was released"}, LedgerBusy),
)
@tracer.capture_method
def release_matured(request: ReleaseRequest) -> ReleaseReport:
    as_of = request.as_of or datetime.now(UTC)
    report = get_accrual().release_matured(as_of, request.lookback_days)
    logger.info("release run by an operator", operator=_operator(), as_of=as_of.isoformat())
    return report


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
