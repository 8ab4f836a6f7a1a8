"""Signing postbacks the way a partner's platform does (Standard Webhooks), for `partnerpoints admin
sign-postback`, the demo, the tests and the bench: one implementation, the maintained package's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook


def signature_headers(
    secret: str, body: bytes, message_id: str | None = None, timestamp: datetime | None = None
) -> dict[str, str]:
    """The three headers for `body`, signed now (or at `timestamp`) with a fresh id unless given."""
    message_id = message_id or f"msg_{uuid.uuid4().hex}"
    moment = timestamp or datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, moment, body.decode("utf-8")),
    }
