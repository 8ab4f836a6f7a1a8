"""Webhook events (WebhookEventsTable): each recorded once, by its id. Translates PynamoDB's errors
into domain exceptions."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from pynamodb.exceptions import PutError, PynamoDBException

from partnerpoints.dal.tables import bind_tables
from partnerpoints.dal.webhook_tables import WebhookEventItem
from partnerpoints.exceptions import StorageUnavailable
from partnerpoints.models.webhooks import WebhookEvent
from partnerpoints.settings import Settings

EVENT_RETENTION = timedelta(days=30)


class WebhookEventStore:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)

    def record(self, event: WebhookEvent, now: datetime) -> bool:
        """True when the event is new; False when it was recorded before (a redelivered stream record,
        or this very write sent again by the SDK after its answer was lost)."""
        item = WebhookEventItem(
            event_id=event.event_id,
            type=str(event.type),
            timestamp=event.timestamp,
            partner_id=event.partner_id,
            member_id=event.member_id,
            data=json.dumps(event.data, separators=(",", ":"), ensure_ascii=False, sort_keys=True),
            recorded_at=now,
            expires_at=int((now + EVENT_RETENTION).timestamp()),
        )
        try:
            item.save(condition=WebhookEventItem.event_id.does_not_exist())
        except PutError as error:
            if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
                return False
            raise StorageUnavailable("a webhook event could not be recorded") from error
        except PynamoDBException as error:
            raise StorageUnavailable("a webhook event could not be recorded") from error
        return True
