"""ClickRedirectFunction through its real handler, on tables and a secret built from the template: a
link made through the admin API redirects a shopper and stores the click as docs/clicks.md describes."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from partnerpoints.dal.click_store import ClickStore
from partnerpoints.dal.click_tables import ClickItem
from partnerpoints.dal.signing_secret import read_signing_secret
from partnerpoints.dal.tables import bind_tables
from partnerpoints.logic.click_redirect import ClickRedirector
from partnerpoints.models.clicks import ClickRequest
from partnerpoints.settings import Settings
from partnerpoints.signing import ClickKeys
from partnerpoints_infra.functions import invoke
from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import PROJECT_ROOT
from tests.integration.test_admin_api import call as admin_call
from tests.integration.test_admin_api import event as admin_event

SHOPPER_IP = "198.51.100.7"


def click_event(name: str = "get-click.json", **changes: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PROJECT_ROOT / "events/ClickRedirectFunction" / name).read_text())
    loaded.update(changes)
    return loaded


def click(stack: LocalStack, request: dict[str, Any]) -> dict[str, Any]:
    return invoke(stack, "ClickRedirectFunction", request)  # type: ignore[no-any-return]


def stored(stack: LocalStack, click_id: str) -> ClickItem:
    bind_tables(Settings.from_environment(stack.runtime_environment()))
    return ClickItem.get(click_id)


def emitted_metrics(output: str) -> list[dict[str, Any]]:
    return [blob for blob in map(json.loads, filter(None, output.splitlines())) if "_aws" in blob]


@pytest.fixture
def shop(moto_stack: LocalStack) -> LocalStack:
    assert admin_call(moto_stack, admin_event("post-partner.json"))[0] == 201
    assert admin_call(moto_stack, admin_event("post-link.json"))[0] == 201
    return moto_stack


def test_a_shopper_is_redirected_with_a_fresh_click_id_and_the_click_is_stored(
    shop: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    before = datetime.now(UTC)
    response = click(shop, click_event())
    assert response["statusCode"] == 302
    assert response["headers"]["Cache-Control"] == "no-store"
    location = urlsplit(response["headers"]["Location"])
    assert (location.hostname, location.path) == ("www.shop-a.example", "/landing")
    query = parse_qs(location.query)
    click_id = query["cid"][0]
    assert len(click_id) == 26
    assert query["s1"] == ["newsletter"]

    item = stored(shop, click_id)
    assert (item.link_id, item.partner_id) == ("shop-a-home", "shop-a")
    assert item.member_id is None
    assert item.sub_ids.as_dict() == {"sub1": "newsletter", "sub2": "nov-week-4"}
    assert (item.bot, item.unique, item.clicks) == (False, True, 1)
    assert item.referrer_host == "app.partnerpoints.example"
    assert item.user_agent.startswith("Mozilla/5.0 (iPhone")
    assert before - timedelta(seconds=1) <= item.clicked_at <= datetime.now(UTC)
    retention = item.expires_at - item.clicked_at
    assert timedelta(days=37) - timedelta(seconds=1) <= retention <= timedelta(days=37)
    assert len(item.ip_hash) == 64

    metrics = emitted_metrics(capsys.readouterr().out)
    clicks = next(blob for blob in metrics if "Clicks" in blob)
    assert clicks["partner_id"] == "shop-a"
    assert (clicks["Clicks"], clicks["UniqueClicks"], clicks["BotClicks"]) == ([1.0], [1.0], [0.0])


def test_the_raw_ip_is_stored_nowhere(shop: LocalStack) -> None:
    click(shop, click_event())
    table = shop.table_name("ClicksTable")
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    assert items
    assert SHOPPER_IP not in json.dumps(items)


def test_a_repeat_within_a_minute_reuses_the_click_and_counts_on_it(
    shop: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    first = click(shop, click_event())["headers"]["Location"]
    capsys.readouterr()
    repeat = click(shop, click_event())["headers"]["Location"]
    assert repeat == first  # same click id
    click_id = parse_qs(urlsplit(first).query)["cid"][0]
    item = stored(shop, click_id)
    assert (item.clicks, item.unique) == (2, True)
    [metrics] = [blob for blob in emitted_metrics(capsys.readouterr().out) if "Clicks" in blob]
    assert (metrics["Clicks"], metrics["UniqueClicks"]) == ([1.0], [0.0])


def test_a_link_preview_is_redirected_and_stored_as_a_bot(shop: LocalStack) -> None:
    response = click(shop, click_event("head-click-link-preview-bot.json"))
    assert response["statusCode"] == 302
    click_id = parse_qs(urlsplit(response["headers"]["Location"]).query)["cid"][0]
    item = stored(shop, click_id)
    assert (item.bot, item.unique) == (True, False)
    assert item.member_id is None


def test_a_member_link_attributes_the_click_to_its_member(shop: LocalStack) -> None:
    status, member_link = admin_call(shop, admin_event("post-member-link.json"))
    assert status == 201
    url = urlsplit(member_link["url"])
    assert url.path == "/c/shop-a-home"
    raw_query = f"{url.query}&sub1=app"
    response = click(shop, click_event(rawQueryString=raw_query))
    click_id = parse_qs(urlsplit(response["headers"]["Location"]).query)["cid"][0]
    assert stored(shop, click_id).member_id == "m-1001"

    forged = raw_query.replace("m=m-1001.", "m=m-1002.")
    response = click(shop, click_event(rawQueryString=forged))
    assert response["statusCode"] == 302  # still redirected, just not attributed
    click_id = parse_qs(urlsplit(response["headers"]["Location"]).query)["cid"][0]
    assert stored(shop, click_id).member_id is None


def test_unknown_links_and_bad_sub_ids_get_a_small_html_page(moto_stack: LocalStack) -> None:
    for name, status, says in (
        ("get-click.json", 404, "Link not found"),
        ("get-click-sub-id-too-long.json", 400, "sub1 is 101 characters long"),
    ):
        response = click(moto_stack, click_event(name))
        assert response["statusCode"] == status
        assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"
        assert says in response["body"]
        assert "Location" not in response["headers"]
    bad_utf8 = click(moto_stack, click_event(rawQueryString="sub1=%ff%fe"))
    assert bad_utf8["statusCode"] == 400
    assert "UTF-8" in bad_utf8["body"]


def test_a_paused_link_sends_shoppers_to_the_partners_fallback(shop: LocalStack) -> None:
    assert admin_call(shop, admin_event("put-link-pause.json"))[0] == 200
    # The pause may take up to the cache's minute; this environment has not cached the link yet.
    response = click(shop, click_event())
    assert (response["statusCode"], response["headers"]["Location"]) == (302, "https://www.shop-a.example/")


def test_a_blocked_referrer_is_sent_to_the_fallback_and_counted(
    shop: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    request = click_event()
    request["headers"]["referer"] = "https://www.coupon-spam.example/shop-a"
    capsys.readouterr()
    response = click(shop, request)
    assert (response["statusCode"], response["headers"]["Location"]) == (302, "https://www.shop-a.example/")
    [metrics] = [blob for blob in emitted_metrics(capsys.readouterr().out) if "BlockedClicks" in blob]
    # Counted as a click, as the partner's statement counts it: blocked, never unique or attributable.
    assert (metrics["BlockedClicks"], metrics["Clicks"], metrics["UniqueClicks"]) == ([1.0], [1.0], [0.0])
    bind_tables(Settings.from_environment(shop.runtime_environment()))
    [stored_click] = list(ClickItem.scan())
    assert (stored_click.blocked, stored_click.unique) == (True, False)
    assert stored_click.member_id is None


def test_simultaneous_repeats_make_one_unique_click(dynamodb_local_stack: LocalStack) -> None:
    """On DynamoDB Local (moto is not safe under concurrency): 16 identical clicks at once land on one
    item, counted 16 times, and exactly one of them is reported unique."""
    settings = Settings.from_environment(dynamodb_local_stack.runtime_environment("ClickRedirectFunction"))
    assert admin_call(dynamodb_local_stack, admin_event("post-partner.json"))[0] == 201
    assert admin_call(dynamodb_local_stack, admin_event("post-link.json"))[0] == 201
    keys = ClickKeys.from_secret(read_signing_secret(settings))
    redirector = ClickRedirector(ClickStore(settings), lambda: keys, now_ms=lambda: 1_795_384_812_345)
    request = ClickRequest(
        link_id="shop-a-home",
        method="GET",
        query={},
        source_ip=SHOPPER_IP,
        user_agent="Mozilla/5.0 Firefox/133.0",
    )
    # The link is cached before the race (another shopper's click): the race is on the click item.
    redirector.click(ClickRequest(**{**request.__dict__, "source_ip": "203.0.113.9"}))
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: redirector.click(request), range(16)))
    assert len({answer.click_id for answer in answers}) == 1
    assert sum(answer.unique for answer in answers) == 1
    bind_tables(settings)
    item = ClickItem.get(answers[0].click_id)
    assert (item.clicks, item.unique) == (16, True)
