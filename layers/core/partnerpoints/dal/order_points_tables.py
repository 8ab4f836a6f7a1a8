"""PynamoDB model of the order points table. Keys and indexes must match template.yaml (a test checks)."""

from __future__ import annotations

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model


class ReleasesDueIndex(GlobalSecondaryIndex["OrderPointsItem"]):
    """Approved orders whose pending points wait for their hold to end, by release day (sparse:
    `release_day` is removed once released). The nightly release queries a day, never scans."""

    class Meta:
        index_name = "releases_due"
        projection = KeysOnlyProjection()

    release_day = UnicodeAttribute(hash_key=True)  # YYYY-MM-DD (UTC)
    release_at = UTCDateTimeAttribute(range_key=True)


class MemberSpendIndex(GlobalSecondaryIndex["OrderPointsItem"]):
    """A member's approved orders by approval time, with their spend: the trailing year sets the tier."""

    class Meta:
        index_name = "member_spend"
        projection = IncludeProjection(["spend_reference_minor"])

    member_id = UnicodeAttribute(hash_key=True)
    approved_at = UTCDateTimeAttribute(range_key=True)


class MemberOrdersIndex(GlobalSecondaryIndex["OrderPointsItem"]):
    """A member's attributed orders, the latest change first (the member's own order list)."""

    class Meta:
        index_name = "member_orders"
        projection = IncludeProjection(
            ["status", "currency", "pending", "released", "clawed_back", "release_at"]
        )

    member_id = UnicodeAttribute(hash_key=True)
    updated_at = UTCDateTimeAttribute(range_key=True)


class OrderPointsItem(Model):
    """What one attributed order has earned and where its points are (template: OrderPointsTable)."""

    class Meta:
        table_name = "OrderPointsTable"  # replaced by dal.tables.bind_tables()
        region: str | None = None
        host: str | None = None

    partner_id = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute(range_key=True)
    member_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    terms = MapAttribute[str, object]()
    applied_version = NumberAttribute()
    revision = NumberAttribute()
    status = UnicodeAttribute()
    pending = NumberAttribute()
    released = NumberAttribute()
    clawed_back = NumberAttribute()
    approved_at = UTCDateTimeAttribute(null=True)
    spend_reference_minor = NumberAttribute()
    release_at = UTCDateTimeAttribute(null=True)
    release_day = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()

    releases_due = ReleasesDueIndex()
    member_spend = MemberSpendIndex()
    member_orders = MemberOrdersIndex()
