"""PynamoDB models of the promo tables. Keys and indexes must match template.yaml (a test checks)."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model


class PromoCampaignItem(Model):
    """A campaign's terms and its redemption counter (template: PromoCampaignsTable)."""

    class Meta:
        table_name = "PromoCampaignsTable"  # replaced by dal.tables.bind_tables()
        region: str | None = None
        host: str | None = None

    campaign_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    points = NumberAttribute()
    valid_from = UTCDateTimeAttribute()
    valid_until = UTCDateTimeAttribute()
    per_member_limit = NumberAttribute()
    max_redemptions_total = NumberAttribute(null=True)
    partner_ids = ListAttribute(of=UnicodeAttribute, default=list)
    status = UnicodeAttribute()
    redemptions = NumberAttribute(default=0)
    version = NumberAttribute()  # bumped by every change of the terms; redemptions check it
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class BatchCodesIndex(GlobalSecondaryIndex["PromoCodeItem"]):
    """A generated batch's codes in the order they were made (sparse: shared codes have no batch)."""

    class Meta:
        index_name = "batch_codes"
        projection = IncludeProjection(["display"])

    batch_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)


class PromoCodeItem(Model):
    """One code, keyed by its normalized text, with its use counter (template: PromoCodesTable)."""

    class Meta:
        table_name = "PromoCodesTable"
        region: str | None = None
        host: str | None = None

    code = UnicodeAttribute(hash_key=True)  # normalized: upper case, no dashes or spaces
    display = UnicodeAttribute()  # as printed, e.g. WIN-7K3P-9XQM
    campaign_id = UnicodeAttribute()
    max_redemptions = NumberAttribute(null=True)  # None: the campaign's limits alone
    redemptions = NumberAttribute(default=0)
    batch_id = UnicodeAttribute(null=True)
    seq = NumberAttribute(null=True)  # position in its batch
    created_at = UTCDateTimeAttribute()

    batch_codes = BatchCodesIndex()


class PromoCodeBatchItem(Model):
    """A batch of generated codes and how far its generation got (template: PromoCodeBatchesTable)."""

    class Meta:
        table_name = "PromoCodeBatchesTable"
        region: str | None = None
        host: str | None = None

    batch_id = UnicodeAttribute(hash_key=True)
    campaign_id = UnicodeAttribute()
    code_count = NumberAttribute()  # `count` would shadow Model.count
    prefix = UnicodeAttribute(null=True)
    max_redemptions = NumberAttribute()
    generated = NumberAttribute(default=0)  # codes 0..generated-1 exist; each chunk moves it on
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    completed_at = UTCDateTimeAttribute(null=True)


class PromoRedemptionItem(Model):
    """One redemption and, once revoked, why and by whom (template: PromoRedemptionsTable)."""

    class Meta:
        table_name = "PromoRedemptionsTable"
        region: str | None = None
        host: str | None = None

    redemption_id = UnicodeAttribute(hash_key=True)
    member_id = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    code = UnicodeAttribute()  # as printed
    points = NumberAttribute()
    entry_id = UnicodeAttribute()
    status = UnicodeAttribute()
    redeemed_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)
    revoke_reason = UnicodeAttribute(null=True)
    revoked_by = UnicodeAttribute(null=True)


class PromoHoldingItem(Model):
    """A member's points from one campaign: how often they redeemed it (the per-member limit) and what
    is left to spend (where the campaign allows). The promo balance is the sum of `available`."""

    class Meta:
        table_name = "PromoHoldingsTable"
        region: str | None = None
        host: str | None = None

    member_id = UnicodeAttribute(hash_key=True)
    campaign_id = UnicodeAttribute(range_key=True)
    redemptions = NumberAttribute(default=0)  # never given back: a revoked redemption still counts
    available = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute(null=True)


class PromoAttemptsItem(Model):
    """A member's redemption attempts of the last hour that did not succeed (template:
    PromoAttemptsTable, TTL on expires_at): attempt id -> epoch seconds."""

    class Meta:
        table_name = "PromoAttemptsTable"
        region: str | None = None
        host: str | None = None

    member_id = UnicodeAttribute(hash_key=True)
    attempts: MapAttribute[str, Any] = MapAttribute(default=dict)
    version = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True)
