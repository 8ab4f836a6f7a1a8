"""Outbound webhooks: the endpoints partners and the program's apps register to be told what happens,
and the events they can choose from (Standard Webhooks, like the postbacks the program receives)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from partnerpoints.models.partners import PartnerId

EndpointId = Annotated[str, StringConstraints(pattern=r"^we_[a-z0-9]{16}$")]


class EventType(StrEnum):
    ORDER_CREATED = "order.created"
    ORDER_STATUS_CHANGED = "order.status_changed"
    ORDER_REVIEW_REQUIRED = "order.review_required"
    POINTS_PENDING = "points.pending"
    POINTS_AVAILABLE = "points.available"
    POINTS_REVERSED = "points.reversed"
    POINTS_EXPIRING = "points.expiring"
    POINTS_EXPIRED = "points.expired"
    TIER_CHANGED = "tier.changed"
    PROMO_REDEEMED = "promo.redeemed"
    PROMO_REVOKED = "promo.revoked"
    STATEMENT_READY = "statement.ready"
    # To the program's endpoints only: one of the endpoints was disabled (gone, or failing for long).
    ENDPOINT_DISABLED = "webhook.endpoint_disabled"


# What concerns a partner: its orders and its statements. Members' points, tiers and promo codes are
# the program's business (its member apps), never a partner's.
PARTNER_EVENT_TYPES = frozenset(
    {
        EventType.ORDER_CREATED,
        EventType.ORDER_STATUS_CHANGED,
        EventType.ORDER_REVIEW_REQUIRED,
        EventType.STATEMENT_READY,
    }
)


class WebhookEvent(BaseModel):
    """One fact, once: its id is derived from the fact (a redelivered stream record makes the same id,
    and the event is recorded once); `partner_id` routes it to that partner's endpoints too."""

    model_config = ConfigDict(frozen=True)

    event_id: str = Field(pattern=r"^msg_[0-9a-f]{32}$", description="webhook-id of every delivery of it")
    type: EventType
    timestamp: datetime = Field(description="when the fact happened")
    partner_id: PartnerId | None = None
    member_id: str | None = None
    data: dict[str, Any]

    def for_partner(self) -> bool:
        return self.partner_id is not None and self.type in PARTNER_EVENT_TYPES


class Owner(StrEnum):
    PROGRAM = "program"
    PARTNER = "partner"


class DisabledReason(StrEnum):
    BY_OWNER = "by_owner"  # enabled: false in a PUT
    GONE = "gone"  # the receiver answered 410 Gone
    FAILING = "failing"  # 20 events in a row could not be delivered


class WebhookEndpointSettings(BaseModel):
    """What the owner chooses (a PUT replaces all of it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(
        min_length=9,
        max_length=2048,
        description="https only; its host must resolve to public addresses only (checked again before "
        "every delivery)",
        examples=["https://hooks.example.com/partnerpoints"],
    )
    event_types: list[EventType] = Field(
        default_factory=list,
        max_length=len(EventType),
        description="the events to send; empty: every event the owner may receive",
    )
    description: str = Field(default="", max_length=200)
    enabled: bool = True


class WebhookEndpoint(WebhookEndpointSettings):
    """An endpoint as its owner reads it: never its secret."""

    endpoint_id: EndpointId
    owner: Owner
    partner_id: PartnerId | None = Field(default=None, description="the partner whose endpoint it is")
    disabled_reason: DisabledReason | None = Field(
        default=None, description="why it is disabled (null while enabled)"
    )
    disabled_at: datetime | None = None
    previous_secret_valid_until: datetime | None = Field(
        default=None,
        description="after a rotation: until when deliveries are signed with the previous secret too",
    )
    created_at: datetime
    updated_at: datetime


class CreatedWebhookEndpoint(WebhookEndpoint):
    secret: str = Field(description="the whsec_ signing secret, shown this once")


class RotatedWebhookSecret(BaseModel):
    endpoint_id: EndpointId
    secret: str = Field(description="the new whsec_ signing secret, shown this once")
    previous_valid_until: datetime = Field(
        description="until then every delivery carries a signature with each secret"
    )


# The type of the message POST .../test sends; not an event one subscribes to.
TEST_EVENT_TYPE = "webhook.test"


class WebhookTestResult(BaseModel):
    """How the endpoint answered a test message, sent at once and not retried."""

    endpoint_id: EndpointId
    message_id: str = Field(description="the test message's webhook-id")
    outcome: str = Field(description="delivered (2xx), failed, gone (410) or refused (not a public address)")
    status_code: int | None = Field(description="what the receiver answered; null without an answer")
    duration_ms: int
    error: str | None = Field(description="why it was not delivered; null when it was")


class WebhookEndpointList(BaseModel):
    endpoints: list[WebhookEndpoint] = Field(description="oldest first")
