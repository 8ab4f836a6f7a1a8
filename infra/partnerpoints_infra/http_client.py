"""A small HTTP client for the demo and the end-to-end tests: no redirect is followed (a 302 is an
answer to check), every status comes back as an Answer, and operator calls can be SigV4-signed as
IAM-authorized routes require in AWS."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


@dataclass
class Answer:
    status: int
    headers: Any
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)
# What a well-behaved client does with "busy, retry": 503 always, 429 when told to wait briefly, 409
# when it carries Retry-After (request_in_progress).
RETRYABLE = frozenset({429, 503})
MAX_WAIT_SECONDS = 2.0
RETRIED: Counter[int] = Counter()  # answers retried, by status (the demo reports them)


def _wait_before_retry(answer: Answer) -> float | None:
    """Seconds to wait before sending again, or None when this answer is final."""
    # A 409 with Retry-After is a request still in progress (an Idempotency-Key's earlier attempt).
    if answer.status not in RETRYABLE and not (answer.status == 409 and "retry-after" in answer.headers):
        return None
    try:
        wait = float(answer.headers.get("retry-after") or 1)
    except ValueError:
        wait = 1.0
    if answer.status == 429 and wait > MAX_WAIT_SECONDS * 2:
        return None  # e.g. a member locked out for an hour: that is the answer
    return min(wait, MAX_WAIT_SECONDS)


def call(
    method: str,
    url: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    sign_with: Credentials | None = None,
    region: str = "us-east-1",
    retries: int = 0,
) -> Answer:
    """One request; `body` is sent as JSON, `raw` as is; `sign_with` signs it for execute-api.
    With `retries`, a 503 (or a 429 with a short Retry-After) is sent again after the wait it asks for."""
    answer = _send(method, url, body, headers=headers, raw=raw, sign_with=sign_with, region=region)
    for _ in range(retries):
        wait = _wait_before_retry(answer)
        if wait is None:
            break
        RETRIED[answer.status] += 1
        time.sleep(wait)
        answer = _send(method, url, body, headers=headers, raw=raw, sign_with=sign_with, region=region)
    return answer


def _send(
    method: str,
    url: str,
    body: Any,
    *,
    headers: dict[str, str] | None,
    raw: bytes | None,
    sign_with: Credentials | None,
    region: str,
) -> Answer:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    all_headers = dict(headers or {})
    if body is not None and raw is None:
        all_headers.setdefault("content-type", "application/json")
    if sign_with is not None:
        signed = AWSRequest(method=method, url=url, data=data, headers=all_headers)
        SigV4Auth(sign_with, "execute-api", region).add_auth(signed)
        all_headers = dict(signed.headers.items())
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310
    try:
        with _OPENER.open(request, timeout=60) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read())
