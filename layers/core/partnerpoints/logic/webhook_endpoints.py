"""Webhook endpoints for their owners: the program's apps (operators) and each partner (its API key).

An owner sees and changes its own endpoints only; another owner's is "not found". A URL is checked
(https, public addresses only) whenever it is saved; the signing secret is shown once, when the endpoint
is created or the secret rotated, and a rotated-out secret keeps signing beside the new one for a grace
period so that a receiver can switch over without refusing a delivery.
"""

from __future__ import annotations

import secrets as random_secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from partnerpoints.dal.webhook_endpoint_store import StoredEndpoint, WebhookEndpointStore
from partnerpoints.exceptions import InvalidField, WebhookEndpointNotFound
from partnerpoints.logic.postback_credentials import new_webhook_secret, retire
from partnerpoints.logic.webhook_sender import Message, WebhookSender
from partnerpoints.logic.webhook_targets import PrivateTargets, Resolver, checked_url, resolve
from partnerpoints.models.webhooks import (
    PARTNER_EVENT_TYPES,
    TEST_EVENT_TYPE,
    CreatedWebhookEndpoint,
    DisabledReason,
    EventType,
    Owner,
    RotatedWebhookSecret,
    WebhookEndpoint,
    WebhookEndpointSettings,
    WebhookTestResult,
)
from partnerpoints.observability import logger
from partnerpoints.settings import get_settings

ENDPOINT_ID_LENGTH = 16
ENDPOINT_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
MAX_ENDPOINTS_PER_OWNER = 20
DEFAULT_GRACE_HOURS = 24
MAX_GRACE_HOURS = 168


def new_endpoint_id() -> str:
    return "we_" + "".join(random_secrets.choice(ENDPOINT_ID_ALPHABET) for _ in range(ENDPOINT_ID_LENGTH))


@dataclass(frozen=True)
class EndpointOwner:
    """Whose endpoints a request may touch: the program's (operators) or one partner's."""

    owner: Owner
    partner_id: str | None = None

    @classmethod
    def program(cls) -> EndpointOwner:
        return cls(Owner.PROGRAM)

    @classmethod
    def partner(cls, partner_id: str) -> EndpointOwner:
        return cls(Owner.PARTNER, partner_id)

    def may_receive(self, kind: EventType) -> bool:
        if self.owner is Owner.PARTNER:
            return kind in PARTNER_EVENT_TYPES
        return True


class WebhookEndpoints:
    def __init__(
        self,
        store: WebhookEndpointStore,
        private_targets: PrivateTargets,
        resolver: Resolver = resolve,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sender: WebhookSender | None = None,
    ) -> None:
        self._store = store
        self._private = private_targets
        self._resolver = resolver
        self._clock = clock
        self._sender = sender or WebhookSender(private_targets, resolver, clock=clock)

    def _checked(self, owner: EndpointOwner, settings: WebhookEndpointSettings) -> WebhookEndpointSettings:
        refused = [kind for kind in settings.event_types if not owner.may_receive(kind)]
        if refused:
            raise InvalidField(
                "a partner's endpoint receives only its orders' and statements' events",
                [
                    {
                        "path": f"body.event_types.{settings.event_types.index(kind)}",
                        "message": f"{kind} is not a partner's event",
                    }
                    for kind in refused
                ],
            )
        checked_url(settings.url, self._private, self._resolver)
        return settings.model_copy(update={"event_types": sorted(set(settings.event_types))})

    def create(self, owner: EndpointOwner, settings: WebhookEndpointSettings) -> CreatedWebhookEndpoint:
        settings = self._checked(owner, settings)
        if len(self._store.of_owner(owner.owner, owner.partner_id)) >= MAX_ENDPOINTS_PER_OWNER:
            raise InvalidField(
                f"an owner has at most {MAX_ENDPOINTS_PER_OWNER} endpoints: delete one first",
                [{"path": "body", "message": "too many endpoints"}],
            )
        now = self._clock()
        endpoint = WebhookEndpoint(
            **settings.model_dump(),
            endpoint_id=new_endpoint_id(),
            owner=owner.owner,
            partner_id=owner.partner_id,
            disabled_reason=None if settings.enabled else DisabledReason.BY_OWNER,
            disabled_at=None if settings.enabled else now,
            created_at=now,
            updated_at=now,
        )
        secret = new_webhook_secret()
        self._store.create(StoredEndpoint(endpoint, ((secret, None),), revision=1))
        logger.info(
            "webhook endpoint created",
            endpoint_id=endpoint.endpoint_id,
            owner=str(owner.owner),
            partner_id=owner.partner_id,
            event_types=[str(kind) for kind in endpoint.event_types],
        )
        return CreatedWebhookEndpoint(**endpoint.model_dump(), secret=secret)

    def list(self, owner: EndpointOwner) -> list[WebhookEndpoint]:
        return [stored.endpoint for stored in self._store.of_owner(owner.owner, owner.partner_id)]

    def _own(self, owner: EndpointOwner, endpoint_id: str) -> StoredEndpoint:
        stored = self._store.get(endpoint_id)
        if stored is None or (stored.endpoint.owner, stored.endpoint.partner_id) != (
            owner.owner,
            owner.partner_id,
        ):
            raise WebhookEndpointNotFound(f"no webhook endpoint {endpoint_id}")
        return stored

    def get(self, owner: EndpointOwner, endpoint_id: str) -> WebhookEndpoint:
        return self._own(owner, endpoint_id).endpoint

    def replace(
        self, owner: EndpointOwner, endpoint_id: str, settings: WebhookEndpointSettings
    ) -> WebhookEndpoint:
        settings = self._checked(owner, settings)
        current = self._own(owner, endpoint_id)
        now = self._clock()
        was = current.endpoint
        if settings.enabled:
            reason, since = None, None  # enabling again clears whatever disabled it
        else:
            reason = was.disabled_reason or DisabledReason.BY_OWNER
            since = was.disabled_at or now
        endpoint = was.model_copy(
            update={
                **settings.model_dump(),
                "disabled_reason": reason,
                "disabled_at": since,
                "updated_at": now,
            }
        )
        self._store.replace(StoredEndpoint(endpoint, current.secrets, current.revision + 1), current.revision)
        logger.info("webhook endpoint replaced", endpoint_id=endpoint_id, enabled=endpoint.enabled)
        return endpoint

    def delete(self, owner: EndpointOwner, endpoint_id: str) -> WebhookEndpoint:
        """The endpoint as it was. A second DELETE finds nothing: 404."""
        endpoint = self._own(owner, endpoint_id).endpoint
        self._store.delete(endpoint_id, owner.owner, owner.partner_id)
        logger.info("webhook endpoint deleted", endpoint_id=endpoint_id)
        return endpoint

    def rotate_secret(self, owner: EndpointOwner, endpoint_id: str, grace_hours: int) -> RotatedWebhookSecret:
        grace = timedelta(hours=grace_hours)
        current = self._own(owner, endpoint_id)
        now = self._clock()
        secret = new_webhook_secret()
        secrets = retire(current.secrets, secret, now, now + grace)
        endpoint = current.endpoint.model_copy(update={"updated_at": now})
        self._store.replace(StoredEndpoint(endpoint, secrets, current.revision + 1), current.revision)
        logger.info("webhook endpoint secret rotated", endpoint_id=endpoint_id, grace_hours=grace_hours)
        return RotatedWebhookSecret(endpoint_id=endpoint_id, secret=secret, previous_valid_until=now + grace)

    def send_test(self, owner: EndpointOwner, endpoint_id: str) -> WebhookTestResult:
        """A test message, sent now (enabled or not) and signed with every active secret; not retried."""
        stored = self._own(owner, endpoint_id)
        now = self._clock()
        message = Message(
            message_id=f"msg_test_{new_endpoint_id().removeprefix('we_')}",
            event_type=TEST_EVENT_TYPE,
            timestamp=now,
            data={"endpoint_id": endpoint_id, "message": "A test message from Partner Points."},
        )
        secrets = [secret for secret, until in stored.secrets if until is None or until > now]
        attempt = self._sender.send(stored.endpoint.url, message, secrets)
        result = WebhookTestResult(
            endpoint_id=endpoint_id,
            message_id=message.message_id,
            outcome=str(attempt.outcome),
            status_code=attempt.status_code,
            duration_ms=attempt.duration_ms,
            error=attempt.error,
        )
        logger.info("webhook test sent", signatures=len(secrets), **result.model_dump(exclude={"error"}))
        return result


@cache
def get_webhook_endpoints() -> WebhookEndpoints:
    settings = get_settings()
    return WebhookEndpoints(WebhookEndpointStore(settings), PrivateTargets(settings.webhook_private_targets))
