"""No open redirect: whatever a request carries (path, query, headers) and whatever destination a link
holds (even one that no longer passes the partner's domains), every `Location` the click handler
answers with is an https URL on the partner's allow-list. Drives the real handler module."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partnerpoints.destinations import host_allowed
from partnerpoints.logic.click_redirect import ClickRedirector
from partnerpoints.models.clicks import LinkTarget
from partnerpoints.signing import ClickKeys
from partnerpoints_infra.functions import LocalLambdaContext
from tests.unit.test_click_redirect import FakeStore

ALLOWED = ("shop-a.example", "shop-a.co.uk")
EVIL = [
    "evil.example",
    "//evil.example",
    "\\\\evil.example",
    "/\\evil.example",
    "@evil.example",
    "user:pass@evil.example",
    "%2F%2Fevil.example",
    "%5C%5Cevil.example",
    "shop-a.example.evil.example",
    "shop-a.example@evil.example",
    "evil.example#@shop-a.example",
    "ｅｖｉｌ.example",  # noqa: RUF001 - full-width letters that IDNA folds to ASCII
    "xn--80ak6aa92e.com",
    "https://evil.example",
    "javascript:alert(1)",
    "\r\nLocation: https://evil.example",
]
anything = st.one_of(st.sampled_from(EVIL), st.text(max_size=40))


def destinations() -> st.SearchStrategy[str]:
    """Templates as saved, and as they might read after the partner's domains changed."""
    hosts = st.sampled_from(
        ["shop-a.example", "www.shop-a.co.uk", "evil.example", "shop-a.example.evil.example", "{sub1}"]
    )
    scheme = st.sampled_from(["https://", "http://", "//", "https:/", "{sub2}://"])
    rest = st.lists(
        st.one_of(st.sampled_from(["{click_id}", "{sub1}", "{sub3}", "/", "?q=", "#", "@", "\\"]), anything),
        max_size=5,
    ).map("".join)
    return st.builds(lambda s, h, r: f"{s}{h}/{r}", scheme, hosts, rest)


def event(link_id: str, raw_query: str, headers: dict[str, str], method: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": f"{method} /c/{{link_id}}",
        "rawPath": f"/c/{quote(link_id, safe='')}",
        "rawQueryString": raw_query,
        "headers": headers,
        "pathParameters": {"link_id": link_id},
        "requestContext": {
            "requestId": "fuzz",
            "http": {"method": method, "path": "/c/x", "sourceIp": "198.51.100.7", "userAgent": ""},
        },
        "isBase64Encoded": False,
    }


query_pairs = st.lists(
    st.tuples(
        st.sampled_from(["sub1", "sub2", "sub3", "sub4", "sub5", "m", "url", "redirect", "to"]), anything
    ),
    max_size=6,
)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    destination=destinations(),
    fallback=st.one_of(st.none(), st.sampled_from(["https://shop-a.example/", "https://evil.example/"])),
    link_id=st.one_of(st.just("shop-a-home"), anything),
    pairs=query_pairs,
    raw_suffix=st.one_of(st.just(""), anything),
    header_values=st.dictionaries(
        st.sampled_from(["host", "x-forwarded-host", "referer", "user-agent", "forwarded", "origin"]),
        anything,
    ),
    method=st.sampled_from(["GET", "HEAD"]),
)
def test_every_location_is_on_the_allow_list(
    click_handler: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    destination: str,
    fallback: str | None,
    link_id: str,
    pairs: list[tuple[str, str]],
    raw_suffix: str,
    header_values: dict[str, str],
    method: str,
) -> None:
    target = LinkTarget(
        link_id="shop-a-home",
        partner_id="shop-a",
        destination=destination,
        active=True,
        allowed_domains=ALLOWED,
        fallback_url=fallback,
        blocked_referrer_domains=(),
        attribution_window_days=30,
    )
    keys = ClickKeys.from_secret("f" * 48)
    monkeypatch.setattr(
        click_handler,
        "get_click_redirector",
        lambda: ClickRedirector(FakeStore({"shop-a-home": target}), lambda: keys),
    )
    raw_query = "&".join(f"{name}={quote(value, safe='')}" for name, value in pairs) + raw_suffix
    response = click_handler.lambda_handler(
        event(link_id, raw_query, header_values, method),
        LocalLambdaContext("ClickRedirectFunction", 256, 3, "us-east-1"),
    )
    assert response["statusCode"] in (302, 400, 403, 404)
    location = response["headers"].get("Location")
    if response["statusCode"] != 302:
        assert location is None
        json.dumps(response)  # a plain, serialisable page
        return
    parts = urlsplit(location)
    assert parts.scheme == "https"
    assert "@" not in parts.netloc
    assert "\\" not in parts.netloc
    assert not any(character in location for character in "\r\n\t ")
    assert parts.hostname is not None, location
    assert host_allowed(parts.hostname, list(ALLOWED)), location
