"""Campaigns, codes and code batches: the operator's side of the promo tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from partnerpoints.dal.cursors import decode_cursor, encode_cursor
from partnerpoints.dal.promo_tables import PromoCampaignItem, PromoCodeBatchItem, PromoCodeItem
from partnerpoints.dal.tables import bind_tables
from partnerpoints.dal.transactions import create_once, failed_condition, is_retryable
from partnerpoints.exceptions import (
    AlreadyExists,
    CampaignNotFound,
    CodeBatchNotFound,
    ConcurrentChange,
    InvalidCursor,
)
from partnerpoints.models.promo import (
    BatchStatus,
    Campaign,
    CampaignTerms,
    CodeBatch,
    CodePage,
    NewCampaign,
    PromoCode,
)
from partnerpoints.settings import Settings

_CONDITION_FAILED = "ConditionalCheckFailedException"


def to_campaign(item: PromoCampaignItem) -> Campaign:
    return Campaign(
        campaign_id=item.campaign_id,
        name=item.name,
        points=int(item.points),
        valid_from=item.valid_from,
        valid_until=item.valid_until,
        per_member_limit=int(item.per_member_limit),
        max_redemptions_total=int(item.max_redemptions_total) if item.max_redemptions_total else None,
        partner_ids=list(item.partner_ids or []),
        status=item.status,
        redemptions=int(item.redemptions),
        version=int(item.version),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def to_code(item: PromoCodeItem) -> PromoCode:
    return PromoCode(
        code=item.display,
        campaign_id=item.campaign_id,
        max_redemptions=int(item.max_redemptions) if item.max_redemptions is not None else None,
        redemptions=int(item.redemptions),
        batch_id=item.batch_id,
        created_at=item.created_at,
    )


def _to_batch(item: PromoCodeBatchItem) -> CodeBatch:
    return CodeBatch(
        batch_id=item.batch_id,
        campaign_id=item.campaign_id,
        count=int(item.code_count),
        prefix=item.prefix,
        max_redemptions=int(item.max_redemptions),
        generated=int(item.generated),
        status=item.status,
        created_at=item.created_at,
        completed_at=item.completed_at,
    )


class CodeCollision(Exception):
    """Generated codes that already exist (positions in the chunk); they are replaced and written again."""

    def __init__(self, positions: list[int]) -> None:
        super().__init__(f"{len(positions)} generated codes already exist")
        self.positions = positions


class PromoStore:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)
        self._connection = Connection(region=settings.region, host=settings.dynamodb_endpoint_url)

    # ------------------------------------------------------------ campaigns
    def create_campaign(self, campaign: NewCampaign, now: datetime) -> Campaign:
        item = PromoCampaignItem(
            campaign.campaign_id,
            **_terms(campaign),
            redemptions=0,
            version=1,
            created_at=now,
            updated_at=now,
        )
        create_once(
            item,
            PromoCampaignItem.campaign_id.does_not_exist(),
            AlreadyExists(f"campaign {campaign.campaign_id} already exists"),
        )
        return to_campaign(item)

    def get_campaign(self, campaign_id: str) -> Campaign:
        try:
            return to_campaign(PromoCampaignItem.get(campaign_id, consistent_read=True))
        except PromoCampaignItem.DoesNotExist as error:
            raise CampaignNotFound(f"no promo campaign {campaign_id}") from error

    def get_campaigns(self, campaign_ids: list[str]) -> dict[str, Campaign]:
        """The campaigns that exist among `campaign_ids` (one BatchGetItem per hundred)."""
        unique = sorted(set(campaign_ids))
        if not unique:
            return {}
        return {
            item.campaign_id: to_campaign(item)
            for item in PromoCampaignItem.batch_get(unique, consistent_read=True)
        }

    def replace_terms(self, campaign_id: str, terms: CampaignTerms, now: datetime) -> Campaign:
        """New terms, keeping the redemption counter; the version moves so that a redemption that read
        the old terms is retried on the new ones."""
        item = PromoCampaignItem(campaign_id)
        values = _terms(terms)
        actions: list[Action] = [
            getattr(PromoCampaignItem, name).set(value) for name, value in values.items() if value is not None
        ]
        if values["max_redemptions_total"] is None:
            actions.append(PromoCampaignItem.max_redemptions_total.remove())
        actions += [PromoCampaignItem.version.add(1), PromoCampaignItem.updated_at.set(now)]
        try:
            item.update(actions=actions, condition=PromoCampaignItem.campaign_id.exists())
        except UpdateError as error:
            if error.cause_response_code == _CONDITION_FAILED:
                raise CampaignNotFound(f"no promo campaign {campaign_id}") from error
            raise
        return to_campaign(item)

    # ------------------------------------------------------------ codes
    def add_code(
        self, campaign_id: str, code: str, display: str, max_redemptions: int | None, now: datetime
    ) -> PromoCode:
        item = PromoCodeItem(
            code,
            display=display,
            campaign_id=campaign_id,
            max_redemptions=max_redemptions,
            redemptions=0,
            created_at=now,
        )
        create_once(
            item, PromoCodeItem.code.does_not_exist(), AlreadyExists(f"the code {display} is already in use")
        )
        return to_code(item)

    def get_code(self, code: str) -> PromoCode | None:
        try:
            return to_code(PromoCodeItem.get(code, consistent_read=True))
        except PromoCodeItem.DoesNotExist:
            return None

    # ------------------------------------------------------------ batches
    def create_batch(self, batch: CodeBatch) -> CodeBatch:
        item = PromoCodeBatchItem(
            batch.batch_id,
            campaign_id=batch.campaign_id,
            code_count=batch.count,
            prefix=batch.prefix,
            max_redemptions=batch.max_redemptions,
            generated=0,
            status=str(BatchStatus.GENERATING),
            created_at=batch.created_at,
        )
        item.save(condition=PromoCodeBatchItem.batch_id.does_not_exist())
        return _to_batch(item)

    def get_batch(self, batch_id: str) -> CodeBatch:
        try:
            return _to_batch(PromoCodeBatchItem.get(batch_id, consistent_read=True))
        except PromoCodeBatchItem.DoesNotExist as error:
            raise CodeBatchNotFound(f"no code batch {batch_id}") from error

    def write_chunk(self, batch: CodeBatch, codes: list[tuple[str, str]], now: datetime) -> bool:
        """Codes (normalized, printed) at positions batch.generated.. in one transaction with the batch's
        progress, which must still be at batch.generated: a repeated or concurrent generator writes
        nothing (False). A code that exists already raises CodeCollision with its position."""
        start = batch.generated
        done = start + len(codes) >= batch.count
        actions: list[Action] = [PromoCodeBatchItem.generated.set(start + len(codes))]
        if done:
            actions += [
                PromoCodeBatchItem.status.set(str(BatchStatus.COMPLETE)),
                PromoCodeBatchItem.completed_at.set(now),
            ]
        try:
            with TransactWrite(connection=self._connection) as transaction:
                transaction.update(
                    PromoCodeBatchItem(batch.batch_id),
                    actions=actions,
                    condition=PromoCodeBatchItem.generated == start,
                )
                for position, (code, display) in enumerate(codes):
                    transaction.save(
                        PromoCodeItem(
                            code,
                            display=display,
                            campaign_id=batch.campaign_id,
                            max_redemptions=batch.max_redemptions,
                            redemptions=0,
                            batch_id=batch.batch_id,
                            seq=start + position,
                            created_at=now,
                        ),
                        condition=PromoCodeItem.code.does_not_exist(),
                    )
        except TransactWriteError as error:
            # PynamoDB sends the puts (the codes) first, then the update (the batch's progress).
            reasons = error.cancellation_reasons or []
            if len(reasons) > len(codes) and failed_condition(reasons[len(codes)]):
                return False
            collided = [
                index for index, reason in enumerate(reasons[: len(codes)]) if failed_condition(reason)
            ]
            if collided:
                raise CodeCollision(collided) from error
            if is_retryable(reasons):
                raise ConcurrentChange(
                    f"batch {batch.batch_id} is being written by another generator"
                ) from error
            raise
        return True

    def batch_codes(self, batch_id: str, limit: int, cursor: str | None) -> CodePage:
        """Codes in generation order (the index is eventually consistent: a finished batch's last codes
        appear within moments)."""
        start_key = None
        if cursor:
            start_key = decode_cursor(
                cursor, frozenset({"code", "batch_id", "seq"}), ("batch_id", batch_id), "this batch"
            )
            if not start_key["seq"]["S"].isdigit():
                raise InvalidCursor("the cursor is not one this service issued for this batch")
            start_key["seq"] = {"N": start_key["seq"]["S"]}  # cursors carry strings; seq is a number
        items = list(PromoCodeItem.batch_codes.query(batch_id, limit=limit + 1, last_evaluated_key=start_key))
        page = items[:limit]
        next_cursor = None
        if len(items) > limit:
            last = page[-1]
            next_cursor = encode_cursor({"code": last.code, "batch_id": batch_id, "seq": str(int(last.seq))})
        return CodePage(batch_id=batch_id, codes=[item.display for item in page], next_cursor=next_cursor)


def _terms(terms: CampaignTerms) -> dict[str, Any]:
    return {
        "name": terms.name,
        "points": terms.points,
        "valid_from": terms.valid_from,
        "valid_until": terms.valid_until,
        "per_member_limit": terms.per_member_limit,
        "max_redemptions_total": terms.max_redemptions_total,
        "partner_ids": list(terms.partner_ids),
        "status": str(terms.status),
    }
