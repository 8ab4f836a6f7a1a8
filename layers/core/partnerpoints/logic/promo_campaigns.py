"""The operator's promo work: campaigns, shared codes, batches of unique codes (generated off the request
path, resumable), and revoking a redemption."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache, partial

from partnerpoints.dal.code_batch_generator import start_code_batch
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.dal.promo_redemption_store import PromoRedemptionStore
from partnerpoints.dal.promo_store import CodeCollision, PromoStore
from partnerpoints.exceptions import InvalidField, PartnerNotFound, RedemptionNotFound
from partnerpoints.logic.promo_codes import generate_code, normalize_code
from partnerpoints.models.ledger import Account, EntryKind, Posting
from partnerpoints.models.promo import (
    Campaign,
    CampaignTerms,
    CodeBatch,
    CodePage,
    NewCampaign,
    NewCodes,
    PromoCode,
    RevokeReceipt,
)
from partnerpoints.observability import logger
from partnerpoints.settings import get_settings

# Codes per transaction with the batch's progress item (DynamoDB allows 100 items per transaction).
CHUNK_SIZE = 99
MAX_CODES_PAGE = 1000

Dispatch = Callable[[str], None]


class PromoCampaigns:
    def __init__(
        self,
        promo: PromoStore,
        redemptions: PromoRedemptionStore,
        partners: PartnerStore,
        dispatch: Dispatch,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        generate: Callable[[str | None], str] = generate_code,
    ) -> None:
        self._promo = promo
        self._redemptions = redemptions
        self._partners = partners
        self._dispatch = dispatch
        self._clock = clock
        self._generate = generate

    # ------------------------------------------------------------ campaigns
    def create(self, campaign: NewCampaign) -> Campaign:
        self._check_partners(campaign)
        created = self._promo.create_campaign(campaign, self._clock())
        logger.info("promo campaign created", campaign_id=campaign.campaign_id, points=campaign.points)
        return created

    def get(self, campaign_id: str) -> Campaign:
        return self._promo.get_campaign(campaign_id)

    def replace(self, campaign_id: str, terms: CampaignTerms) -> Campaign:
        self._check_partners(terms)
        changed = self._promo.replace_terms(campaign_id, terms, self._clock())
        logger.info("promo campaign changed", campaign_id=campaign_id, status=changed.status)
        return changed

    def _check_partners(self, terms: CampaignTerms) -> None:
        unknown = []
        for position, partner_id in enumerate(terms.partner_ids):
            try:
                self._partners.get_partner(partner_id)
            except PartnerNotFound:
                unknown.append(
                    {"path": f"body.partner_ids.{position}", "message": f"no partner {partner_id}"}
                )
        if unknown:
            raise InvalidField("promo points can only be limited to partners of the program", unknown)

    # ------------------------------------------------------------ codes
    def add_codes(self, campaign_id: str, request: NewCodes) -> PromoCode | CodeBatch:
        """A shared code at once, or a batch whose codes a generator writes (GET the batch to follow)."""
        self._promo.get_campaign(campaign_id)  # 404 before anything is written
        now = self._clock()
        if request.code is not None:
            key = normalize_code(request.code)
            code = self._promo.add_code(campaign_id, key, key, request.max_redemptions, now)
            logger.info(
                "shared promo code added", campaign_id=campaign_id, max_redemptions=request.max_redemptions
            )
            return code
        assert request.count is not None  # NewCodes holds exactly one of code and count
        batch = self._promo.create_batch(
            CodeBatch(
                batch_id=f"batch-{secrets.token_hex(6)}",
                campaign_id=campaign_id,
                count=request.count,
                prefix=request.prefix.upper() if request.prefix else None,
                max_redemptions=request.max_redemptions or 1,
                created_at=now,
            )
        )
        self._dispatch(batch.batch_id)
        logger.info("promo code batch started", batch_id=batch.batch_id, count=batch.count)
        return batch

    def batch(self, batch_id: str) -> CodeBatch:
        return self._promo.get_batch(batch_id)

    def batch_codes(self, batch_id: str, limit: int, cursor: str | None) -> CodePage:
        if not 1 <= limit <= MAX_CODES_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_CODES_PAGE}")
        self._promo.get_batch(batch_id)
        return self._promo.batch_codes(batch_id, limit, cursor)

    def generate(self, batch_id: str, out_of_time: Callable[[], bool]) -> CodeBatch:
        """Write the batch's missing codes, a chunk per transaction, until it is complete or time is
        short. Any number of generators may run on one batch: each chunk is written only at the
        progress it read, so codes are never lost or doubled, and a stopped run resumes where it was."""
        batch = self._promo.get_batch(batch_id)
        while batch.generated < batch.count and not out_of_time():
            size = min(CHUNK_SIZE, batch.count - batch.generated)
            printed = self._fresh_codes(size, batch.prefix)
            while True:
                try:
                    written = self._promo.write_chunk(
                        batch, [(normalize_code(code), code) for code in printed], self._clock()
                    )
                except CodeCollision as collision:
                    # An existing code drew again (about once in 10^6 codes): redraw just those.
                    logger.info("generated codes collided", batch_id=batch_id, count=len(collision.positions))
                    for position in collision.positions:
                        printed[position] = self._fresh_codes(1, batch.prefix, avoid=set(printed))[0]
                    continue
                break
            if written:
                batch = batch.model_copy(update={"generated": batch.generated + size})
            else:
                batch = self._promo.get_batch(batch_id)  # another generator moved it on
        batch = self._promo.get_batch(batch_id)
        logger.info(
            "promo code batch progress", batch_id=batch_id, generated=batch.generated, count=batch.count
        )
        return batch

    def _fresh_codes(self, size: int, prefix: str | None, avoid: set[str] | None = None) -> list[str]:
        codes: list[str] = []
        taken = set(avoid or ())
        while len(codes) < size:
            code = self._generate(prefix)
            if code not in taken:  # a transaction may name an item once
                taken.add(code)
                codes.append(code)
        return codes

    # ------------------------------------------------------------ revocation
    def revoke(self, redemption_id: str, reason: str, operator: str) -> RevokeReceipt:
        """Take a redemption's points back (once) and give the use back to its code."""
        redemption = self._redemptions.get_redemption(redemption_id)
        if redemption is None:
            raise RedemptionNotFound(f"no promo redemption {redemption_id}")
        posting = Posting(
            entry_id=f"{redemption.entry_id}#revoke",
            member_id=redemption.member_id,
            account=Account.PROMO,
            kind=EntryKind.PROMO_REVOKE,
            points=-redemption.points,
            reference=redemption_id,
            description=f"promo redemption revoked: {reason}",
            operator=operator,
            allocations={redemption.campaign_id: -redemption.points},
        )
        now = self._clock()
        revoked = self._redemptions.revoke(
            redemption=redemption,
            code_key=normalize_code(redemption.code),
            posting=posting,
            reason=reason,
            operator=operator,
            now=now,
        )
        current = self._redemptions.get_redemption(redemption_id) or redemption
        logger.info("promo redemption revoked", redemption_id=redemption_id, duplicate=not revoked)
        return RevokeReceipt(redemption=current, entry_id=posting.entry_id, duplicate=not revoked)


@cache
def get_promo_campaigns() -> PromoCampaigns:
    settings = get_settings()
    return PromoCampaigns(
        PromoStore(settings),
        PromoRedemptionStore(settings),
        PartnerStore(settings),
        partial(start_code_batch, settings),
    )
