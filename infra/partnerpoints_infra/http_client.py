"""A small HTTP client for the demo and the end-to-end tests: no redirect is followed (a 302 is an
answer to check), every status comes back as an Answer, and operator calls can be SigV4-signed as
IAM-authorized routes require in AWS."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
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


def call(
    method: str,
    url: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    sign_with: Credentials | None = None,
    region: str = "us-east-1",
) -> Answer:
    """One request; `body` is sent as JSON, `raw` as is; `sign_with` signs it for execute-api."""
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
