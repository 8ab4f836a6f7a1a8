"""Sending one webhook message to one endpoint: signed per Standard Webhooks, sent to an address that
was checked a moment before, answered within DELIVERY_TIMEOUT_SECONDS.

The target's host is resolved and every address checked (logic.webhook_targets) right before the
request, and the connection goes to the checked address itself, with the host name kept for TLS (SNI
and certificate) and the Host header: a name that resolves elsewhere a moment later (DNS rebinding)
cannot steer the request inside a network. Redirects are not followed.

Signatures: one `v1,<base64>` per active secret of the endpoint, space-separated in
`webhook-signature`, made with the `standardwebhooks` package over `id.timestamp.body`; a receiver
verifying with any one of them accepts the message (how a secret is rotated without a refusal).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import urllib3
from standardwebhooks.webhooks import Webhook

from partnerpoints.logic.webhook_targets import PrivateTargets, Resolver, TargetRefused, check_target, resolve

DELIVERY_TIMEOUT_SECONDS = 15.0
USER_AGENT = "PartnerPoints-Webhooks/1.0"
MAX_RETRY_AFTER_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Message:
    """What is sent: the id stays the same across retries (receivers deduplicate on it)."""

    message_id: str
    event_type: str
    timestamp: datetime
    data: dict[str, Any]

    def body(self) -> str:
        moment = self.timestamp.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return json.dumps(
            {"type": self.event_type, "timestamp": moment, "data": self.data},
            separators=(",", ":"),
            ensure_ascii=False,
        )


def signed_headers(message: Message, body: str, secrets: Sequence[str], sent_at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers: one signature per secret."""
    signatures = " ".join(Webhook(secret).sign(message.message_id, sent_at, body) for secret in secrets)
    return {
        "webhook-id": message.message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


class Outcome(StrEnum):
    DELIVERED = "delivered"  # any 2xx
    FAILED = "failed"  # another status, a timeout, a refused connection: retried
    GONE = "gone"  # 410: the receiver asks for no more (the endpoint is disabled)
    REFUSED = "refused"  # the target is not one the program may call (checked at send time)


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    status_code: int | None
    duration_ms: int
    error: str | None = None
    retry_after_seconds: int | None = None  # from a 429 or 503's Retry-After, when it gives seconds


def _retry_after(status: int, value: str | None) -> int | None:
    if status not in {429, 503} or not value or not value.strip().isdigit():
        return None
    return min(int(value.strip()), MAX_RETRY_AFTER_SECONDS)


class WebhookSender:
    def __init__(
        self,
        private_targets: PrivateTargets,
        resolver: Resolver = resolve,
        timeout_seconds: float = DELIVERY_TIMEOUT_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._private = private_targets
        self._resolver = resolver
        self._timeout = timeout_seconds
        self._clock = clock

    def send(self, url: str, message: Message, secrets: Sequence[str]) -> Attempt:
        started = time.monotonic()

        def took() -> int:
            return round((time.monotonic() - started) * 1000)

        try:
            target = check_target(url, self._private, self._resolver)
        except TargetRefused as refused:
            return Attempt(Outcome.REFUSED, None, took(), str(refused))
        body = message.body()
        headers = signed_headers(message, body, secrets, self._clock())
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        address = target.addresses[0]
        default_port = 443 if parts.scheme == "https" else 80
        headers["host"] = target.host if target.port == default_port else f"{target.host}:{target.port}"
        timeout = urllib3.Timeout(total=self._timeout)
        if parts.scheme == "https":
            pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
                address,
                target.port,
                server_hostname=target.host,
                assert_hostname=target.host,
                timeout=timeout,
                retries=False,
                maxsize=1,
            )
        else:  # only ever a loopback receiver of the local stack (webhook_targets refuses it otherwise)
            pool = urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False, maxsize=1)
        try:
            with pool:
                response = pool.urlopen(
                    "POST", path, body=body.encode(), headers=headers, redirect=False, preload_content=False
                )
                response.read(64 * 1024)  # enough to finish the exchange; the body is not kept
                response.release_conn()
        except urllib3.exceptions.HTTPError as error:
            return Attempt(
                Outcome.FAILED, None, took(), f"{type(error).__name__}: no answer from {target.host}"
            )
        status = response.status
        if 200 <= status < 300:
            return Attempt(Outcome.DELIVERED, status, took())
        outcome = Outcome.GONE if status == 410 else Outcome.FAILED
        retry_after = _retry_after(status, response.headers.get("retry-after"))
        return Attempt(outcome, status, took(), f"the receiver answered {status}", retry_after)
