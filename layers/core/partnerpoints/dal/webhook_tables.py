"""PynamoDB models of the outbound webhook tables. Keys must match template.yaml (a test checks)."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from partnerpoints.dal.partner_tables import Credential


class OwnerEndpointsIndex(GlobalSecondaryIndex["WebhookEndpointItem"]):
    """An owner's endpoints, oldest first (template: WebhookEndpointsTable's owner_endpoints). The
    owner key is `program`, or `partner#<partner_id>`."""

    class Meta:
        index_name = "owner_endpoints"
        projection = AllProjection()

    owner_key = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class WebhookEndpointItem(Model):
    """An endpoint (template: WebhookEndpointsTable) with its signing secrets: the newest first, a
    rotated-out one with the end of its grace period. Read by the functions that manage and deliver."""

    class Meta:
        table_name = "WebhookEndpointsTable"  # replaced by dal.tables.bind_tables()
        region: str | None = None
        host: str | None = None

    endpoint_id = UnicodeAttribute(hash_key=True)
    owner_key = UnicodeAttribute()
    owner = UnicodeAttribute()
    partner_id = UnicodeAttribute(null=True)
    url = UnicodeAttribute()
    event_types = ListAttribute(of=UnicodeAttribute, default=list)
    description = UnicodeAttribute(default="")
    enabled = BooleanAttribute()
    disabled_reason = UnicodeAttribute(null=True)
    disabled_at = UTCDateTimeAttribute(null=True)
    secrets = ListAttribute(of=Credential)
    revision = NumberAttribute()  # +1 per change; every change is conditional on the one it read
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    owner_endpoints = OwnerEndpointsIndex()
