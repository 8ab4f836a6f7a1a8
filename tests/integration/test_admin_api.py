"""AdminApiFunction through its real handler on tables built from the template, driven by the event
files in events/AdminApiFunction (the same ones `partnerpoints local invoke` runs)."""

from __future__ import annotations

import base64
import json
from typing import Any

from partnerpoints_infra.functions import invoke
from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import PROJECT_ROOT


def event(name: str, **changes: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PROJECT_ROOT / "events/AdminApiFunction" / name).read_text())
    if "body" in changes:
        loaded["body"] = json.dumps(changes.pop("body"))
    loaded.update(changes)
    return loaded


def body_of(name: str) -> dict[str, Any]:
    return json.loads(event(name)["body"])  # type: ignore[no-any-return]


def call(stack: LocalStack, request: dict[str, Any]) -> tuple[int, Any]:
    response = invoke(stack, "AdminApiFunction", request)
    return response["statusCode"], json.loads(response["body"])


def test_a_partner_is_created_once_and_read_back_normalised(moto_stack: LocalStack) -> None:
    status, created = call(moto_stack, event("post-partner.json"))
    assert status == 201
    assert created["allowed_domains"] == ["shop-a.example", "shop-a.co.uk"]  # lower-cased
    assert (created["points_percent"], created["category_points_percent"]) == ("5.0", {"electronics": "2.5"})

    status, again = call(moto_stack, event("post-partner.json"))
    assert (status, again["error"]["code"]) == (409, "already_exists")

    get = event(
        "get-partner-unknown.json", rawPath="/admin/partners/shop-a", pathParameters={"partner_id": "shop-a"}
    )
    get["requestContext"]["http"]["path"] = "/admin/partners/shop-a"
    status, read = call(moto_stack, get)
    # The postback credentials are in the creation answer only, never in a read.
    secret, token = created.pop("webhook_secret"), created.pop("postback_token")
    assert (status, read) == (200, created)
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert len(token) >= 40
    assert secret not in json.dumps(read)
    assert token not in json.dumps(read)


def test_invalid_partners_name_every_field(moto_stack: LocalStack) -> None:
    status, refused = call(moto_stack, event("post-partner-invalid.json"))
    assert status == 422
    paths = {detail["path"] for detail in refused["error"]["details"]}
    assert {
        "body.partner_id",
        "body.name",
        "body.currency",
        "body.allowed_domains.0",
        "body.points_percent",
        "body.commission_percent",
        "body.hold_days",
    } <= paths


def test_a_fallback_off_the_allowed_domains_is_refused(moto_stack: LocalStack) -> None:
    partner = {**body_of("post-partner.json"), "fallback_url": "https://elsewhere.example/"}
    status, refused = call(moto_stack, event("post-partner.json", body=partner))
    assert status == 422
    assert "fallback_url host elsewhere.example" in refused["error"]["details"][0]["message"]


def test_links_are_checked_against_their_partner_and_can_be_paused(moto_stack: LocalStack) -> None:
    assert call(moto_stack, event("post-partner.json"))[0] == 201
    status, link = call(moto_stack, event("post-link.json"))
    assert status == 201
    assert link["link_id"] == "shop-a-home"
    assert link["url"] == "https://abc123.execute-api.us-east-1.amazonaws.com/c/shop-a-home"

    status, refused = call(moto_stack, event("post-link-host-not-allowed.json"))
    assert status == 422
    assert refused["error"]["details"][0]["path"] == "body.destination"
    assert "shop-a.example.evil.test" in refused["error"]["details"][0]["message"]

    status, paused = call(moto_stack, event("put-link-pause.json"))
    assert (status, paused["status"], paused["created_at"]) == (200, "paused", link["created_at"])


def test_a_link_without_an_id_gets_a_fresh_one(moto_stack: LocalStack) -> None:
    assert call(moto_stack, event("post-partner.json"))[0] == 201
    link = {key: value for key, value in body_of("post-link.json").items() if key != "link_id"}
    ids = {call(moto_stack, event("post-link.json", body=link))[1]["link_id"] for _ in range(3)}
    assert len(ids) == 3
    assert all(len(link_id) == 8 for link_id in ids)


def test_narrowing_a_partner_does_not_let_an_old_link_be_re_pointed_off_list(moto_stack: LocalStack) -> None:
    assert call(moto_stack, event("post-partner.json"))[0] == 201
    assert call(moto_stack, event("post-link.json"))[0] == 201
    settings = {key: value for key, value in body_of("post-partner.json").items() if key != "partner_id"}
    narrowed = {**settings, "allowed_domains": ["shop-a.co.uk"], "fallback_url": None}
    put = event(
        "post-partner.json",
        body=narrowed,
        rawPath="/admin/partners/shop-a",
        routeKey="PUT /admin/partners/{partner_id}",
    )
    put["requestContext"]["http"].update(method="PUT", path="/admin/partners/shop-a")
    put["pathParameters"] = {"partner_id": "shop-a"}
    status, replaced = call(moto_stack, put)
    assert (status, replaced["allowed_domains"]) == (200, ["shop-a.co.uk"])
    status, refused = call(moto_stack, event("put-link-pause.json"))
    assert status == 422
    assert refused["error"]["details"][0]["path"] == "body.destination"


def test_a_partner_keeps_the_moment_its_time_zone_was_set(moto_stack: LocalStack) -> None:
    """Reports count a partner's local days from when its zone was set: that moment moves when the
    zone changes, and only then."""
    settings = {**body_of("post-partner.json"), "time_zone": "Europe/Berlin"}
    status, created = call(moto_stack, event("post-partner.json", body=settings))
    assert (status, created["time_zone"]) == (201, "Europe/Berlin")
    assert created["time_zone_since"] == created["created_at"]

    def put(changes: dict[str, Any]) -> tuple[int, Any]:
        body = {name: value for name, value in {**settings, **changes}.items() if name != "partner_id"}
        request = event("post-partner.json", body=body, rawPath="/admin/partners/shop-a")
        request["routeKey"] = "PUT /admin/partners/{partner_id}"
        request["requestContext"]["http"].update(method="PUT", path="/admin/partners/shop-a")
        request["pathParameters"] = {"partner_id": "shop-a"}
        return call(moto_stack, request)

    status, renamed = put({"name": "Shop A, renamed"})
    assert (status, renamed["time_zone_since"]) == (200, created["time_zone_since"])
    status, moved = put({"time_zone": "Asia/Kathmandu"})
    assert status == 200
    assert moved["time_zone_since"] > created["time_zone_since"]
    status, dropped = put({"time_zone": None})
    assert (status, dropped["time_zone"], dropped["time_zone_since"]) == (200, None, None)
    status, refused = put({"time_zone": "Mars/Olympus"})
    assert status == 422
    assert refused["error"]["details"][0]["path"] == "body.time_zone"


def _list_page(stack: LocalStack, query: dict[str, str]) -> tuple[int, Any]:
    request = event("get-partners.json", queryStringParameters=query)
    request["rawQueryString"] = "&".join(f"{name}={value}" for name, value in query.items())
    return call(stack, request)


def test_the_partner_list_pages_through_every_partner_once_without_secrets(moto_stack: LocalStack) -> None:
    created = {}
    for number in range(7):
        body = {**body_of("post-partner.json"), "partner_id": f"shop-{number}", "name": f"Shop {number}"}
        status, answer = call(moto_stack, event("post-partner.json", body=body))
        assert status == 201
        created[answer["partner_id"]] = answer

    seen: list[str] = []
    query = {"limit": "3"}
    for _ in range(5):  # 7 partners, 3 a page: three pages, the last without a cursor
        status, page = _list_page(moto_stack, query)
        assert status == 200
        assert len(page["partners"]) <= 3
        ids = [partner["partner_id"] for partner in page["partners"]]
        assert ids == sorted(ids)  # sorted within the page
        seen += ids
        for partner in page["partners"]:
            assert not {"webhook_secret", "postback_token"} & set(partner)
            assert partner["name"] == created[partner["partner_id"]]["name"]
        if page["next_cursor"] is None:
            break
        query = {"limit": "3", "cursor": page["next_cursor"]}
    assert sorted(seen) == sorted(created)  # every partner, none twice


def test_a_forged_partner_list_cursor_is_refused(moto_stack: LocalStack) -> None:
    forged = base64.urlsafe_b64encode(json.dumps({"member_id": "alice"}).encode()).decode()
    status, answer = _list_page(moto_stack, {"cursor": forged})
    assert (status, answer["error"]["code"]) == (400, "invalid_cursor")
    status, answer = _list_page(moto_stack, {"limit": "0"})
    assert status == 422
