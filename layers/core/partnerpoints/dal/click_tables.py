"""PynamoDB model of the clicks table, for readers (postbacks, reports, tests). The click function
writes these attributes with the low-level client (dal.click_store) to keep its cold start small."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model


class ClickItem(Model):
    """A click (template: ClicksTable), with the repeats of its 60-second flood window counted on it."""

    class Meta:
        table_name = "ClicksTable"  # replaced by dal.tables.bind_tables()
        region: str | None = None
        host: str | None = None

    click_id = UnicodeAttribute(hash_key=True)
    link_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    member_id = UnicodeAttribute(null=True)
    sub_ids = MapAttribute[str, str](default=dict)
    clicked_at = UTCDateTimeAttribute()
    last_clicked_at = UTCDateTimeAttribute()
    ip_hash = UnicodeAttribute()
    user_agent = UnicodeAttribute()
    referrer_host = UnicodeAttribute(null=True)
    bot = BooleanAttribute()
    unique = BooleanAttribute()
    # Every click of the window, the first included: clicks - 1 repeats were folded into this one.
    clicks = NumberAttribute()
    expires_at = TTLAttribute()
    # A request refused for its referrer (blocked_referrer_domains): stored to be counted, never
    # attributed.
    blocked = BooleanAttribute(null=True)


class MemberClickItem(Model):
    """A member's click as the member's account shows it (template: MemberClicksTable), written from the
    Clicks and Orders streams by the partner counters function, never on the shopper's path."""

    class Meta:
        table_name = "MemberClicksTable"  # replaced by dal.tables.bind_tables()
        region: str | None = None
        host: str | None = None

    member_id = UnicodeAttribute(hash_key=True)
    click_key = UnicodeAttribute(range_key=True)  # "<clicked_at, UTC, to the microsecond>#<click_id>"
    click_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    link_id = UnicodeAttribute(null=True)
    clicked_at = UTCDateTimeAttribute()
    clicks = NumberAttribute(null=True)  # null until the click's own record is written
    bot = BooleanAttribute(null=True)
    blocked = BooleanAttribute(null=True)
    order_ids = UnicodeSetAttribute(null=True)  # the orders attributed to the click
    expires_at = TTLAttribute()
