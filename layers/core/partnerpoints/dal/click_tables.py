"""PynamoDB model of the clicks table, for readers (postbacks, reports, tests). The click function
writes these attributes with the low-level client (dal.click_store) to keep its cold start small."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
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
