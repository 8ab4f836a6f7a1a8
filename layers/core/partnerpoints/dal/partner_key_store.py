"""Partner API keys (PartnerApiKeysTable): created once, listed per partner, revoked, and marked as
used. Translates PynamoDB's errors into domain exceptions."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import UpdateError

from partnerpoints.dal.partner_tables import PartnerApiKeyItem
from partnerpoints.dal.tables import bind_tables
from partnerpoints.dal.transactions import create_once
from partnerpoints.exceptions import AlreadyExists, ApiKeyNotFound
from partnerpoints.models.partner_keys import ApiKey
from partnerpoints.settings import Settings

# A key in use is marked at most this often: the authorizer's cache already spares most requests a
# read, and a busy key should not become a hot item of writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _to_key(item: PartnerApiKeyItem) -> ApiKey:
    return ApiKey.model_validate(item.attribute_values)


class PartnerKeyStore:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)

    def create(self, key: ApiKey) -> None:
        item = PartnerApiKeyItem(**key.model_dump(exclude_none=True))
        create_once(
            item, PartnerApiKeyItem.key_id.does_not_exist(), AlreadyExists(f"key {key.key_id} exists")
        )

    def get(self, key_id: str) -> ApiKey | None:
        try:
            return _to_key(PartnerApiKeyItem.get(key_id, consistent_read=True))
        except PartnerApiKeyItem.DoesNotExist:
            return None

    def of_partner(self, partner_id: str) -> list[ApiKey]:
        """Oldest first. The index is eventually consistent: a key issued a moment ago may be missing."""
        return [_to_key(item) for item in PartnerApiKeyItem.partner_keys.query(partner_id)]

    def revoke(self, key_id: str, partner_id: str, now: datetime) -> ApiKey:
        """Revoked now, or left as it is when it was revoked already (the first revocation's time stays)."""
        item = PartnerApiKeyItem(key_id=key_id)
        try:
            item.update(
                actions=[PartnerApiKeyItem.revoked_at.set(now)],
                condition=(PartnerApiKeyItem.partner_id == partner_id)
                & PartnerApiKeyItem.revoked_at.does_not_exist(),
            )
        except UpdateError as error:
            if getattr(error, "cause_response_code", None) != "ConditionalCheckFailedException":
                raise
            current = self.get(key_id)
            if current is None or current.partner_id != partner_id:
                raise ApiKeyNotFound(f"partner {partner_id} has no key {key_id}") from error
            return current
        return _to_key(item)

    def mark_used(self, key_id: str, now: datetime) -> None:
        """Sets last_used_at unless it was set within LAST_USED_RESOLUTION (then nothing is written)."""
        item = PartnerApiKeyItem(key_id=key_id)
        try:
            item.update(
                actions=[PartnerApiKeyItem.last_used_at.set(now)],
                condition=PartnerApiKeyItem.key_id.exists()
                & (
                    PartnerApiKeyItem.last_used_at.does_not_exist()
                    | (PartnerApiKeyItem.last_used_at < now - LAST_USED_RESOLUTION)
                ),
            )
        except UpdateError as error:
            if getattr(error, "cause_response_code", None) != "ConditionalCheckFailedException":
                raise
