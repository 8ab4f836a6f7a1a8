"""A member's side of the ledger: balance and tier, activity with the orders behind it, spending points
at a partner, and an operator giving a spend back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

from partnerpoints.dal.idempotency_records import idempotency_records
from partnerpoints.dal.ledger_store import LedgerStore
from partnerpoints.dal.order_points_store import OrderPointsStore
from partnerpoints.dal.order_store import OrderStore
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.dal.promo_redemption_store import PromoRedemptionStore
from partnerpoints.dal.promo_store import PromoStore
from partnerpoints.dal.transactions import MAX_ATTEMPTS, back_off
from partnerpoints.exceptions import (
    ConcurrentChange,
    InvalidField,
    LedgerBusy,
    NotASpend,
    PartnerNotFound,
    SpendNotFound,
)
from partnerpoints.logic.accrual import Accrual, get_accrual
from partnerpoints.logic.ledger import MAX_HISTORY_PAGE
from partnerpoints.logic.promo_wallet import PromoWallet
from partnerpoints.models.ledger import Account, EntryKind, Posting
from partnerpoints.models.members import (
    AccountBalance,
    Accounts,
    ActivityEntry,
    ActivityPage,
    MainAccount,
    MemberBalance,
    MemberOrder,
    MemberOrdersPage,
    OrderRef,
    PromoAccount,
    RefundReceipt,
    SpendReceipt,
    SpendRequest,
)
from partnerpoints.models.orders import from_minor_units
from partnerpoints.observability import logger
from partnerpoints.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

SPEND_KEY_RETENTION_SECONDS = 24 * 3600  # an app retries a spend for minutes, not days
SPEND_LOCK_SECONDS_OUTSIDE_LAMBDA = 30  # the longest an HTTP API request may wait for its answer


class SpendDeadline:
    """When a spend's in-progress lock expires: Powertools reads `get_remaining_time_in_millis()` of the
    context registered on the (process-wide) IdempotencyConfig.

    Registering each invocation's Lambda context there leaves it behind when the invocation ends; a
    later call in the same process (another thread, a tool, a test) then dates its lock by an invocation
    that is over: 0 ms left, a lock born expired. A concurrent retry of the same key then either takes
    the lock over and runs the spend again (the ledger's entry id keeps the points single) or, finding an
    in-progress record past its expiry, fails with IdempotencyInconsistentStateError. This deadline
    reads the invocation of the calling context only, and outside one allows what a request may last.
    """

    def __init__(self, outside_invocation_seconds: int) -> None:
        self._outside_ms = outside_invocation_seconds * 1000
        self._invocation: ContextVar[LambdaContext | None] = ContextVar("spend_invocation", default=None)

    @contextmanager
    def invocation(self, context: LambdaContext) -> Iterator[None]:
        token = self._invocation.set(context)
        try:
            yield
        finally:
            self._invocation.reset(token)

    def get_remaining_time_in_millis(self) -> int:
        context = self._invocation.get()
        if context is None:
            return self._outside_ms
        remaining: int = context.get_remaining_time_in_millis()
        return remaining


SPEND_DEADLINE = SpendDeadline(SPEND_LOCK_SECONDS_OUTSIDE_LAMBDA)
SPEND_IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath='["member_id", "idempotency_key"]',
    payload_validation_jmespath="request",
    expires_after_seconds=SPEND_KEY_RETENTION_SECONDS,
    # Read for the remaining time only (the handler enters SPEND_DEADLINE.invocation for each request).
    lambda_context=cast("LambdaContext", SPEND_DEADLINE),
)


class MemberAccounts:
    def __init__(
        self,
        ledger: LedgerStore,
        orders: OrderStore,
        partners: PartnerStore,
        accrual: Callable[[], Accrual],
        promo: PromoWallet,
        *,
        order_points: OrderPointsStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ledger = ledger
        self._orders = orders
        self._partners = partners
        self._accrual = accrual
        self._promo = promo
        self._order_points = order_points
        self._clock = clock

    def balance(self, member_id: str) -> MemberBalance:
        balances = self._ledger.get_balances(member_id)
        main, promo = balances[Account.MAIN], balances[Account.PROMO]
        return MemberBalance(
            member_id=member_id,
            tier=self._accrual().tier_at(member_id, self._clock()).name,
            accounts=Accounts(
                main=MainAccount(
                    available=main.available, pending=main.pending, lifetime=main.lifetime_earned
                ),
                promo=PromoAccount(available=promo.available),
            ),
        )

    def activity(self, member_id: str, limit: int, cursor: str | None) -> ActivityPage:
        """Both accounts' entries, newest first; an order's entries carry its current status."""
        if not 1 <= limit <= MAX_HISTORY_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_HISTORY_PAGE}")
        page = self._ledger.member_history(member_id, limit, cursor)
        keys = {(e.partner_id, e.order_id) for e in page.entries if e.partner_id and e.order_id}
        statuses = self._orders.statuses(keys) if keys else {}
        entries = [
            ActivityEntry(
                **entry.model_dump(),
                order=OrderRef(
                    partner_id=entry.partner_id,
                    order_id=entry.order_id,
                    status=statuses.get((entry.partner_id, entry.order_id)),
                )
                if entry.partner_id and entry.order_id
                else None,
            )
            for entry in page.entries
        ]
        return ActivityPage(entries=entries, next_cursor=page.next_cursor)

    def orders(self, member_id: str, limit: int, cursor: str | None) -> MemberOrdersPage:
        """The member's attributed orders, the latest change first, with their points and amounts."""
        points, next_cursor = self._order_points.member_orders(member_id, limit, cursor)
        amounts = self._orders.amounts({(p.partner_id, p.order_id) for p in points}) if points else {}
        orders = []
        for order in points:
            stored = amounts.get((order.partner_id, order.order_id))
            orders.append(
                MemberOrder(
                    partner_id=order.partner_id,
                    order_id=order.order_id,
                    status=str(stored.status) if stored else None,
                    currency=stored.currency if stored else None,
                    amount=from_minor_units(stored.amount_minor, stored.currency) if stored else None,
                    refunded_amount=from_minor_units(stored.refunded_minor, stored.currency)
                    if stored
                    else None,
                    points_pending=order.pending,
                    points_available=order.available,
                    release_at=order.release_at if order.pending else None,
                    updated_at=order.updated_at,
                )
            )
        return MemberOrdersPage(member_id=member_id, orders=orders, next_cursor=next_cursor)

    def spend(self, member_id: str, idempotency_key: str, request: SpendRequest) -> SpendReceipt:
        """Spend points at a partner, once per idempotency key; never below zero available."""
        try:
            self._partners.get_partner(request.partner_id)
        except PartnerNotFound as error:
            raise InvalidField(
                "points can only be spent at a partner of the program",
                [{"path": "body.partner_id", "message": f"no partner {request.partner_id}"}],
            ) from error
        for attempt in range(MAX_ATTEMPTS):
            allocations = None
            if request.account is Account.PROMO:
                allocations = self._promo.allocate(member_id, request.partner_id, request.points)
            posting = Posting(
                entry_id=f"spend#{member_id}#{idempotency_key}",
                member_id=member_id,
                account=request.account,
                kind=EntryKind.SPEND,
                points=-request.points,
                reference=request.reference,
                description=f"spent at {request.partner_id}",
                partner_id=request.partner_id,
                allocations=allocations,
            )
            stage_more = PromoWallet.stage(member_id, allocations, guarded=True) if allocations else None
            try:
                result = self._ledger.post(posting, stage_more=stage_more)
            except ConcurrentChange:
                back_off(attempt)  # another spend took from the same campaign: allocate again
                continue
            break
        else:
            raise LedgerBusy(f"{member_id}'s promo points kept changing; retry shortly")
        balance = self._ledger.get_balances(member_id)[request.account]
        logger.info(
            "points spent",
            member_id=member_id,
            entry_id=posting.entry_id,
            points=request.points,
            partner_id=request.partner_id,
            duplicate=result.duplicate,
        )
        return SpendReceipt(
            entry_id=posting.entry_id, duplicate=result.duplicate, balance=AccountBalance.of(balance)
        )

    def refund_spend(self, entry_id: str, operator: str) -> RefundReceipt:
        """Give a spend's points back to the account they came from, once."""
        spend = self._ledger.get_entry(entry_id)
        if spend is None:
            raise SpendNotFound(f"no ledger entry {entry_id}")
        if spend.kind is not EntryKind.SPEND:
            raise NotASpend(f"entry {entry_id} is a {spend.kind}, not a spend")
        refund = Posting(
            entry_id=f"refund#{entry_id}",
            member_id=spend.member_id,
            account=spend.account,
            kind=EntryKind.SPEND_REFUND,
            points=-spend.points,
            reference=entry_id,
            description="spend refunded",
            operator=operator,
            partner_id=spend.partner_id,
            allocations={campaign: -points for campaign, points in spend.allocations.items()}
            if spend.allocations
            else None,
        )
        stage_more = (
            PromoWallet.stage(spend.member_id, refund.allocations, guarded=False)
            if refund.allocations
            else None
        )
        result = self._ledger.post(refund, stage_more=stage_more)
        logger.info("spend refunded", entry_id=entry_id, operator=operator, duplicate=result.duplicate)
        return RefundReceipt(
            entry_id=refund.entry_id,
            refunded_entry_id=entry_id,
            points=refund.points,
            duplicate=result.duplicate,
        )


@cache
def get_member_accounts() -> MemberAccounts:
    settings = get_settings()
    return MemberAccounts(
        LedgerStore(settings),
        OrderStore(settings),
        PartnerStore(settings),
        get_accrual,
        PromoWallet(PromoStore(settings), PromoRedemptionStore(settings)),
        order_points=OrderPointsStore(settings),
    )


@cache
def get_idempotent_spend() -> Callable[..., dict[str, Any]]:
    """`spend(spend={member_id, idempotency_key, request})` under Powertools Idempotency: a repeat of a
    key answers the first receipt; the same key with another request raises IdempotencyValidationError.
    The ledger's entry id (spend#member#key) keeps a spend single even after the record expires."""
    settings = get_settings()
    persistence = idempotency_records(settings)

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="spend", config=SPEND_IDEMPOTENCY, persistence_store=persistence
    )
    def spend(spend: dict[str, Any]) -> dict[str, Any]:
        receipt = get_member_accounts().spend(
            spend["member_id"], spend["idempotency_key"], SpendRequest.model_validate(spend["request"])
        )
        return receipt.model_dump(mode="json")

    typed: Callable[..., dict[str, Any]] = spend
    return typed
