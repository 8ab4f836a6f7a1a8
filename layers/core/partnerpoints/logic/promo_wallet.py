"""Where promo points may be spent: the promo account is split by campaign (holdings), and a spend at a
partner draws only on the campaigns that allow that partner."""

from __future__ import annotations

from datetime import datetime

from partnerpoints.dal.ledger_store import StageMore, Transaction
from partnerpoints.dal.promo_redemption_store import Holding, PromoRedemptionStore, stage_holdings
from partnerpoints.dal.promo_store import PromoStore
from partnerpoints.exceptions import InsufficientPoints, PromoPointsRestricted
from partnerpoints.models.promo import Campaign


def allocate(
    holdings: list[Holding], campaigns: dict[str, Campaign], partner_id: str, points: int
) -> dict[str, int]:
    """Which campaigns pay for `points` at `partner_id` (campaign -> negative points). Points limited to
    this partner go first (they can be used nowhere else), then the soonest-ending campaigns."""
    usable = [
        holding
        for holding in holdings
        if holding.available > 0
        and holding.campaign_id in campaigns
        and campaigns[holding.campaign_id].spendable_at(partner_id)
    ]
    usable.sort(
        key=lambda h: (
            not campaigns[h.campaign_id].partner_ids,
            campaigns[h.campaign_id].valid_until,
            h.campaign_id,
        )
    )
    spendable = sum(holding.available for holding in usable)
    if spendable < points:
        total = sum(max(holding.available, 0) for holding in holdings)
        details = [
            {
                "partner_id": partner_id,
                "spendable_here": spendable,
                "promo_available": total,
                "needed": points,
            }
        ]
        if total >= points:
            raise PromoPointsRestricted(
                f"only {spendable} of the {total} promo points may be spent at {partner_id}; "
                "the campaigns they come from name other partners",
                details,
            )
        raise InsufficientPoints(
            f"the promo account has {spendable} points that may be spent at {partner_id}; "
            f"this spend needs {points}",
            details,
        )
    allocations: dict[str, int] = {}
    left = points
    for holding in usable:
        take = min(left, holding.available)
        allocations[holding.campaign_id] = -take
        left -= take
        if left == 0:
            break
    return allocations


class PromoWallet:
    def __init__(self, promo: PromoStore, redemptions: PromoRedemptionStore) -> None:
        self._promo = promo
        self._redemptions = redemptions

    def allocate(self, member_id: str, partner_id: str, points: int) -> dict[str, int]:
        holdings = self._redemptions.holdings(member_id)
        campaigns = self._promo.get_campaigns([h.campaign_id for h in holdings if h.available > 0])
        return allocate(holdings, campaigns, partner_id, points)

    @staticmethod
    def stage(member_id: str, allocations: dict[str, int], guarded: bool) -> StageMore:
        """What a promo posting adds to its transaction: each campaign holding moves with it."""

        def stage_more(transaction: Transaction, now: datetime) -> None:
            stage_holdings(transaction, member_id, allocations, now, guarded)

        return stage_more
