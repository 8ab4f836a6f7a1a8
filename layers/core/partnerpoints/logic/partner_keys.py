"""Partner API keys: issued by the operator for one partner, shown once, kept as a SHA-256 digest (a
key carries 256 random bits, so a fast digest is enough: there is nothing to guess), revocable, with
an optional expiry. The authorizer of the /partner routes turns a key into its partner's id."""

from __future__ import annotations

import hmac
import secrets
import string
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache

from partnerpoints.dal.partner_key_store import PartnerKeyStore
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.exceptions import ApiKeyRefused, InvalidField
from partnerpoints.logic.postback_credentials import token_digest
from partnerpoints.models.partner_keys import ApiKey, ApiKeyStatus, ApiKeyView, IssuedApiKey, NewApiKey
from partnerpoints.observability import logger
from partnerpoints.settings import get_settings

PREFIX = "ppk_"
KEY_ID_LENGTH = 12
SECRET_BYTES = 32
_KEY_ID_ALPHABET = string.ascii_lowercase + string.digits


def _new_key_id() -> str:
    return "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(KEY_ID_LENGTH))


def split_key(api_key: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key, else None."""
    if not api_key.startswith(PREFIX):
        return None
    key_id, separator, secret = api_key[len(PREFIX) :].partition("_")
    if not separator or len(key_id) != KEY_ID_LENGTH or not secret:
        return None
    return key_id, secret


class PartnerKeys:
    def __init__(
        self,
        store: PartnerKeyStore,
        partners: PartnerStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._partners = partners
        self._clock = clock

    def issue(self, partner_id: str, request: NewApiKey) -> IssuedApiKey:
        self._partners.get_partner(partner_id)  # PartnerNotFound for an unknown partner
        now = self._clock()
        if request.expires_at is not None and request.expires_at <= now:
            raise InvalidField(
                "a key must not expire before it is issued",
                [{"path": "body.expires_at", "message": f"{request.expires_at.isoformat()} has passed"}],
            )
        key_id = _new_key_id()
        api_key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(SECRET_BYTES)}"
        key = ApiKey(
            key_id=key_id,
            partner_id=partner_id,
            digest=token_digest(api_key),
            description=request.description,
            created_at=now,
            expires_at=request.expires_at,
        )
        self._store.create(key)
        logger.info("partner api key issued", partner_id=partner_id, key_id=key_id)
        return IssuedApiKey(**ApiKeyView.of(key, now).model_dump(), api_key=api_key)

    def of_partner(self, partner_id: str) -> list[ApiKeyView]:
        self._partners.get_partner(partner_id)
        now = self._clock()
        return [ApiKeyView.of(key, now) for key in self._store.of_partner(partner_id)]

    def revoke(self, partner_id: str, key_id: str) -> ApiKeyView:
        now = self._clock()
        revoked = self._store.revoke(key_id, partner_id, now)
        logger.info("partner api key revoked", partner_id=partner_id, key_id=key_id)
        return ApiKeyView.of(revoked, now)

    def authenticate(self, api_key: str) -> ApiKey:
        """The key's record when it is known, active and its digest matches; else ApiKeyRefused with
        the reason (never which part of an unknown key was wrong)."""
        parts = split_key(api_key.strip())
        key = self._store.get(parts[0]) if parts else None
        if key is None or not hmac.compare_digest(key.digest, token_digest(api_key.strip())):
            raise ApiKeyRefused("the API key is not one the program issued")
        now = self._clock()
        status = key.status(now)
        if status is ApiKeyStatus.REVOKED:
            raise ApiKeyRefused("the API key was revoked", code="api_key_revoked")
        if status is ApiKeyStatus.EXPIRED:
            raise ApiKeyRefused("the API key has expired", code="api_key_expired")
        self._store.mark_used(key.key_id, now)
        return key


@cache
def get_partner_keys() -> PartnerKeys:
    settings = get_settings()
    return PartnerKeys(PartnerKeyStore(settings), PartnerStore(settings))
