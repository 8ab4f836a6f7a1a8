"""Promo figures for `make bench`: DynamoDB requests and units per redemption (and per refusal, per
revocation, per promo spend, per code generated) on DynamoDB Local. Figures only; nothing here asserts
a timing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from harness import create_bench_partner, measure, metered_dynamodb
from partnerpoints.dal.ledger_store import LedgerStore
from partnerpoints.dal.order_points_store import OrderPointsStore
from partnerpoints.dal.order_store import OrderStore
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.dal.promo_redemption_store import PromoRedemptionStore
from partnerpoints.dal.promo_store import PromoStore
from partnerpoints.exceptions import PartnerPointsError
from partnerpoints.logic.accrual import get_accrual
from partnerpoints.logic.member_accounts import MemberAccounts
from partnerpoints.logic.promo_campaigns import PromoCampaigns
from partnerpoints.logic.promo_redemption import PromoRedemptions
from partnerpoints.logic.promo_wallet import PromoWallet
from partnerpoints.models.ledger import Account
from partnerpoints.models.members import SpendRequest
from partnerpoints.models.promo import CodeBatch, NewCampaign, NewCodes
from partnerpoints.settings import Settings
from partnerpoints_infra.provision import LocalStack

PARTNER = "bench-promo"
BATCH = 990  # ten transactions of 99 codes


def promo_figures(stack: LocalStack, runs: int) -> dict[str, dict[str, float]]:
    settings = Settings.from_environment(stack.runtime_environment("PromoRedemptionFunction"))
    create_bench_partner(settings, PARTNER)
    promo, redemptions = PromoStore(settings), PromoRedemptionStore(settings)
    campaigns = PromoCampaigns(
        promo,
        redemptions,
        PartnerStore(settings),
        lambda batch_id: None,  # the generator is measured on its own below
    )
    now = datetime.now(UTC)
    campaigns.create(
        NewCampaign(
            campaign_id="BENCH",
            name="bench",
            points=100,
            valid_from=now - timedelta(hours=1),
            valid_until=now + timedelta(days=1),
            partner_ids=[PARTNER],
        )
    )
    campaigns.add_codes("BENCH", NewCodes(code="BENCHSHARED"))
    batch = campaigns.add_codes("BENCH", NewCodes(count=BATCH, prefix="B"))
    assert isinstance(batch, CodeBatch)
    service = PromoRedemptions(promo, redemptions, LedgerStore(settings))
    wallet = PromoWallet(promo, redemptions)
    accounts = MemberAccounts(
        LedgerStore(settings),
        OrderStore(settings),
        PartnerStore(settings),
        get_accrual,
        wallet,
        order_points=OrderPointsStore(settings),
    )
    receipts = []

    def refused(i: int) -> None:
        try:
            service.redeem(f"bench-member-{i}", "BENCHSHARED")
        except PartnerPointsError:
            return

    with metered_dynamodb() as meter:
        figures = {
            "redemption (shared code)": measure(
                meter, runs, lambda i: receipts.append(service.redeem(f"bench-member-{i}", "BENCHSHARED"))
            ),
            "refused: already redeemed (a failed attempt)": measure(meter, runs, refused),
            "refused: unknown code (a failed attempt)": measure(
                meter, runs, lambda i: refused_unknown(service, i)
            ),
            "promo spend at an allowed partner": measure(
                meter,
                runs,
                lambda i: accounts.spend(
                    f"bench-member-{i}",
                    f"bench-promo-{i:06d}",
                    SpendRequest(partner_id=PARTNER, points=10, account=Account.PROMO, reference="bench"),
                ),
            ),
            "revocation": measure(
                meter, runs, lambda i: campaigns.revoke(receipts[i].redemption_id, "bench", "bench")
            ),
        }
        figures[f"a batch of {BATCH} generated codes (whole batch)"] = measure(
            meter, 1, lambda _: campaigns.generate(batch.batch_id, out_of_time=lambda: False)
        )
    return figures


def refused_unknown(service: PromoRedemptions, i: int) -> None:
    try:
        service.redeem(f"bench-guesser-{i}", f"NOSUCH{i}")
    except PartnerPointsError:
        return
