"""Keys derived from the click signing secret, one per purpose so no value can stand in for another.

- member links: `m=<member_id>.<tag>`, the tag a truncated HMAC-SHA256 checked in constant time;
- IP hashes: a keyed (salted) SHA-256 of the client IP, so raw IPs are never stored and the hash
  cannot be reversed by hashing the 2^32 IPv4 addresses;
- click ids: a ULID whose time is its flood window's start and whose 80 random bits are an HMAC of the
  shopper's fingerprint and that window, so a repeat finds its first click without a read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from ulid import ULID

MEMBER_TAG_LENGTH = 22  # base64url characters: 128 bits


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return hmac.new(secret, purpose, hashlib.sha256).digest()


@dataclass(frozen=True)
class ClickKeys:
    member_key: bytes
    ip_key: bytes
    click_key: bytes

    @classmethod
    def from_secret(cls, secret: str) -> ClickKeys:
        if len(secret) < 32:
            raise ValueError("the click signing secret must have at least 32 characters")
        raw = secret.encode()
        return cls(_derive(raw, b"member-link"), _derive(raw, b"ip-hash"), _derive(raw, b"click-id"))

    def _member_tag(self, member_id: str) -> str:
        digest = hmac.new(self.member_key, member_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:MEMBER_TAG_LENGTH]

    def member_token(self, member_id: str) -> str:
        return f"{member_id}.{self._member_tag(member_id)}"

    def member_of(self, token: str) -> str | None:
        """The member a token was minted for, or None when it was not minted with this key."""
        member_id, _, tag = token.rpartition(".")
        if not member_id or len(tag) != MEMBER_TAG_LENGTH:
            return None
        # Bytes, not str: compare_digest refuses non-ASCII text, and `m` comes from anyone.
        expected = self._member_tag(member_id).encode()
        return member_id if hmac.compare_digest(tag.encode(), expected) else None

    def ip_hash(self, source_ip: str) -> str:
        return hmac.new(self.ip_key, source_ip.encode(), hashlib.sha256).hexdigest()

    def click_id(self, fingerprint: list[str], window_start_ms: int) -> str:
        # Only the last part (the user agent) is free text, so the joined message is unambiguous.
        message = "\x1f".join([str(window_start_ms), *fingerprint]).encode()
        randomness = hmac.new(self.click_key, message, hashlib.sha256).digest()[:10]
        return str(ULID.from_bytes(window_start_ms.to_bytes(6, "big") + randomness))
