"""A partner's postback credentials: a Standard Webhooks secret for signed POSTs and a token for the
GET form. Both are shown once, when issued; the token is kept only as its SHA-256 digest. Rotating
issues new ones and keeps the previous ones working for a grace period, so a partner can switch over
without dropping a delivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from partnerpoints.models.orders import PartnerCredentials

SECRET_BYTES = 32
TOKEN_BYTES = 32
DEFAULT_GRACE_HOURS = 24
MAX_GRACE_HOURS = 168
# Rotations inside one grace period pile up; beyond this many the oldest go at once.
MAX_ACTIVE = 3


@dataclass(frozen=True)
class IssuedCredentials:
    """What the operator hands the partner, once."""

    credentials: PartnerCredentials
    webhook_secret: str
    postback_token: str


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: whsec_ and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _new_pair() -> tuple[str, str]:
    return new_webhook_secret(), secrets.token_urlsafe(TOKEN_BYTES)


def issue(partner_id: str) -> IssuedCredentials:
    secret, token = _new_pair()
    credentials = PartnerCredentials(
        partner_id=partner_id,
        webhook_secrets=((secret, None),),
        token_digests=((token_digest(token), None),),
        revision=1,
    )
    return IssuedCredentials(credentials, secret, token)


def retire(
    current: tuple[tuple[str, datetime | None], ...], new: str, now: datetime, until: datetime
) -> tuple[tuple[str, datetime | None], ...]:
    """`new` first (no expiry), then the credentials still active now, each valid until `until` at the
    latest; beyond MAX_ACTIVE the oldest go at once. Shared by every rotating credential."""
    still_active = [
        (value, until if expires is None else min(expires, until))
        for value, expires in current
        if expires is None or expires > now
    ]
    kept = [(value, expires) for value, expires in still_active if expires is not None and expires > now]
    return ((new, None), *kept[: MAX_ACTIVE - 1])


def rotate(
    current: PartnerCredentials | None, partner_id: str, now: datetime, grace: timedelta
) -> IssuedCredentials:
    """New credentials; the previous ones stay valid until now + grace (0: revoked at once)."""
    if current is None:
        return issue(partner_id)
    secret, token = _new_pair()
    until = now + grace
    credentials = PartnerCredentials(
        partner_id=partner_id,
        webhook_secrets=retire(current.webhook_secrets, secret, now, until),
        token_digests=retire(current.token_digests, token_digest(token), now, until),
        revision=current.revision + 1,
    )
    return IssuedCredentials(credentials, secret, token)


def active_secrets(credentials: PartnerCredentials, now: datetime) -> list[str]:
    return [secret for secret, expires in credentials.webhook_secrets if expires is None or expires > now]


def token_matches(credentials: PartnerCredentials, token: str, now: datetime) -> bool:
    """Constant time per stored digest; every active digest is compared, whichever matches."""
    offered = token_digest(token).encode()
    matched = False
    for digest, expires in credentials.token_digests:
        if expires is None or expires > now:
            matched |= hmac.compare_digest(offered, digest.encode())
    return matched
