"""The order tables: versioned order items, the deliveries already answered, and the clicks orders are
attributed to. An accepted change is one transaction: the order's new version (conditional on the
version that was read) and, for a signed delivery, its webhook-id (conditional on being new)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from partnerpoints.activity import activity_key_of
from partnerpoints.dal.click_tables import ClickItem
from partnerpoints.dal.cursors import PageQuery
from partnerpoints.dal.order_tables import OrderChangeItem, OrderItem, PostbackDeliveryItem
from partnerpoints.dal.tables import bind_tables
from partnerpoints.dal.transactions import (
    MAX_ATTEMPTS,
    back_off,
    failed_condition,
    is_retryable,
    is_stored,
)
from partnerpoints.exceptions import OrderBusy
from partnerpoints.models.orders import (
    Attention,
    Attribution,
    ClickFacts,
    Order,
    OrderPage,
    OrderStatus,
    PostbackAnswer,
    Review,
    ReviewDecision,
    StoredDelivery,
)
from partnerpoints.models.partner_analytics import Purchase
from partnerpoints.models.partner_reports import DayRange, PartnerOrder, partner_order
from partnerpoints.settings import Settings

DELIVERY_RETENTION = timedelta(days=30)  # Standard Webhooks senders retry for days, not weeks
CHANGE_INDEX_RETENTION = timedelta(days=400)  # a month re-run, a year looked back on
_ORDER, _DELIVERY = 0, 1  # positions in the transaction


@dataclass(frozen=True)
class OrderAmounts:
    status: OrderStatus
    currency: str
    amount_minor: int
    refunded_minor: int


class SaveOutcome(StrEnum):
    SAVED = "saved"
    ORDER_CHANGED = "order_changed"  # another delivery moved the order first: read it again
    DELIVERY_SEEN = "delivery_seen"  # the same webhook-id was accepted meanwhile


def _order_item(order: Order) -> OrderItem:
    data = order.model_dump(mode="json", exclude_none=True)
    attention = order.attention
    return OrderItem(
        partner_id=order.partner_id,
        order_id=order.order_id,
        version=order.version,
        status=str(order.status),
        counts=order.counts,
        currency=order.currency,
        amount_minor=order.amount_minor,
        refunded_minor=order.refunded_minor,
        commission_minor=order.commission_minor,
        commission_reversed_minor=order.commission_reversed_minor,
        items=data["items"],
        click_id=order.click_id,
        attribution=data["attribution"],
        member_id=order.attribution.member_id,
        review=data.get("review"),
        occurred_at=order.occurred_at,
        status_at=order.status_at,
        created_at=order.created_at,
        updated_at=order.updated_at,
        attention=str(attention) if attention else None,
        attention_since=order.created_at if attention else None,
        history=data["history"],
        time_zone=order.time_zone,
    )


def _change_item(order: Order) -> OrderChangeItem:
    return OrderChangeItem(
        activity_key=activity_key_of(order.partner_id, order.updated_at),
        order_key=f"{order.partner_id}#{order.order_id}",
        partner_id=order.partner_id,
        order_id=order.order_id,
        expires_at=order.updated_at + CHANGE_INDEX_RETENTION,
    )


def plain(value: Any) -> Any:
    """PynamoDB's raw maps and lists as plain Python, for pydantic."""
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def _to_partner_order(item: OrderItem) -> PartnerOrder:
    """From the partner_orders index's projection (no lines, no history)."""
    return partner_order(
        order_id=item.order_id,
        status=OrderStatus(item.status),
        version=int(item.version),
        currency=item.currency,
        amounts_minor=(
            int(item.amount_minor),
            int(item.refunded_minor),
            int(item.commission_minor),
            int(item.commission_reversed_minor),
        ),
        attribution=Attribution.model_validate(plain(item.attribution)),
        review=Review.model_validate(plain(item.review)) if item.review is not None else None,
        occurred_at=item.occurred_at,
        status_at=item.status_at,
        updated_at=item.updated_at,
    )


def _to_order(item: OrderItem) -> Order:
    return Order.model_validate(
        {
            "partner_id": item.partner_id,
            "order_id": item.order_id,
            "version": int(item.version),
            "status": item.status,
            "currency": item.currency,
            "amount_minor": int(item.amount_minor),
            "refunded_minor": int(item.refunded_minor),
            "commission_minor": int(item.commission_minor),
            "commission_reversed_minor": int(item.commission_reversed_minor),
            "items": plain(item.items),
            "click_id": item.click_id,
            "attribution": plain(item.attribution),
            "review": plain(item.review) if item.review is not None else None,
            "occurred_at": item.occurred_at,
            "status_at": item.status_at,
            "created_at": item.created_at,
            "updated_at": item.updated_at,
            "history": plain(item.history),
            "time_zone": item.time_zone,
        }
    )


_CURSOR_KEYS = frozenset({"partner_id", "order_id", "attention", "attention_since"})
_PARTNER_CURSOR_KEYS = frozenset({"partner_id", "order_id", "updated_at"})


class OrderStore:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)
        self._connection = Connection(region=settings.region, host=settings.dynamodb_endpoint_url)

    def get_order(self, partner_id: str, order_id: str) -> Order | None:
        try:
            return _to_order(OrderItem.get(partner_id, order_id, consistent_read=True))
        except OrderItem.DoesNotExist:
            return None

    def statuses(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """Current status of each (partner, order) found; BatchGetItem, 100 keys a request."""
        found: dict[tuple[str, str], str] = {}
        for item in OrderItem.batch_get(sorted(keys), attributes_to_get=["partner_id", "order_id", "status"]):
            found[(item.partner_id, item.order_id)] = item.status
        return found

    def amounts(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], OrderAmounts]:
        """Status and amounts of each (partner, order) found; BatchGetItem, 100 keys a request."""
        wanted = ["partner_id", "order_id", "status", "currency", "amount_minor", "refunded_minor"]
        return {
            (item.partner_id, item.order_id): OrderAmounts(
                OrderStatus(item.status), item.currency, int(item.amount_minor), int(item.refunded_minor)
            )
            for item in OrderItem.batch_get(sorted(keys), attributes_to_get=wanted)
        }

    def get_delivery(self, partner_id: str, delivery_id: str) -> StoredDelivery | None:
        try:
            item = PostbackDeliveryItem.get(partner_id, delivery_id, consistent_read=True)
        except PostbackDeliveryItem.DoesNotExist:
            return None
        return StoredDelivery(item.body_sha256, PostbackAnswer.model_validate(plain(item.answer)))

    def get_click(self, click_id: str) -> ClickFacts | None:
        try:
            item = ClickItem.get(click_id, consistent_read=True)
        except ClickItem.DoesNotExist:
            return None
        return ClickFacts(
            click_id=item.click_id,
            partner_id=item.partner_id,
            link_id=item.link_id,
            member_id=item.member_id,
            bot=bool(item.bot),
            clicked_at=item.clicked_at,
            blocked=bool(item.blocked),
        )

    def count_member_orders(self, member_id: str, since: datetime, until: datetime) -> int:
        """Attributed orders of a member that occurred in [since, until] (the index lags by moments)."""
        return OrderItem.member_orders.count(
            member_id, range_key_condition=OrderItem.occurred_at.between(since, until)
        )

    def save(
        self,
        order: Order,
        expected_version: int | None,
        delivery: StoredDelivery | None = None,
        delivery_id: str | None = None,
    ) -> SaveOutcome:
        item = _order_item(order)
        condition = (
            OrderItem.order_id.does_not_exist()
            if expected_version is None
            else OrderItem.version == expected_version
        )
        for attempt in range(MAX_ATTEMPTS):
            try:
                with TransactWrite(connection=self._connection) as transaction:
                    transaction.save(item, condition=condition)
                    if delivery is not None and delivery_id is not None:
                        transaction.save(
                            PostbackDeliveryItem(
                                partner_id=order.partner_id,
                                delivery_id=delivery_id,
                                order_id=order.order_id,
                                body_sha256=delivery.body_sha256,
                                answer=delivery.answer.model_dump(mode="json", exclude_none=True),
                                received_at=order.updated_at,
                                expires_at=order.updated_at + DELIVERY_RETENTION,
                            ),
                            condition=PostbackDeliveryItem.delivery_id.does_not_exist(),
                        )
                    # Last, unconditional: the positions above are what a cancellation is read by.
                    transaction.save(_change_item(order))
            except TransactWriteError as error:
                reasons = error.cancellation_reasons or []
                if any(failed_condition(reason) for reason in reasons) and is_stored(item):
                    return SaveOutcome.SAVED  # our own transaction, whose answer was lost and resent
                if len(reasons) > _DELIVERY and failed_condition(reasons[_DELIVERY]):
                    return SaveOutcome.DELIVERY_SEEN
                if reasons and failed_condition(reasons[_ORDER]):
                    return SaveOutcome.ORDER_CHANGED
                if is_retryable(reasons):
                    back_off(attempt)
                    continue
                raise
            return SaveOutcome.SAVED
        raise OrderBusy(f"order {order.order_id} kept changing under this delivery; retry later")

    def partner_orders(
        self, partner_id: str, days: DayRange, status: OrderStatus | None, limit: int, cursor: str | None
    ) -> tuple[list[PartnerOrder], str | None]:
        """The partner's orders last changed within `days`, the latest first (the index is eventually
        consistent: a change appears within moments)."""
        pages = PageQuery[OrderItem](
            run=lambda start, count: OrderItem.partner_orders.query(
                partner_id,
                OrderItem.updated_at.between(days.start, days.end),
                filter_condition=(OrderItem.status == str(status)) if status else None,
                scan_index_forward=False,
                limit=count,
                last_evaluated_key=start,
            ),
            key_of=lambda last: {
                "partner_id": last.partner_id,
                "order_id": last.order_id,
                "updated_at": OrderItem.updated_at.serialize(last.updated_at),
            },
            attributes=_PARTNER_CURSOR_KEYS,
            bound_to=("partner_id", partner_id),
            what="these orders",
        )
        page, next_cursor = pages.page(limit, cursor)
        return [_to_partner_order(item) for item in page], next_cursor

    def member_purchases(self, partner_id: str, since: datetime) -> Iterator[Purchase]:
        """The partner's orders attributed to a member and not rejected (by the partner or by review),
        of those changed since `since`: one Query of the partner_orders index, O(the partner's orders
        in the window), never the table. An order placed since `since` changed since then too."""
        for item in OrderItem.partner_orders.query(partner_id, OrderItem.updated_at >= since):
            attribution = Attribution.model_validate(plain(item.attribution))
            review = plain(item.review) if item.review is not None else {}
            if (
                attribution.member_id is None
                or item.status == OrderStatus.REJECTED
                or review.get("decision") == ReviewDecision.REJECT
            ):
                continue
            yield Purchase(
                member_id=attribution.member_id,
                order_id=item.order_id,
                occurred_at=item.occurred_at,
                currency=item.currency,
                amount_minor=int(item.amount_minor),
                refunded_minor=int(item.refunded_minor),
            )

    def needing_attention(self, attention: Attention, limit: int, cursor: str | None) -> OrderPage:
        """Oldest first; the index is eventually consistent (a new order appears within moments)."""
        pages = PageQuery[OrderItem](
            run=lambda start, count: OrderItem.orders_needing_attention.query(
                str(attention), limit=count, last_evaluated_key=start
            ),
            key_of=lambda last: {
                "partner_id": last.partner_id,
                "order_id": last.order_id,
                "attention": str(last.attention),
                "attention_since": OrderItem.attention_since.serialize(last.attention_since),
            },
            attributes=_CURSOR_KEYS,
            bound_to=("attention", str(attention)),
            what=f"{attention} orders",
        )
        page, next_cursor = pages.page(limit, cursor)
        return OrderPage(orders=[_to_order(item) for item in page], next_cursor=next_cursor)
