"""Promo test helpers: campaigns with a window around now, the promo services bound to a test stack
(batches generated inline instead of through an asynchronous invocation), and the holdings check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from partnerpoints.dal.ledger_store import LedgerStore
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.dal.promo_redemption_store import PromoRedemptionStore
from partnerpoints.dal.promo_store import PromoStore
from partnerpoints.logic.promo_campaigns import PromoCampaigns
from partnerpoints.logic.promo_redemption import PromoRedemptions
from partnerpoints.models.ledger import Account
from partnerpoints.models.promo import NewCampaign
from partnerpoints.settings import Settings


def new_campaign(campaign_id: str = "WINTER", **changes: Any) -> NewCampaign:
    now = datetime.now(UTC)
    terms: dict[str, Any] = {
        "campaign_id": campaign_id,
        "name": "Winter promotion",
        "points": 250,
        "valid_from": now - timedelta(hours=1),
        "valid_until": now + timedelta(days=30),
    }
    return NewCampaign.model_validate({**terms, **changes})


def promo_campaigns(settings: Settings, **options: Any) -> PromoCampaigns:
    """The operator's service; a batch is generated at once, in this thread."""
    campaigns: PromoCampaigns

    def generate_now(batch_id: str) -> None:
        campaigns.generate(batch_id, out_of_time=lambda: False)

    campaigns = PromoCampaigns(
        PromoStore(settings), PromoRedemptionStore(settings), PartnerStore(settings), generate_now, **options
    )
    return campaigns


def promo_redemptions(settings: Settings, clock: Callable[[], datetime] | None = None) -> PromoRedemptions:
    stores = (PromoStore(settings), PromoRedemptionStore(settings), LedgerStore(settings))
    return PromoRedemptions(*stores, clock=clock) if clock else PromoRedemptions(*stores)


def all_batch_codes(campaigns: PromoCampaigns, batch_id: str, page_size: int = 1000) -> list[str]:
    """Every code of a batch, page by page, as the operator's export reads them."""
    codes: list[str] = []
    cursor = None
    while True:
        page = campaigns.batch_codes(batch_id, page_size, cursor)
        codes += page.codes
        cursor = page.next_cursor
        if cursor is None:
            return codes


def holdings_match_the_promo_balance(settings: Settings, member_id: str) -> bool:
    """The promo account is split by campaign: the holdings add up to its balance."""
    held = sum(holding.available for holding in PromoRedemptionStore(settings).holdings(member_id))
    return held == LedgerStore(settings).get_balances(member_id)[Account.PROMO].available
