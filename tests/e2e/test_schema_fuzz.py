"""Schemathesis against the served local stack: every operation of docs/openapi.json, with valid
credentials for its security scheme (an operator's signed request, a member token with the admin
scope, the partner's signature, token or API key), with data that exists for the ids it can reach.
Every answer must be a status the document lists for that operation, in its content type, with its
body's schema and its headers; and none may be a 5xx.

Bounded: FUZZ_EXAMPLES examples per operation (each one request through the stack), once per run."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from partnerpoints_infra.http_client import call
from partnerpoints_infra.local.api_docs import DOCUMENT_PATH
from partnerpoints_infra.local.authorizers import create_token
from partnerpoints_infra.local.commands import jwt_authorizers
from partnerpoints_infra.postback_signing import signature_headers
from partnerpoints_infra.template import TEMPLATE_PATH
from tests.e2e.conftest import ServedStack, start_served_stack

FUZZ_EXAMPLES = int(os.environ.get("PARTNERPOINTS_FUZZ_EXAMPLES", "20"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
PARTNER = "fuzz-shop"
# Schemathesis waits 10 s by default; an operator's release over 800 days of the index, under coverage
# on a busy CI machine, takes longer (API Gateway itself would wait 30 s).
TIMEOUT = 60
# Any SigV4-shaped request passes the local IAM authorizer; the function records its access key.
OPERATOR = {"authorization": "AWS4-HMAC-SHA256 Credential=AKIDLOCALFUZZ/20261130/us-east-1/execute-api"}

pytestmark = pytest.mark.fuzz


class Seeded:
    def __init__(self, stack: ServedStack) -> None:
        self.stack = stack
        answer = call(
            "POST",
            f"{stack.http_url}/admin/partners",
            {
                "partner_id": PARTNER,
                "name": "Fuzz Shop",
                "currency": "EUR",
                "allowed_domains": ["shop.example"],
                "points_percent": "5",
                "commission_percent": "8",
            },
            headers=OPERATOR,
        )
        assert answer.status == 201, answer.json()
        self.webhook_secret = answer.json()["webhook_secret"]
        self.postback_token = answer.json()["postback_token"]
        link = call(
            "POST",
            f"{stack.http_url}/admin/links",
            {
                "partner_id": PARTNER,
                "link_id": "fuzz-link",
                "destination": "https://shop.example/p?c={click_id}",
            },
            headers=OPERATOR,
        )
        assert link.status == 201, link.json()
        key = call("POST", f"{stack.http_url}/admin/partners/{PARTNER}/api-keys", {}, headers=OPERATOR)
        assert key.status == 201, key.json()
        self.partner_key = {"authorization": f"Bearer {key.json()['api_key']}"}
        authorizer = jwt_authorizers(TEMPLATE_PATH)["MemberAuthorizer"]
        self.member = {"authorization": f"Bearer {create_token(authorizer, 'fuzz-member', ['admin'])}"}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    # Outside coverage: the fuzz tests answers in bulk, and under coverage on a busy two-core machine a
    # function can overrun its template timeout (the click function's is 3 s), which is not a finding.
    stack = start_served_stack(tmp_path_factory.mktemp("fuzz-state"), measured=False)
    try:
        yield Seeded(stack)
    finally:
        stack.stop()


# The document is a file of this checkout: loaded at collection, one test per operation. (The stack's
# address is known only once it runs; each call is given it.)
schema = schemathesis.openapi.from_path(DOCUMENT_PATH)


JSON = "application/json"


def _raw(body: Any) -> bytes:
    """The bytes a signed postback carries (the signature is over them): generated JSON, or raw bytes."""
    if isinstance(body, NotSet):
        return b""
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def _security(case: Any) -> set[str]:
    return {name for requirement in case.operation.definition.raw.get("security", []) for name in requirement}


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_in_the_contract(case: Any, seeded: Seeded) -> None:
    schemes = _security(case)
    headers: dict[str, str] = {}
    if "operatorIam" in schemes:
        headers.update(OPERATOR)
    if "memberJwt" in schemes:
        headers.update(seeded.member)
    if "partnerApiKey" in schemes:
        headers.update(seeded.partner_key)
    if "partnerToken" in schemes:
        case.path_parameters["partner_id"] = PARTNER
        case.query = {**(case.query or {}), "token": seeded.postback_token}
    if "partnerSignature" in schemes:
        case.path_parameters["partner_id"] = PARTNER
        raw = _raw(case.body)
        signed = {"content-type": case.media_type or JSON}
        # Standard Webhooks signs text: bytes that are not UTF-8 go unsigned, and must get a 4xx.
        with contextlib.suppress(UnicodeDecodeError):
            signed.update(signature_headers(seeded.webhook_secret, raw))
        response = case.call(base_url=seeded.stack.http_url, headers=signed, data=raw, timeout=TIMEOUT)
        case.validate_response(response, checks=CHECKS)
        return
    case.call_and_validate(base_url=seeded.stack.http_url, headers=headers, checks=CHECKS, timeout=TIMEOUT)
