"""MemberApiFunction: a member's balance, activity, personal links and spends (HTTP API JWT authorizer).

A member may read and act only on their own id; a token with the `admin` scope on any. A spend needs an
Idempotency-Key header: Powertools Idempotency answers a retry with the first answer, and refuses the
same key with another body.
"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyInconsistentStateError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from partnerpoints.exceptions import (
    IdempotencyKeyReused,
    InsufficientPoints,
    InvalidCursor,
    InvalidField,
    LedgerBusy,
    LinkNotFound,
    NotYourAccount,
    PartnerNotFound,
    PromoPointsRestricted,
    RequestInProgress,
    StorageUnavailable,
)
from partnerpoints.http_api import (
    FirstDay,
    LastDay,
    create_http_app,
    member_link_url,
    require_member_access,
)
from partnerpoints.http_errors import answers
from partnerpoints.logic.earning import check_with_earning_rules
from partnerpoints.logic.member_accounts import SPEND_DEADLINE, get_idempotent_spend, get_member_accounts
from partnerpoints.logic.member_clicks import get_member_clicks
from partnerpoints.logic.partners import get_partner_directory
from partnerpoints.models.ledger import MemberId
from partnerpoints.models.members import (
    ActivityPage,
    IdempotencyKey,
    MemberBalance,
    MemberClicksPage,
    MemberOrdersPage,
    SpendReceipt,
    SpendRequest,
)
from partnerpoints.models.partners import LinkId, MemberLinkView, NewMemberLink, PartnerId
from partnerpoints.observability import logger, metrics, tracer
from partnerpoints.settings import Requirements

app = create_http_app()
TAGS = ["members"]


def _require_access(member_id: str) -> None:
    require_member_access(app.current_event, member_id)


@app.get(
    "/members/<member_id>/balance",
    tags=TAGS,
    summary="The member's available, pending and promo points",
    responses=answers({200: "the balances"}, NotYourAccount),
)
@tracer.capture_method
def get_balance(member_id: MemberId) -> MemberBalance:
    _require_access(member_id)
    return get_member_accounts().balance(member_id)


# Checked at import, the function's init: a deployment that lacks one of these fails here, named.
REQUIREMENTS = Requirements(
    tables=(
        "AccountBalancesTable",
        "IdempotencyTable",
        "LedgerEntriesTable",
        "LinksTable",
        "MemberClicksTable",
        "OrderPointsTable",
        "OrdersTable",
        "PartnersTable",
        "PromoCampaignsTable",
        "PromoHoldingsTable",
    ),
    variables=(
        "CLICK_SIGNING_SECRET_ARN",
        "EARNING_RULES",
    ),
)
check_with_earning_rules(REQUIREMENTS)


@app.get(
    "/members/<member_id>/activity",
    tags=TAGS,
    summary="Both accounts' entries, newest first",
    responses=answers({200: "a page of entries"}, NotYourAccount, InvalidCursor),
)
@tracer.capture_method
def get_activity(
    member_id: MemberId,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> ActivityPage:
    _require_access(member_id)
    return get_member_accounts().activity(member_id, limit, cursor)


@app.get(
    "/members/<member_id>/orders",
    tags=TAGS,
    summary="The member's orders, the latest change first: partner, status, amount, points and release",
    responses=answers({200: "a page of orders"}, NotYourAccount, InvalidCursor),
)
@tracer.capture_method
def get_orders(
    member_id: MemberId,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> MemberOrdersPage:
    _require_access(member_id)
    return get_member_accounts().orders(member_id, limit, cursor)


@app.get(
    "/members/<member_id>/clicks",
    tags=TAGS,
    summary="The member's clicks of a range of days, the latest first, and whether an order followed",
    responses=answers({200: "a page of clicks"}, NotYourAccount, InvalidField, InvalidCursor),
)
@tracer.capture_method
def get_clicks(
    member_id: MemberId,
    *,
    first: FirstDay = None,
    last: LastDay = None,
    partner_id: PartnerId | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> MemberClicksPage:
    _require_access(member_id)
    return get_member_clicks().clicks(
        member_id, first=first, last=last, partner_id=partner_id, limit=limit, cursor=cursor
    )


@app.post(
    "/members/<member_id>/spend",
    status_code=201,
    tags=TAGS,
    summary="Spend points at a partner; a retry with the same Idempotency-Key answers the first receipt",
    responses=answers(
        {201: "spent (or the first answer to this Idempotency-Key)"},
        NotYourAccount,
        PartnerNotFound,
        InsufficientPoints,
        PromoPointsRestricted,
        IdempotencyKeyReused,
        RequestInProgress,
        LedgerBusy,
    ),
)
@tracer.capture_method
def spend(
    member_id: MemberId,
    request: SpendRequest,
    idempotency_key: Annotated[IdempotencyKey, Header(alias="idempotency-key")],
) -> SpendReceipt:
    _require_access(member_id)
    data = {
        "member_id": member_id,
        "idempotency_key": idempotency_key,
        "request": request.model_dump(mode="json"),
    }
    try:
        receipt: dict[str, Any] = get_idempotent_spend()(spend=data)
    except IdempotencyValidationError as error:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used for a different spend; use a new key for a new spend"
        ) from error
    except (IdempotencyAlreadyInProgressError, IdempotencyInconsistentStateError) as error:
        # Inconsistent: the key's record kept changing under Powertools' own retries (another request
        # with this key finished or failed meanwhile); the next retry reads where it settled.
        raise RequestInProgress("a spend with this Idempotency-Key is in progress; retry shortly") from error
    except IdempotencyPersistenceLayerError as error:
        raise StorageUnavailable("spends cannot be recorded right now; retry shortly") from error
    return SpendReceipt.model_validate(receipt)


@app.get(
    "/members/<member_id>/links/<link_id>",
    tags=TAGS,
    summary="The member's personal click URL for a link",
    responses=answers({200: "the member's link"}, NotYourAccount, LinkNotFound, PartnerNotFound),
)
@tracer.capture_method
def get_member_link(member_id: MemberId, link_id: LinkId) -> MemberLinkView:
    _require_access(member_id)
    member_link = get_partner_directory().member_link(NewMemberLink(member_id=member_id, link_id=link_id))
    return MemberLinkView(**member_link.model_dump(), url=member_link_url(app.current_event, member_link))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with SPEND_DEADLINE.invocation(context):
        return app.resolve(event, context)
