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


class WebhookEventItem(Model):
    """A webhook event, recorded once (template: WebhookEventsTable): its id is a digest of its fact,
    and a put is conditional on the id being new. Kept 30 days (expires_at, the table's TTL); its
    stream feeds the deliveries."""

    class Meta:
        table_name = "WebhookEventsTable"  # replaced by dal.tables.bind_tables()
        region: str | None = None
        host: str | None = None

    event_id = UnicodeAttribute(hash_key=True)
    type = UnicodeAttribute()
    timestamp = UTCDateTimeAttribute()
    partner_id = UnicodeAttribute(null=True)
    member_id = UnicodeAttribute(null=True)
    data = UnicodeAttribute()  # the event's data as JSON, exactly as it is sent
    recorded_at = UTCDateTimeAttribute()
    expires_at = NumberAttribute()  # epoch seconds: DynamoDB's TTL removes the event after it
