"""Accrual and spend figures for `make bench`: DynamoDB requests and units per order version turned into
postings, per release, and per spend (plain, and under Powertools Idempotency) on DynamoDB Local.
Figures only; nothing here asserts a timing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from harness import create_bench_partner, measure, metered_dynamodb
from partnerpoints.dal.ledger_store import LedgerStore
from partnerpoints.dal.order_points_store import OrderPointsStore
from partnerpoints.dal.order_store import OrderStore
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.dal.promo_redemption_store import PromoRedemptionStore
from partnerpoints.dal.promo_store import PromoStore
from partnerpoints.logic.accrual import Accrual
from partnerpoints.logic.earning import get_earning_rules
from partnerpoints.logic.member_accounts import MemberAccounts
from partnerpoints.logic.promo_wallet import PromoWallet
from partnerpoints.models.ledger import Account, EntryKind, Posting
from partnerpoints.models.members import SpendRequest
from partnerpoints.models.orders import Attribution, Order, OrderStatus, Transition
from partnerpoints.settings import Settings
from partnerpoints_infra.provision import LocalStack

PARTNER = "bench-accrual"
MEMBER = "bench-accrual-member"


def _order(i: int, version: int, status: OrderStatus, refunded: int = 0) -> Order:
    at = datetime.now(UTC) - timedelta(days=1)
    history = [
        Transition(version=v, at=at, event=str(s), status=s, amount_minor=10_000, refunded_minor=0)
        for v, s in enumerate([OrderStatus.PENDING, OrderStatus.APPROVED, OrderStatus.REFUNDED][:version], 1)
    ]
    return Order(
        partner_id=PARTNER,
        order_id=f"O-{i}",
        version=version,
        status=status,
        currency="EUR",
        amount_minor=10_000,
        refunded_minor=refunded,
        attribution=Attribution(attributed=True, member_id=MEMBER),
        commission_minor=800,
        commission_reversed_minor=0,
        occurred_at=at,
        status_at=at,
        created_at=at,
        updated_at=at,
        history=history,
    )


def accrual_figures(stack: LocalStack, runs: int) -> dict[str, dict[str, float]]:
    settings = Settings.from_environment(stack.runtime_environment("AccrualFunction"))
    partners = PartnerStore(settings)
    create_bench_partner(settings, PARTNER, hold_days=0)
    with metered_dynamodb() as meter:
        accrual = Accrual(OrderPointsStore(settings), partners, get_earning_rules())
        ledger = LedgerStore(settings)
        accounts = MemberAccounts(
            ledger,
            OrderStore(settings),
            partners,
            lambda: accrual,
            PromoWallet(PromoStore(settings), PromoRedemptionStore(settings)),
            order_points=OrderPointsStore(settings),
        )
        request = SpendRequest(partner_id=PARTNER, points=1, reference="bench voucher")
        as_of = datetime.now(UTC) + timedelta(days=1)
        figures = {
            "new order (pending points)": measure(
                meter, runs, lambda i: accrual.accrue(_order(i, 1, OrderStatus.PENDING))
            ),
            "approved, same amount (no posting)": measure(
                meter, runs, lambda i: accrual.accrue(_order(i, 2, OrderStatus.APPROVED))
            ),
            "redelivered record (no write)": measure(
                meter, runs, lambda i: accrual.accrue(_order(i, 2, OrderStatus.APPROVED))
            ),
        }
        figures[f"release ({runs} orders due, one run)"] = measure(
            meter, 1, lambda _: accrual.release_matured(as_of, lookback_days=2)
        )
        figures["partial refund after release (clawback)"] = measure(
            meter, runs, lambda i: accrual.accrue(_order(i, 3, OrderStatus.REFUNDED, refunded=5_000))
        )
        ledger.post(
            Posting(
                entry_id="bench-grant",
                member_id=MEMBER,
                account=Account.MAIN,
                kind=EntryKind.ADJUSTMENT,
                points=10 * runs,
                reference="bench",
            )
        )
        figures["spend (ledger post + balance read)"] = measure(
            meter, runs, lambda i: accounts.spend(MEMBER, f"bench-key-{i:06d}", request)
        )
        return figures
