"""PynamoDB models of the partner configuration tables. Keys must match template.yaml (a test checks)."""

from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model


class PartnerItem(Model):
    """A partner's configuration (template: PartnersTable). Percentages are decimal strings, never floats."""

    class Meta:
        table_name = "PartnersTable"  # replaced by dal.tables.bind_tables() from PARTNERS_TABLE_NAME
        region: str | None = None
        host: str | None = None

    partner_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    currency = UnicodeAttribute()
    allowed_domains = ListAttribute(of=UnicodeAttribute)
    points_percent = UnicodeAttribute()
    category_points_percent = MapAttribute[str, str](default=dict)
    commission_percent = UnicodeAttribute()
    category_commission_percent = MapAttribute[str, str](default=dict)
    hold_days = NumberAttribute()
    attribution_window_days = NumberAttribute()
    fallback_url = UnicodeAttribute(null=True)
    blocked_referrer_domains = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class LinkItem(Model):
    """A tracking link (template: LinksTable): where `GET /c/{link_id}` sends a shopper."""

    class Meta:
        table_name = "LinksTable"  # replaced by dal.tables.bind_tables() from LINKS_TABLE_NAME
        region: str | None = None
        host: str | None = None

    link_id = UnicodeAttribute(hash_key=True)
    partner_id = UnicodeAttribute()
    destination = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
