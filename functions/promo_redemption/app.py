"""PromoRedemptionFunction: a member redeems a promo code into their promo account (JWT authorizer).

POST /members/{member_id}/promo-redemptions {code} -> 201 {redemption_id, code, points, balance}
"""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from partnerpoints.exceptions import (
    LedgerBusy,
    NotYourAccount,
    PromoCodeNotFound,
    PromoCodeOutsideWindow,
    PromoCodeUnavailable,
    TooManyFailedAttempts,
)
from partnerpoints.http_api import create_http_app, require_member_access
from partnerpoints.http_errors import answers
from partnerpoints.logic.promo_redemption import get_promo_redemptions
from partnerpoints.models.ledger import MemberId
from partnerpoints.models.promo import RedemptionReceipt, RedemptionRequest
from partnerpoints.observability import logger, metrics, tracer
from partnerpoints.settings import Requirements

# Checked at import, the function's init: a deployment that lacks one of these fails here, named.
REQUIREMENTS = Requirements(
    tables=(
        "AccountBalancesTable",
        "LedgerEntriesTable",
        "PromoAttemptsTable",
        "PromoCampaignsTable",
        "PromoCodesTable",
        "PromoHoldingsTable",
        "PromoRedemptionsTable",
    ),
)
REQUIREMENTS.check()

app = create_http_app()


@app.post(
    "/members/<member_id>/promo-redemptions",
    status_code=201,
    tags=["members"],
    summary="Redeem a promo code into the member's promo account",
    responses=answers(
        {201: "redeemed"},
        NotYourAccount,
        PromoCodeNotFound,
        PromoCodeUnavailable,
        PromoCodeOutsideWindow,
        TooManyFailedAttempts,
        LedgerBusy,
    ),
)
@tracer.capture_method
def redeem(member_id: MemberId, request: RedemptionRequest) -> RedemptionReceipt:
    require_member_access(app.current_event, member_id)
    return get_promo_redemptions().redeem(member_id, request.code)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
