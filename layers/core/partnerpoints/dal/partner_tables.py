"""PynamoDB models of the partner configuration tables. Keys must match template.yaml (a test checks)."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model


class PartnerItem(Model):
    """A partner's configuration (template: PartnersTable). Percentages are decimal strings, never floats."""

    class Meta:
        table_name = "PartnersTable"  # replaced by dal.tables.bind_tables()
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
    postback_ip_allowlist = ListAttribute(of=UnicodeAttribute, default=list)
    signed_postbacks_only = BooleanAttribute(default=False)
    min_seconds_to_order = NumberAttribute(default=10)
    review_amount = UnicodeAttribute(null=True)
    max_points_per_order = NumberAttribute(null=True)
    time_zone = UnicodeAttribute(null=True)
    time_zone_since = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class LinkItem(Model):
    """A tracking link (template: LinksTable): where `GET /c/{link_id}` sends a shopper."""

    class Meta:
        table_name = "LinksTable"  # replaced by dal.tables.bind_tables()
        region: str | None = None
        host: str | None = None

    link_id = UnicodeAttribute(hash_key=True)
    partner_id = UnicodeAttribute()
    destination = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class Credential(MapAttribute[str, object]):
    value = UnicodeAttribute()  # a whsec_ secret, or the SHA-256 hex digest of a postback token
    issued_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute(null=True)  # set when rotated out: the end of its grace period


class PartnerCredentialsItem(Model):
    """A partner's postback credentials (template: PartnerCredentialsTable), apart from its settings so
    that only the postback and admin functions may read them. Tokens are kept as digests only."""

    class Meta:
        table_name = "PartnerCredentialsTable"  # replaced by dal.tables.bind_tables()
        region: str | None = None
        host: str | None = None

    partner_id = UnicodeAttribute(hash_key=True)
    webhook_secrets = ListAttribute(of=Credential)
    token_digests = ListAttribute(of=Credential)
    revision = NumberAttribute()  # +1 per rotation; a rotation is conditional on the one it read
    updated_at = UTCDateTimeAttribute()


class PartnerKeysIndex(GlobalSecondaryIndex["PartnerApiKeyItem"]):
    """A partner's keys, oldest first (template: PartnerApiKeysTable's partner_keys)."""

    class Meta:
        index_name = "partner_keys"
        projection = AllProjection()

    partner_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class PartnerApiKeyItem(Model):
    """A partner API key (template: PartnerApiKeysTable), found by its public id; only its SHA-256
    digest is kept. Revoked keys stay, so that a revocation is on record."""

    class Meta:
        table_name = "PartnerApiKeysTable"  # replaced by dal.tables.bind_tables()
        region: str | None = None
        host: str | None = None

    key_id = UnicodeAttribute(hash_key=True)
    partner_id = UnicodeAttribute()
    digest = UnicodeAttribute()
    description = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute(null=True)
    revoked_at = UTCDateTimeAttribute(null=True)
    last_used_at = UTCDateTimeAttribute(null=True)

    partner_keys = PartnerKeysIndex()
