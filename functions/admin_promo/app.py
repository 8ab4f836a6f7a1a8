"""AdminPromoFunction: operators' promo campaigns, codes and revocations (IAM-authorized).

POST /admin/promo-campaigns                          create a campaign
GET  /admin/promo-campaigns/{campaign_id}            read it (with its redemption count)
PUT  /admin/promo-campaigns/{campaign_id}            replace its terms (pause, extend, ...)
POST /admin/promo-campaigns/{campaign_id}/codes      a shared code (201) or a batch of unique ones (202)
GET  /admin/promo-code-batches/{batch_id}            a batch's progress
GET  /admin/promo-code-batches/{batch_id}/codes      its codes, a page at a time
POST /admin/promo-redemptions/{redemption_id}/revoke take a redemption back, once
"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import StringConstraints

from partnerpoints.exceptions import (
    AlreadyExists,
    CampaignNotFound,
    CodeBatchNotFound,
    ConcurrentChange,
    InsufficientPoints,
    InvalidCursor,
    InvalidField,
    LedgerBusy,
    RedemptionNotFound,
)
from partnerpoints.http_api import create_http_app, json_response, operator_of
from partnerpoints.http_errors import answers
from partnerpoints.logic.promo_campaigns import MAX_CODES_PAGE, get_promo_campaigns
from partnerpoints.models.promo import (
    Campaign,
    CampaignId,
    CampaignTerms,
    CodeBatch,
    CodePage,
    NewCampaign,
    NewCodes,
    PromoCode,
    RevokeReceipt,
    RevokeRequest,
)
from partnerpoints.observability import logger, metrics, tracer
from partnerpoints.settings import Requirements

app = create_http_app()
TAGS = ["promo codes"]
BatchId = Annotated[str, StringConstraints(pattern=r"^batch-[0-9a-f]{12}$")]
RedemptionId = Annotated[str, StringConstraints(pattern=r"^rdm-[0-9a-f]{16}$")]


@app.post(
    "/admin/promo-campaigns",
    status_code=201,
    tags=TAGS,
    summary="Create a promo campaign",
    responses=answers({201: "the campaign"}, AlreadyExists, InvalidField),
)
@tracer.capture_method
def create_campaign(campaign: NewCampaign) -> Campaign:
    return get_promo_campaigns().create(campaign)


@app.get(
    "/admin/promo-campaigns/<campaign_id>",
    tags=TAGS,
    summary="A campaign, with its redemption count",
    responses=answers({200: "the campaign"}, CampaignNotFound),
)
@tracer.capture_method
def get_campaign(campaign_id: CampaignId) -> Campaign:
    return get_promo_campaigns().get(campaign_id)


@app.put(
    "/admin/promo-campaigns/<campaign_id>",
    tags=TAGS,
    summary="Replace a campaign's terms (pause, extend, ...)",
    responses=answers({200: "the campaign as stored"}, CampaignNotFound, InvalidField, ConcurrentChange),
)
@tracer.capture_method
def replace_campaign(campaign_id: CampaignId, terms: CampaignTerms) -> Campaign:
    return get_promo_campaigns().replace(campaign_id, terms)


# Checked at import, the function's init: a deployment that lacks one of these fails here, named.
REQUIREMENTS = Requirements(
    tables=(
        "AccountBalancesTable",
        "LedgerEntriesTable",
        "PartnersTable",
        "PromoCampaignsTable",
        "PromoCodeBatchesTable",
        "PromoCodesTable",
        "PromoHoldingsTable",
        "PromoRedemptionsTable",
    ),
    variables=("PROMO_CODE_BATCH_FUNCTION_NAME",),
)
REQUIREMENTS.check()


@app.post(
    "/admin/promo-campaigns/<campaign_id>/codes",
    tags=TAGS,
    summary="A shared code (201), or a batch of unique codes a generator writes (202: follow the batch)",
    responses=answers(
        {201: "the shared code", 202: "the batch, being written"},
        CampaignNotFound,
        AlreadyExists,
        InvalidField,
    ),
)
@tracer.capture_method
def add_codes(campaign_id: CampaignId, request: NewCodes) -> Response[PromoCode | CodeBatch]:
    added = get_promo_campaigns().add_codes(campaign_id, request)
    return json_response(202 if isinstance(added, CodeBatch) else 201, added)


@app.get(
    "/admin/promo-code-batches/<batch_id>",
    tags=TAGS,
    summary="A batch's progress",
    responses=answers({200: "the batch"}, CodeBatchNotFound),
)
@tracer.capture_method
def get_batch(batch_id: BatchId) -> CodeBatch:
    return get_promo_campaigns().batch(batch_id)


@app.get(
    "/admin/promo-code-batches/<batch_id>/codes",
    tags=TAGS,
    summary="A batch's codes, a page at a time",
    responses=answers({200: "a page of codes"}, CodeBatchNotFound, InvalidCursor),
)
@tracer.capture_method
def get_batch_codes(
    batch_id: BatchId,
    limit: Annotated[int, Query(ge=1, le=MAX_CODES_PAGE)] = MAX_CODES_PAGE,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> CodePage:
    return get_promo_campaigns().batch_codes(batch_id, limit, cursor)


@app.post(
    "/admin/promo-redemptions/<redemption_id>/revoke",
    tags=TAGS,
    summary="Take a redemption's points back, once",
    responses=answers(
        {201: "revoked", 200: "already revoked: the first receipt"},
        RedemptionNotFound,
        InsufficientPoints,
        LedgerBusy,
    ),
)
@tracer.capture_method
def revoke(redemption_id: RedemptionId, request: RevokeRequest) -> Response[RevokeReceipt]:
    receipt = get_promo_campaigns().revoke(redemption_id, request.reason, operator_of(app.current_event))
    return json_response(200 if receipt.duplicate else 201, receipt)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
