"""Helpers for the postback tests: a partner with a link and a member's click, and signed deliveries
built from the sample events in events/PostbackFunction (re-signed with a fresh timestamp)."""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from partnerpoints.dal.order_tables import OrderItem, PostbackDeliveryItem
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.dal.tables import bind_tables
from partnerpoints.logic.postback_credentials import token_digest
from partnerpoints.models.orders import PartnerCredentials
from partnerpoints.settings import Settings
from partnerpoints_infra.functions import invoke
from partnerpoints_infra.postback_signing import signature_headers
from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import PROJECT_ROOT
from tests.integration.test_admin_api import call as admin_call
from tests.integration.test_admin_api import event as admin_event
from tests.integration.test_click_redirect import click, click_event

SAMPLE_SECRET = "whsec_cGFydG5lcnBvaW50cy1zYW1wbGUtc2VjcmV0LTMyYiE="
SAMPLE_TOKEN = "sample-postback-token-not-for-production"
MEMBER = "m-1001"


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PROJECT_ROOT / "events/PostbackFunction" / name).read_text())
    return loaded


def order_body(status: str = "pending", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(sample("post-order-pending.json")["body"])
    body.update({"status": status, "occurred_at": datetime.now(UTC).isoformat(), **changes})
    return body


def signed_event(
    body: dict[str, Any] | bytes,
    *,
    secret: str = SAMPLE_SECRET,
    message_id: str | None = None,
    at: datetime | None = None,
    partner_id: str = "shop-a",
    base64_encoded: bool = False,
) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    event = copy.deepcopy(sample("post-order-pending.json"))
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/postbacks/{partner_id}"
    event["pathParameters"] = {"partner_id": partner_id}
    event["headers"].update(signature_headers(secret, raw, message_id, at))
    event["isBase64Encoded"] = base64_encoded
    event["body"] = (
        base64.b64encode(raw).decode() if base64_encoded else raw.decode("utf-8", "surrogateescape")
    )
    return event


def token_event(query: dict[str, str], partner_id: str = "shop-a") -> dict[str, Any]:
    event = copy.deepcopy(sample("get-order-pending-with-token.json"))
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/postbacks/{partner_id}"
    event["pathParameters"] = {"partner_id": partner_id}
    event["rawQueryString"] = urlencode(query)
    event["queryStringParameters"] = query
    return event


def deliver(stack: LocalStack, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = invoke(stack, "PostbackFunction", event)
    return response["statusCode"], json.loads(response["body"])


@dataclass
class Shop:
    stack: LocalStack
    click_id: str  # a member's click on shop-a's link

    def settings(self) -> Settings:
        return Settings.from_environment(self.stack.runtime_environment())


def create_shop(stack: LocalStack, **partner_changes: Any) -> Shop:
    """shop-a (from the admin sample events) with the sample credentials, a link, and a click of m-1001."""
    partner = {**json.loads(admin_event("post-partner.json")["body"]), "min_seconds_to_order": 0}
    partner.update(partner_changes)
    status, created = admin_call(stack, admin_event("post-partner.json", body=partner))
    assert status == 201, created
    settings = Settings.from_environment(stack.runtime_environment())
    PartnerStore(settings).replace_credentials(
        PartnerCredentials(
            partner_id="shop-a",
            webhook_secrets=((SAMPLE_SECRET, None),),
            token_digests=((token_digest(SAMPLE_TOKEN), None),),
            revision=2,
        ),
        expected_revision=1,
        now=datetime.now(UTC),
    )
    assert admin_call(stack, admin_event("post-link.json"))[0] == 201
    return Shop(stack, member_click(stack, MEMBER))


def member_click(stack: LocalStack, member_id: str, source_ip: str = "198.51.100.7") -> str:
    status, member_link = admin_call(
        stack, admin_event("post-member-link.json", body={"member_id": member_id, "link_id": "shop-a-home"})
    )
    assert status == 201
    event = click_event(rawQueryString=urlsplit(member_link["url"]).query)
    event["requestContext"]["http"]["sourceIp"] = source_ip
    response = click(stack, event)
    click_id: str = parse_qs(urlsplit(response["headers"]["Location"]).query)["cid"][0]
    return click_id


def stored_orders(stack: LocalStack) -> list[OrderItem]:
    bind_tables(Settings.from_environment(stack.runtime_environment()))
    return list(OrderItem.scan())


def stored_deliveries(stack: LocalStack) -> list[PostbackDeliveryItem]:
    bind_tables(Settings.from_environment(stack.runtime_environment()))
    return list(PostbackDeliveryItem.scan())


def minutes_ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)
