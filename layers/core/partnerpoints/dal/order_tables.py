"""PynamoDB models of the order tables. Keys and indexes must match template.yaml (a test checks).

Nested parts (lines, review, history) are stored as plain maps of the pydantic models' JSON, so the
stream's images read like the API's answers.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model


class MemberOrdersIndex(GlobalSecondaryIndex["OrderItem"]):
    """Attributed orders by member and time (sparse: unattributed orders have no member_id). Counts the
    orders of a member's last hour for fraud review."""

    class Meta:
        index_name = "member_orders"
        projection = KeysOnlyProjection()

    member_id = UnicodeAttribute(hash_key=True)
    occurred_at = UTCDateTimeAttribute(range_key=True)


class OrdersNeedingAttentionIndex(GlobalSecondaryIndex["OrderItem"]):
    """Orders waiting for the operator, oldest first (sparse: `attention` is removed once resolved)."""

    class Meta:
        index_name = "orders_needing_attention"
        projection = AllProjection()

    attention = UnicodeAttribute(hash_key=True)  # review | unattributed
    attention_since = UTCDateTimeAttribute(range_key=True)


# What a partner's order list shows; lines and history stay in the table (GET one order for them).
PARTNER_ORDER_FIELDS = [
    "version",
    "status",
    "currency",
    "amount_minor",
    "refunded_minor",
    "commission_minor",
    "commission_reversed_minor",
    "attribution",
    "review",
    "occurred_at",
    "status_at",
]


class PartnerOrdersIndex(GlobalSecondaryIndex["OrderItem"]):
    """A partner's orders by the time of their last change: its reporting's latest transactions."""

    class Meta:
        index_name = "partner_orders"
        projection = IncludeProjection(PARTNER_ORDER_FIELDS)

    partner_id = UnicodeAttribute(hash_key=True)
    updated_at = UTCDateTimeAttribute(range_key=True)


class OrderItem(Model):
    """One order of one partner, replaced whole on every accepted change with `version` + 1 (template:
    OrdersTable, whose stream carries the old and new images to the accrual function)."""

    class Meta:
        table_name = "OrdersTable"  # replaced by dal.tables.bind_tables()
        region: str | None = None
        host: str | None = None

    partner_id = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute(range_key=True)
    version = NumberAttribute()
    status = UnicodeAttribute()
    counts = BooleanAttribute()  # attributed and not held or rejected by review: what accrual reads
    currency = UnicodeAttribute()
    amount_minor = NumberAttribute()
    refunded_minor = NumberAttribute()
    commission_minor = NumberAttribute()
    commission_reversed_minor = NumberAttribute()
    items = ListAttribute[dict[str, object]](default=list)
    click_id = UnicodeAttribute(null=True)
    attribution = MapAttribute[str, object]()
    member_id = UnicodeAttribute(null=True)  # attributed orders only
    review = MapAttribute[str, object](null=True)
    occurred_at = UTCDateTimeAttribute()
    status_at = UTCDateTimeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    attention = UnicodeAttribute(null=True)
    attention_since = UTCDateTimeAttribute(null=True)
    history = ListAttribute[dict[str, object]](default=list)
    time_zone = UnicodeAttribute(null=True)  # the partner's, for its local-day counters

    member_orders = MemberOrdersIndex()
    orders_needing_attention = OrdersNeedingAttentionIndex()
    partner_orders = PartnerOrdersIndex()


class PostbackDeliveryItem(Model):
    """A signed delivery the program accepted, by its webhook-id: a retry gets the first answer back
    (template: PostbackDeliveriesTable; kept 30 days, TTL expires_at)."""

    class Meta:
        table_name = "PostbackDeliveriesTable"  # replaced by dal.tables.bind_tables()
        region: str | None = None
        host: str | None = None

    partner_id = UnicodeAttribute(hash_key=True)
    delivery_id = UnicodeAttribute(range_key=True)
    order_id = UnicodeAttribute()
    body_sha256 = UnicodeAttribute()
    answer = MapAttribute[str, object]()
    received_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


class OrderChangeItem(Model):
    """An order changed on a day (template: OrderChangesTable): the activity index of orders, keyed by
    the day and the partner's shard (partnerpoints.activity)."""

    class Meta:
        table_name = "OrderChangesTable"  # replaced by dal.tables.bind_tables()
        region: str | None = None
        host: str | None = None

    activity_key = UnicodeAttribute(hash_key=True)
    order_key = UnicodeAttribute(range_key=True)  # "{partner_id}#{order_id}"
    partner_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    expires_at = TTLAttribute()
