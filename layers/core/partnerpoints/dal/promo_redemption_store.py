"""A member's side of the promo tables: redeeming a code (one transaction over the code, the campaign,
the member's holding, the redemption, the ledger entry and the promo balance), revoking a redemption,
the holdings that say where promo points may be spent, and the failed-attempts record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from partnerpoints.dal.ledger_store import stage_postings
from partnerpoints.dal.promo_tables import (
    PromoAttemptsItem,
    PromoCampaignItem,
    PromoCodeItem,
    PromoHoldingItem,
    PromoRedemptionItem,
)
from partnerpoints.dal.tables import bind_tables
from partnerpoints.dal.transactions import MAX_ATTEMPTS, back_off, failed_condition, is_retryable
from partnerpoints.exceptions import ConflictingEntry, LedgerBusy
from partnerpoints.models.ledger import Posting
from partnerpoints.models.promo import Campaign, CampaignStatus, PromoCode, Redemption, RedemptionStatus
from partnerpoints.observability import logger
from partnerpoints.settings import Settings

_CONDITION_FAILED = "ConditionalCheckFailedException"
# Positions of the cancellation reasons: PynamoDB sends a transaction's puts first, then its updates.
_REDEMPTION, _ENTRY, _CODE, _CAMPAIGN, _HOLDING = 0, 1, 2, 3, 4
_REVOKED = 1  # in a revocation: the entry (put), then the redemption (the first update)


@dataclass(frozen=True)
class Holding:
    campaign_id: str
    redemptions: int
    available: int


@dataclass(frozen=True)
class RedeemRefused:
    """Which of the redemption's conditions did not hold when it was tried."""

    code: bool = False
    campaign: bool = False
    holding: bool = False


def _to_redemption(item: PromoRedemptionItem) -> Redemption:
    return Redemption(
        redemption_id=item.redemption_id,
        member_id=item.member_id,
        campaign_id=item.campaign_id,
        code=item.code,
        points=int(item.points),
        entry_id=item.entry_id,
        status=item.status,
        redeemed_at=item.redeemed_at,
        revoked_at=item.revoked_at,
        revoke_reason=item.revoke_reason,
    )


def stage_holdings(
    transaction: TransactWrite, member_id: str, allocations: dict[str, int], now: datetime, guarded: bool
) -> None:
    """Move each campaign's holding by its allocation; a guarded debit may not take it below zero."""
    for campaign_id, points in sorted(allocations.items()):
        condition: Condition | None = None
        if guarded and points < 0:
            condition = PromoHoldingItem.available >= -points
        transaction.update(
            PromoHoldingItem(member_id, campaign_id),
            actions=[PromoHoldingItem.available.add(points), PromoHoldingItem.updated_at.set(now)],
            condition=condition,
        )


class PromoRedemptionStore:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)
        self._connection = Connection(region=settings.region, host=settings.dynamodb_endpoint_url)

    def redeem(
        self,
        code_key: str,
        code: PromoCode,
        campaign: Campaign,
        redemption: Redemption,
        posting: Posting,
    ) -> RedeemRefused | None:
        """All of a redemption at once, or nothing. None when written; otherwise which conditions
        failed (the caller reads again to tell the member why, or retries on newer campaign terms)."""
        now = redemption.redeemed_at
        code_condition = PromoCodeItem.code.exists()
        if code.max_redemptions is not None:
            code_condition &= PromoCodeItem.redemptions < code.max_redemptions
        campaign_condition = (
            (PromoCampaignItem.version == campaign.version)
            & (PromoCampaignItem.status == str(CampaignStatus.ACTIVE))
            & (PromoCampaignItem.valid_from <= now)
            & (PromoCampaignItem.valid_until > now)
        )
        if campaign.max_redemptions_total is not None:
            campaign_condition &= PromoCampaignItem.redemptions < campaign.max_redemptions_total
        holding_condition = PromoHoldingItem.redemptions.does_not_exist() | (
            PromoHoldingItem.redemptions < campaign.per_member_limit
        )
        for attempt in range(MAX_ATTEMPTS):
            try:
                with TransactWrite(connection=self._connection) as transaction:
                    transaction.update(
                        PromoCodeItem(code_key),
                        actions=[PromoCodeItem.redemptions.add(1)],
                        condition=code_condition,
                    )
                    transaction.update(
                        PromoCampaignItem(campaign.campaign_id),
                        actions=[PromoCampaignItem.redemptions.add(1)],
                        condition=campaign_condition,
                    )
                    transaction.update(
                        PromoHoldingItem(redemption.member_id, campaign.campaign_id),
                        actions=[
                            PromoHoldingItem.redemptions.add(1),
                            PromoHoldingItem.available.add(redemption.points),
                            PromoHoldingItem.updated_at.set(now),
                        ],
                        condition=holding_condition,
                    )
                    transaction.save(
                        _redemption_item(redemption),
                        condition=PromoRedemptionItem.redemption_id.does_not_exist(),
                    )
                    stage_postings(transaction, [posting], now)
            except TransactWriteError as error:
                reasons = error.cancellation_reasons or []
                failed = [failed_condition(reason) for reason in reasons] + [False] * 6
                refused = RedeemRefused(
                    code=failed[_CODE], campaign=failed[_CAMPAIGN], holding=failed[_HOLDING]
                )
                if refused.code or refused.campaign or refused.holding:
                    return refused
                if is_retryable(reasons):
                    back_off(attempt)
                    continue
                if failed[_REDEMPTION] or failed[_ENTRY]:
                    # Redemption ids are random: a clash means a bug, never something to post over.
                    raise ConflictingEntry(f"redemption {redemption.redemption_id} exists already") from error
                raise
            return None
        logger.warning("promo code busy", campaign_id=campaign.campaign_id)
        raise LedgerBusy("this promo code is being redeemed by many members at once; retry shortly")

    def get_redemption(self, redemption_id: str) -> Redemption | None:
        try:
            return _to_redemption(PromoRedemptionItem.get(redemption_id, consistent_read=True))
        except PromoRedemptionItem.DoesNotExist:
            return None

    def revoke(
        self,
        *,
        redemption: Redemption,
        code_key: str,
        posting: Posting,
        reason: str,
        operator: str,
        now: datetime,
    ) -> bool:
        """Mark the redemption revoked, post the revocation, take the points off the holding (it may go
        negative: they may be spent) and give the use back to the code and the campaign. False when the
        redemption is no longer redeemed (revoked before: nothing is written)."""
        for attempt in range(MAX_ATTEMPTS):
            try:
                with TransactWrite(connection=self._connection) as transaction:
                    transaction.update(
                        PromoRedemptionItem(redemption.redemption_id),
                        actions=[
                            PromoRedemptionItem.status.set(str(RedemptionStatus.REVOKED)),
                            PromoRedemptionItem.revoked_at.set(now),
                            PromoRedemptionItem.revoke_reason.set(reason),
                            PromoRedemptionItem.revoked_by.set(operator),
                        ],
                        condition=PromoRedemptionItem.status == str(RedemptionStatus.REDEEMED),
                    )
                    transaction.update(
                        PromoCodeItem(code_key),
                        actions=[PromoCodeItem.redemptions.add(-1)],
                        condition=PromoCodeItem.redemptions > 0,
                    )
                    transaction.update(
                        PromoCampaignItem(redemption.campaign_id),
                        actions=[PromoCampaignItem.redemptions.add(-1)],
                        condition=PromoCampaignItem.redemptions > 0,
                    )
                    stage_holdings(
                        transaction, redemption.member_id, posting.allocations or {}, now, guarded=False
                    )
                    stage_postings(transaction, [posting], now)
            except TransactWriteError as error:
                reasons = error.cancellation_reasons or []
                if len(reasons) > _REVOKED and failed_condition(reasons[_REVOKED]):
                    return False
                if is_retryable(reasons):
                    back_off(attempt)
                    continue
                raise
            return True
        raise LedgerBusy(f"redemption {redemption.redemption_id} kept changing; retry later")

    def holding(self, member_id: str, campaign_id: str) -> Holding | None:
        try:
            item = PromoHoldingItem.get(member_id, campaign_id, consistent_read=True)
        except PromoHoldingItem.DoesNotExist:
            return None
        return _to_holding(item)

    def holdings(self, member_id: str) -> list[Holding]:
        return [_to_holding(item) for item in PromoHoldingItem.query(member_id, consistent_read=True)]

    # ------------------------------------------------------------ failed attempts
    def recent_failures(self, member_id: str) -> tuple[dict[str, float], int | None]:
        """The member's recorded attempts (id -> epoch seconds) and the record's version (None: none)."""
        try:
            item = PromoAttemptsItem.get(member_id, consistent_read=True)
        except PromoAttemptsItem.DoesNotExist:
            return {}, None
        return {key: float(value) for key, value in item.attempts.as_dict().items()}, int(item.version)

    def record_attempts(
        self, member_id: str, attempts: dict[str, float], version: int | None, expires_at: datetime
    ) -> bool:
        """Replace the record if it is still at `version`; False when another attempt wrote first."""
        condition = (
            PromoAttemptsItem.member_id.does_not_exist()
            if version is None
            else PromoAttemptsItem.version == version
        )
        item = PromoAttemptsItem(
            member_id, attempts=attempts, version=(version or 0) + 1, expires_at=expires_at
        )
        try:
            item.save(condition=condition)
        except PutError as error:
            if error.cause_response_code == _CONDITION_FAILED:
                return False
            raise
        return True

    def forget_attempt(self, member_id: str, attempt_id: str) -> None:
        """A successful attempt is not a failure: take its reservation back."""
        try:
            PromoAttemptsItem(member_id).update(
                # The version moves too, so that a reservation written over an older read retries.
                actions=[PromoAttemptsItem.attempts[attempt_id].remove(), PromoAttemptsItem.version.add(1)],
                condition=PromoAttemptsItem.member_id.exists(),
            )
        except UpdateError as error:
            if error.cause_response_code != _CONDITION_FAILED:
                raise


def _to_holding(item: PromoHoldingItem) -> Holding:
    return Holding(item.campaign_id, int(item.redemptions), int(item.available))


def _redemption_item(redemption: Redemption) -> PromoRedemptionItem:
    return PromoRedemptionItem(
        redemption.redemption_id,
        member_id=redemption.member_id,
        campaign_id=redemption.campaign_id,
        code=redemption.code,
        points=redemption.points,
        entry_id=redemption.entry_id,
        status=str(redemption.status),
        redeemed_at=redemption.redeemed_at,
    )
