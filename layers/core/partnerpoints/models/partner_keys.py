"""Partner API keys: the credential a partner reads its own numbers with (the /partner routes).

A key is `ppk_<key_id>_<secret>`. The key id is public (lists, logs, the authorizer's context); the
whole key is shown once, when issued, and kept only as its SHA-256 digest.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from partnerpoints.models.partners import PartnerId
from partnerpoints.models.periods import Moment

ApiKeyId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{12}$")]


class ApiKeyStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class NewApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(default="", max_length=200, description="what the key is for, e.g. 'BI export'")
    expires_at: Moment | None = Field(default=None, description="when the key stops working; none: never")


class ApiKey(BaseModel):
    """A key as stored: its digest, never the key."""

    model_config = ConfigDict(frozen=True)

    key_id: ApiKeyId
    partner_id: PartnerId
    digest: str
    description: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def status(self, now: datetime) -> ApiKeyStatus:
        if self.revoked_at is not None:
            return ApiKeyStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return ApiKeyStatus.EXPIRED
        return ApiKeyStatus.ACTIVE


class ApiKeyView(BaseModel):
    """What the operator sees of a key (lists, revocation): everything but the key and its digest."""

    key_id: ApiKeyId
    partner_id: PartnerId
    description: str
    status: ApiKeyStatus
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = Field(
        default=None, description="to the minute; updated at most once a minute"
    )

    @classmethod
    def of(cls, key: ApiKey, now: datetime) -> ApiKeyView:
        return cls(**key.model_dump(exclude={"digest"}), status=key.status(now))


class IssuedApiKey(ApiKeyView):
    api_key: str = Field(description="the key itself, shown this once: store it now")


class ApiKeyList(BaseModel):
    keys: list[ApiKeyView]
