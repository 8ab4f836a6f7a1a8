"""The operator's side of orders: what waits for a decision (review, unattributed) and the decision."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache

from partnerpoints.dal.order_store import OrderStore, SaveOutcome
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.exceptions import ConcurrentChange, OrderNotFound
from partnerpoints.logic import order_lifecycle
from partnerpoints.models.orders import Attention, Order, OrderPage, ReviewRequest
from partnerpoints.observability import logger
from partnerpoints.settings import get_settings


class OrderReview:
    def __init__(
        self,
        store: OrderStore,
        partners: PartnerStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._partners = partners
        self._clock = clock

    def get_order(self, partner_id: str, order_id: str) -> Order:
        order = self._store.get_order(partner_id, order_id)
        if order is None:
            raise OrderNotFound(f"no order {order_id} of partner {partner_id}")
        return order

    def waiting(self, attention: Attention, limit: int, cursor: str | None) -> OrderPage:
        return self._store.needing_attention(attention, limit, cursor)

    def decide(self, partner_id: str, order_id: str, request: ReviewRequest) -> Order:
        order = self.get_order(partner_id, order_id)
        partner = self._partners.get_partner(partner_id)
        decided = order_lifecycle.resolve(partner, order, request, self._clock())
        if decided is None:
            return order  # the same decision again
        if self._store.save(decided, expected_version=order.version) is not SaveOutcome.SAVED:
            raise ConcurrentChange(f"order {order_id} changed while it was being decided; look again")
        logger.info(
            "order decided",
            partner_id=partner_id,
            order_id=order_id,
            decision=request.decision,
            version=decided.version,
        )
        return decided


@cache
def get_order_review() -> OrderReview:
    settings = get_settings()
    return OrderReview(OrderStore(settings), PartnerStore(settings))
