"""WebhookEndpointsFunction through its real handler on tables built from the template (AWS's setting:
public addresses only), driven by the event files in events/WebhookEndpointsFunction."""

from __future__ import annotations

import base64
import copy
import io
import json
import logging
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from partnerpoints.dal.webhook_endpoint_store import WebhookEndpointStore
from partnerpoints.logic.postback_credentials import new_webhook_secret
from partnerpoints.logic.webhook_endpoints import EndpointOwner, WebhookEndpoints
from partnerpoints.logic.webhook_targets import PrivateTargets
from partnerpoints.models.webhooks import WebhookEndpointSettings
from partnerpoints.observability import logger
from partnerpoints.settings import Settings
from partnerpoints_infra.functions import invoke
from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import PROJECT_ROOT
from tests.webhook_receiver import webhook_receiver

PUBLIC = "https://93.184.215.14/hooks"


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PROJECT_ROOT / "events/WebhookEndpointsFunction" / name).read_text())
    return loaded


def request(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    partner: str | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One of the event files, re-aimed: method, path (route key derived), body, calling partner, query."""
    shaped = copy.deepcopy(event(base))
    prefix = "/partner" if "my" in base else "/admin"
    route = path.replace(path.split("/")[3], "{endpoint_id}") if path.count("/") >= 3 else path
    shaped["routeKey"] = shaped["requestContext"]["routeKey"] = f"{method} {prefix}{route}"
    shaped["rawPath"] = shaped["requestContext"]["http"]["path"] = f"{prefix}{path}"
    shaped["requestContext"]["http"]["method"] = method
    shaped["pathParameters"] = {"endpoint_id": path.split("/")[2]} if path.count("/") >= 2 else {}
    shaped.pop("body", None)
    if body is not None:
        shaped["body"] = json.dumps(body)
        shaped["headers"]["content-type"] = "application/json"
    if partner is not None:
        shaped["requestContext"]["authorizer"] = {"lambda": {"partner_id": partner, "key_id": "k3y0f5hopa01"}}
    shaped["queryStringParameters"] = query or {}
    shaped["rawQueryString"] = "&".join(f"{name}={value}" for name, value in (query or {}).items())
    return shaped


def call(stack: LocalStack, shaped: dict[str, Any]) -> tuple[int, Any]:
    response = invoke(stack, "WebhookEndpointsFunction", shaped)
    return response["statusCode"], json.loads(response["body"])


def admin(stack: LocalStack, method: str, path: str, body: Any = None, **query: str) -> tuple[int, Any]:
    return call(stack, request("get-program-endpoints.json", method, path, body, query=query))


def partner(stack: LocalStack, who: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    return call(stack, request("get-my-endpoints.json", method, path, body, partner=who))


def test_an_endpoint_shows_its_secret_once_and_its_owner_everything_else(moto_stack: LocalStack) -> None:
    status, created = call(moto_stack, event("post-program-endpoint.json"))
    assert status == 201
    secret = created.pop("secret")
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert created["enabled"] is True
    assert created["event_types"] == ["points.available", "promo.redeemed"]
    assert (created["owner"], created["partner_id"], created["disabled_reason"]) == ("program", None, None)

    status, read = admin(moto_stack, "GET", f"/webhook-endpoints/{created['endpoint_id']}")
    assert (status, read) == (200, created)
    status, listed = admin(moto_stack, "GET", "/webhook-endpoints")
    assert listed["endpoints"] == [created]
    assert secret not in json.dumps(listed)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://93.184.215.14/hooks", "https://"),
        ("https://localhost:8443/hooks", "loopback"),  # really resolved: 127.0.0.1 or ::1
        ("https://127.0.0.1/hooks", "loopback"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://10.0.0.5/hooks", "private address"),
        ("https://user:secret@93.184.215.14/hooks", "credentials"),
    ],
)
def test_urls_that_lead_inside_a_network_are_refused_naming_the_url(
    moto_stack: LocalStack, url: str, problem: str
) -> None:
    status, refused = admin(moto_stack, "POST", "/webhook-endpoints", {"url": url})
    assert (status, refused["error"]["code"]) == (422, "invalid_request")
    (detail,) = refused["error"]["details"]
    assert detail["path"] == "body.url"
    assert problem in detail["message"]
    assert admin(moto_stack, "GET", "/webhook-endpoints")[1]["endpoints"] == []  # nothing written


def test_a_partner_sees_and_changes_only_its_own_endpoints(moto_stack: LocalStack) -> None:
    status, mine = call(moto_stack, event("post-my-endpoint.json"))
    assert (status, mine["owner"], mine["partner_id"]) == (201, "partner", "shop-a")
    status, program = call(moto_stack, event("post-program-endpoint.json"))
    assert status == 201
    # shop-b tries shop-a's endpoint; shop-a tries the program's.
    for who, other in (("shop-b", mine["endpoint_id"]), ("shop-a", program["endpoint_id"])):
        path = f"/webhook-endpoints/{other}"
        for method, body in (("GET", None), ("PUT", {"url": PUBLIC}), ("DELETE", None)):
            status, refused = partner(moto_stack, who, method, path, body)
            assert (status, refused["error"]["code"]) == (404, "webhook_endpoint_not_found"), (
                who,
                method,
                other,
            )
        status, _ = partner(moto_stack, who, "POST", f"{path}/rotate-secret")
        assert status == 404
    assert partner(moto_stack, "shop-b", "GET", "/webhook-endpoints")[1]["endpoints"] == []
    listed = partner(moto_stack, "shop-a", "GET", "/webhook-endpoints")[1]["endpoints"]
    assert [endpoint["endpoint_id"] for endpoint in listed] == [mine["endpoint_id"]]
    # The operator's routes are the program's endpoints only, not a partner's.
    status, _ = admin(moto_stack, "GET", f"/webhook-endpoints/{mine['endpoint_id']}")
    assert status == 404


def test_a_partner_cannot_subscribe_to_members_events(moto_stack: LocalStack) -> None:
    status, refused = call(moto_stack, event("post-my-endpoint-points-event.json"))
    assert status == 422
    assert refused["error"]["details"] == [
        {"path": "body.event_types.0", "message": "points.available is not a partner's event"}
    ]


def test_a_missing_key_is_refused_before_anything_is_read(moto_stack: LocalStack) -> None:
    shaped = event("get-my-endpoints.json")
    shaped["requestContext"]["authorizer"] = {"lambda": {"refusal": "api_key_revoked"}}
    status, refused = call(moto_stack, shaped)
    assert (status, refused["error"]["code"]) == (401, "api_key_revoked")


def test_disabling_and_enabling_again_and_deleting(moto_stack: LocalStack) -> None:
    _, created = call(moto_stack, event("post-program-endpoint.json"))
    path = f"/webhook-endpoints/{created['endpoint_id']}"
    settings = {"url": PUBLIC, "event_types": ["statement.ready", "statement.ready"], "enabled": False}
    status, disabled = admin(moto_stack, "PUT", path, settings)
    assert status == 200
    assert (disabled["enabled"], disabled["disabled_reason"]) == (False, "by_owner")
    assert disabled["disabled_at"] is not None
    assert (disabled["url"], disabled["event_types"]) == (PUBLIC, ["statement.ready"])  # each type once
    status, enabled = admin(moto_stack, "PUT", path, {**settings, "enabled": True})
    assert (enabled["enabled"], enabled["disabled_reason"], enabled["disabled_at"]) == (True, None, None)
    status, deleted = admin(moto_stack, "DELETE", path)
    assert (status, deleted["endpoint_id"]) == (200, created["endpoint_id"])
    status, again = admin(moto_stack, "DELETE", path)
    assert (status, again["error"]["code"]) == (404, "webhook_endpoint_not_found")


def test_rotation_keeps_the_previous_secret_signing_for_the_grace_period(moto_stack: LocalStack) -> None:
    _, created = call(moto_stack, event("post-program-endpoint.json"))
    endpoint_id = created["endpoint_id"]
    status, rotated = admin(
        moto_stack, "POST", f"/webhook-endpoints/{endpoint_id}/rotate-secret", grace_hours="2"
    )
    assert status == 200
    assert rotated["secret"] != created["secret"]
    store = WebhookEndpointStore(
        Settings.from_environment(moto_stack.runtime_environment("WebhookEndpointsFunction"))
    )
    stored = store.get(endpoint_id)
    assert stored is not None
    assert [secret for secret, _ in stored.secrets] == [rotated["secret"], created["secret"]]
    assert stored.secrets[0][1] is None
    assert stored.secrets[1][1] is not None
    assert stored.secrets[1][1].isoformat().replace("+00:00", "Z") == rotated["previous_valid_until"]
    read = admin(moto_stack, "GET", f"/webhook-endpoints/{endpoint_id}")[1]
    assert read["previous_secret_valid_until"] == rotated["previous_valid_until"]
    # At once (grace 0): only the newest signs.
    _, last = admin(moto_stack, "POST", f"/webhook-endpoints/{endpoint_id}/rotate-secret", grace_hours="0")
    stored = store.get(endpoint_id)
    assert stored is not None
    assert [secret for secret, _ in stored.secrets] == [last["secret"]]


def test_secrets_never_reach_the_logs(moto_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    log = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", log)  # bound to stdout at import
    level = logger._logger.level
    logger._logger.setLevel(logging.DEBUG)  # tests run at WARNING (conftest); setLevel clears the cache
    try:
        _, created = call(moto_stack, event("post-program-endpoint.json"))
        _, rotated = admin(moto_stack, "POST", f"/webhook-endpoints/{created['endpoint_id']}/rotate-secret")
    finally:
        logger._logger.setLevel(level)
    written = log.getvalue()
    assert "webhook endpoint created" in written
    assert "webhook endpoint secret rotated" in written
    for secret in (created["secret"], rotated["secret"]):
        assert secret.removeprefix("whsec_") not in written


def test_an_owner_has_at_most_twenty_endpoints(moto_stack: LocalStack) -> None:
    for _ in range(20):
        assert partner(moto_stack, "shop-a", "POST", "/webhook-endpoints", {"url": PUBLIC})[0] == 201
    status, refused = partner(moto_stack, "shop-a", "POST", "/webhook-endpoints", {"url": PUBLIC})
    assert (status, refused["error"]["code"]) == (422, "invalid_request")
    assert partner(moto_stack, "shop-b", "POST", "/webhook-endpoints", {"url": PUBLIC})[0] == 201


def _loopback_stack(stack: LocalStack) -> None:
    """As the served local stack sets it: receivers on this machine are allowed."""
    stack.parameters["WebhookPrivateTargets"] = "allow-loopback"


def test_a_test_message_is_signed_with_every_active_secret(moto_stack: LocalStack) -> None:
    _loopback_stack(moto_stack)
    with webhook_receiver() as receiver:
        status, created = admin(moto_stack, "POST", "/webhook-endpoints", {"url": receiver.url})
        assert status == 201
        path = f"/webhook-endpoints/{created['endpoint_id']}"
        _, rotated = admin(moto_stack, "POST", f"{path}/rotate-secret", grace_hours="1")
        status, result = admin(moto_stack, "POST", f"{path}/test")
    assert status == 200
    assert (result["outcome"], result["status_code"], result["error"]) == ("delivered", 200, None)
    (got,) = receiver.received
    assert got.headers["webhook-id"] == result["message_id"]
    assert len(got.headers["webhook-signature"].split(" ")) == 2  # the new secret's and the previous one's
    for secret in (created["secret"], rotated["secret"]):  # a receiver with either one accepts it
        payload = Webhook(secret).verify(got.body, got.headers)
        assert payload["type"] == "webhook.test"
        assert payload["data"]["endpoint_id"] == created["endpoint_id"]
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(got.body, got.headers)


@pytest.mark.parametrize(("answer", "outcome"), [(410, "gone"), (503, "failed"), (302, "failed")])
def test_a_test_message_says_how_the_receiver_answered(
    moto_stack: LocalStack, answer: int, outcome: str
) -> None:
    _loopback_stack(moto_stack)
    with webhook_receiver() as receiver:
        receiver.status = answer
        receiver.headers = {"retry-after": "7", "location": "https://elsewhere.example/"}
        _, created = admin(moto_stack, "POST", "/webhook-endpoints", {"url": receiver.url})
        status, result = admin(moto_stack, "POST", f"/webhook-endpoints/{created['endpoint_id']}/test")
    assert status == 200
    assert (result["outcome"], result["status_code"]) == (outcome, answer)
    assert result["error"] == f"the receiver answered {answer}"
    assert len(receiver.received) == 1  # a redirect is not followed


def test_a_receiver_that_is_not_there_is_a_failed_attempt(moto_stack: LocalStack) -> None:
    _loopback_stack(moto_stack)
    with webhook_receiver() as receiver:
        url = receiver.url  # the port is closed once the block ends
    _, created = partner(moto_stack, "shop-a", "POST", "/webhook-endpoints", {"url": url})
    status, result = partner(
        moto_stack, "shop-a", "POST", f"/webhook-endpoints/{created['endpoint_id']}/test"
    )
    assert status == 200
    assert (result["outcome"], result["status_code"]) == ("failed", None)
    assert "no answer from 127.0.0.1" in result["error"]


def test_the_target_is_checked_again_when_sending(moto_stack: LocalStack) -> None:
    """Saved while loopback was allowed, sent where it is not: refused, and nothing reaches the receiver."""
    settings = Settings.from_environment(moto_stack.runtime_environment("WebhookEndpointsFunction"))
    store = WebhookEndpointStore(settings)
    with webhook_receiver() as receiver:
        saved = WebhookEndpoints(store, PrivateTargets.ALLOW_LOOPBACK).create(
            EndpointOwner.program(), WebhookEndpointSettings(url=receiver.url)
        )
        result = WebhookEndpoints(store, PrivateTargets.REFUSE).send_test(
            EndpointOwner.program(), saved.endpoint_id
        )
    assert (result.outcome, result.status_code) == ("refused", None)
    assert "loopback" in str(result.error)
    assert receiver.received == []
