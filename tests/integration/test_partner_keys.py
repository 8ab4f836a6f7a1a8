"""Partner API keys: issued by the operator (shown once, kept as a digest), listed, revoked, expiring;
what the authorizer of the /partner routes accepts and refuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from partnerpoints.dal.partner_key_store import PartnerKeyStore
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.dal.partner_tables import PartnerApiKeyItem
from partnerpoints.dal.tables import bind_tables
from partnerpoints.exceptions import ApiKeyRefused
from partnerpoints.logic.partner_keys import PartnerKeys
from partnerpoints.logic.postback_credentials import token_digest
from partnerpoints.settings import Settings
from partnerpoints_infra.provision import LocalStack
from tests.integration.test_admin_api import call, event


@pytest.fixture
def shop(moto_stack: LocalStack) -> LocalStack:
    assert call(moto_stack, event("post-partner.json"))[0] == 201
    return moto_stack


def _at(name: str, path: str, parameters: dict[str, str], **changes: Any) -> dict[str, Any]:
    request = event(name, pathParameters=parameters, **changes)
    request["rawPath"] = request["requestContext"]["http"]["path"] = path
    return request


def issue(stack: LocalStack, partner_id: str = "shop-a", **body: Any) -> tuple[int, dict[str, Any]]:
    path = f"/admin/partners/{partner_id}/api-keys"
    request = _at(
        "post-partner-api-key.json",
        path,
        {"partner_id": partner_id},
        body=body or {"description": "BI export"},
    )
    return call(stack, request)


def keys_of(stack: LocalStack, partner_id: str = "shop-a") -> tuple[int, Any]:
    path = f"/admin/partners/{partner_id}/api-keys"
    return call(stack, _at("get-partner-api-keys.json", path, {"partner_id": partner_id}))


def revoke(stack: LocalStack, key_id: str, partner_id: str = "shop-a") -> tuple[int, Any]:
    path = f"/admin/partners/{partner_id}/api-keys/{key_id}"
    return call(stack, _at("delete-partner-api-key.json", path, {"partner_id": partner_id, "key_id": key_id}))


def partner_keys(stack: LocalStack, now: datetime | None = None) -> PartnerKeys:
    settings = Settings.from_environment(stack.runtime_environment())
    return PartnerKeys(
        PartnerKeyStore(settings), PartnerStore(settings), clock=lambda: now or datetime.now(UTC)
    )


def test_a_key_is_shown_once_and_stored_as_its_digest_only(shop: LocalStack) -> None:
    status, issued = issue(shop)
    assert status == 201
    api_key = issued["api_key"]
    assert api_key.startswith(f"ppk_{issued['key_id']}_")
    assert len(api_key) > 50
    assert (issued["status"], issued["description"], issued["last_used_at"]) == ("active", "BI export", None)
    bind_tables(Settings.from_environment(shop.runtime_environment()))
    stored = PartnerApiKeyItem.get(issued["key_id"])
    assert stored.digest == token_digest(api_key)
    assert api_key not in json.dumps(stored.attribute_values, default=str)
    status, listed = keys_of(shop)
    assert status == 200
    assert [key["key_id"] for key in listed["keys"]] == [issued["key_id"]]
    assert "api_key" not in listed["keys"][0]
    assert "digest" not in listed["keys"][0]


def test_the_key_authenticates_its_partner_and_marks_its_use(shop: LocalStack) -> None:
    issued = issue(shop)[1]
    now = datetime.now(UTC)
    key = partner_keys(shop, now).authenticate(issued["api_key"])
    assert (key.partner_id, key.key_id) == ("shop-a", issued["key_id"])
    listed = keys_of(shop)[1]["keys"][0]
    assert datetime.fromisoformat(listed["last_used_at"]) == now
    # Within a minute, a use writes nothing more.
    partner_keys(shop, now + timedelta(seconds=30)).authenticate(issued["api_key"])
    assert datetime.fromisoformat(keys_of(shop)[1]["keys"][0]["last_used_at"]) == now


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # the secret changed
        lambda key: key.replace("ppk_", "ppx_"),
        lambda key: "ppk_" + "a" * 12 + key[16:],  # another key id
        lambda key: "",
        lambda key: "Bearer " + key,
    ],
    ids=["secret", "prefix", "key-id", "empty", "scheme"],
)
def test_anything_but_the_exact_key_is_refused(shop: LocalStack, mangle: Any) -> None:
    issued = issue(shop)[1]
    with pytest.raises(ApiKeyRefused) as refused:
        partner_keys(shop).authenticate(mangle(issued["api_key"]))
    assert refused.value.code == "invalid_api_key"


def test_revoked_and_expired_keys_are_refused_by_name(shop: LocalStack) -> None:
    soon = datetime.now(UTC) + timedelta(days=1)
    expiring = issue(shop, description="short", expires_at=soon.isoformat())[1]
    revoked = issue(shop)[1]
    status, answer = revoke(shop, revoked["key_id"])
    assert (status, answer.get("status")) == (200, "revoked"), answer
    first_revocation = answer["revoked_at"]
    assert revoke(shop, revoked["key_id"])[1]["revoked_at"] == first_revocation  # again: unchanged
    with pytest.raises(ApiKeyRefused) as refused:
        partner_keys(shop).authenticate(revoked["api_key"])
    assert refused.value.code == "api_key_revoked"
    keys = partner_keys(shop, soon + timedelta(seconds=1))
    with pytest.raises(ApiKeyRefused) as refused:
        keys.authenticate(expiring["api_key"])
    assert refused.value.code == "api_key_expired"
    assert partner_keys(shop, soon - timedelta(seconds=1)).authenticate(expiring["api_key"]).key_id


def test_a_key_belongs_to_one_partner(shop: LocalStack) -> None:
    other = {**json.loads(event("post-partner.json")["body"]), "partner_id": "shop-b"}
    assert call(shop, event("post-partner.json", body=other))[0] == 201
    key_of_b = issue(shop, "shop-b")[1]
    status, refused = revoke(shop, key_of_b["key_id"], partner_id="shop-a")
    assert (status, refused["error"]["code"]) == (404, "api_key_not_found")
    assert keys_of(shop, "shop-a")[1]["keys"] == []
    assert partner_keys(shop).authenticate(key_of_b["api_key"]).partner_id == "shop-b"


def test_bad_requests_name_the_problem(shop: LocalStack) -> None:
    status, answer = issue(shop, "no-such-shop")
    assert (status, answer["error"]["code"]) == (404, "partner_not_found")
    status, answer = issue(shop, description="x" * 201)
    assert (status, answer["error"]["details"][0]["path"]) == (422, "body.description")
    status, answer = issue(shop, expires_at="tomorrow")
    assert (status, answer["error"]["details"][0]["path"]) == (422, "body.expires_at")
    status, answer = issue(shop, expires_at="2020-01-01T00:00:00Z")
    assert (status, answer["error"]["details"][0]["path"]) == (422, "body.expires_at")
    status, answer = revoke(shop, "NOT-A-KEY-ID")
    assert status == 422
    assert revoke(shop, "abcdefabcdef")[0] == 404
    assert keys_of(shop, "no-such-shop")[0] == 404
