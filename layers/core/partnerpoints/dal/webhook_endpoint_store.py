"""Webhook endpoints (WebhookEndpointsTable): created once, listed per owner, replaced and deleted on
the revision read. Translates PynamoDB's errors into domain exceptions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DeleteError, PutError

from partnerpoints.dal.partner_tables import Credential
from partnerpoints.dal.tables import bind_tables
from partnerpoints.dal.transactions import create_once, is_stored
from partnerpoints.dal.webhook_tables import WebhookEndpointItem
from partnerpoints.exceptions import AlreadyExists, ConcurrentChange, WebhookEndpointNotFound
from partnerpoints.models.webhooks import DisabledReason, EventType, Owner, WebhookEndpoint
from partnerpoints.settings import Settings

Secrets = tuple[tuple[str, datetime | None], ...]  # (whsec_ secret, valid until: None while current)


@dataclass(frozen=True)
class StoredEndpoint:
    """An endpoint with what only the program sees: its secrets and its revision."""

    endpoint: WebhookEndpoint
    secrets: Secrets
    revision: int


def owner_key(owner: Owner, partner_id: str | None) -> str:
    return "program" if owner is Owner.PROGRAM else f"partner#{partner_id}"


def _previous_until(secrets: Secrets) -> datetime | None:
    ends = [until for _, until in secrets if until is not None]
    return max(ends) if ends else None


def _to_stored(item: WebhookEndpointItem) -> StoredEndpoint:
    secrets = tuple((credential.value, credential.expires_at) for credential in item.secrets)
    endpoint = WebhookEndpoint(
        endpoint_id=item.endpoint_id,
        owner=Owner(item.owner),
        partner_id=item.partner_id,
        url=item.url,
        event_types=[EventType(str(kind)) for kind in item.event_types or []],
        description=item.description or "",
        enabled=bool(item.enabled),
        disabled_reason=DisabledReason(item.disabled_reason) if item.disabled_reason else None,
        disabled_at=item.disabled_at,
        previous_secret_valid_until=_previous_until(secrets),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )
    return StoredEndpoint(endpoint, secrets, int(item.revision))


def _to_item(stored: StoredEndpoint, issued_at: datetime) -> WebhookEndpointItem:
    endpoint = stored.endpoint
    fields: dict[str, Any] = endpoint.model_dump(exclude={"previous_secret_valid_until"})
    return WebhookEndpointItem(
        **{
            **fields,
            "owner": str(endpoint.owner),
            "event_types": [str(kind) for kind in endpoint.event_types],
            "disabled_reason": str(endpoint.disabled_reason) if endpoint.disabled_reason else None,
        },
        owner_key=owner_key(endpoint.owner, endpoint.partner_id),
        secrets=[
            Credential(value=value, issued_at=issued_at, expires_at=until) for value, until in stored.secrets
        ],
        revision=stored.revision,
    )


class WebhookEndpointStore:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)

    def create(self, stored: StoredEndpoint) -> None:
        item = _to_item(stored, stored.endpoint.created_at)
        refusal = AlreadyExists(f"webhook endpoint {stored.endpoint.endpoint_id} exists")
        create_once(item, WebhookEndpointItem.endpoint_id.does_not_exist(), refusal)

    def get(self, endpoint_id: str) -> StoredEndpoint | None:
        try:
            return _to_stored(WebhookEndpointItem.get(endpoint_id, consistent_read=True))
        except WebhookEndpointItem.DoesNotExist:
            return None

    def of_owner(self, owner: Owner, partner_id: str | None) -> list[StoredEndpoint]:
        """Oldest first. The index is eventually consistent: an endpoint saved a moment ago may be missing."""
        return [
            _to_stored(item)
            for item in WebhookEndpointItem.owner_endpoints.query(owner_key(owner, partner_id))
        ]

    def replace(self, stored: StoredEndpoint, read_revision: int) -> None:
        """Write `stored` (revision read + 1) unless the endpoint changed or went since it was read."""
        item = _to_item(stored, stored.endpoint.updated_at)
        try:
            item.save(condition=WebhookEndpointItem.revision == read_revision)
        except PutError as error:
            if getattr(error, "cause_response_code", None) != "ConditionalCheckFailedException":
                raise
            if not is_stored(item):
                raise ConcurrentChange(
                    f"webhook endpoint {stored.endpoint.endpoint_id} changed meanwhile; read it again"
                ) from error

    def delete(self, endpoint_id: str, owner: Owner, partner_id: str | None) -> None:
        item = WebhookEndpointItem(endpoint_id=endpoint_id)
        try:
            item.delete(condition=WebhookEndpointItem.owner_key == owner_key(owner, partner_id))
        except DeleteError as error:
            if getattr(error, "cause_response_code", None) != "ConditionalCheckFailedException":
                raise
            raise WebhookEndpointNotFound(f"no webhook endpoint {endpoint_id}") from error
