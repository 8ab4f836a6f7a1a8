"""What a partner or link may be configured to: hostnames, destination templates, fallbacks. The
property: whatever a template's macros are later filled with (URL-encoded), the URL's host is the one
checked when the link was saved."""

from __future__ import annotations

import secrets
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from partnerpoints.destinations import (
    LINK_MACROS,
    destination_host,
    fill_destination,
    host_allowed,
    normalize_hostname,
)
from partnerpoints.logic import partners
from partnerpoints.models.partners import LinkSettings, NewPartner

PARTNER = {
    "partner_id": "shop-a",
    "name": "Shop A",
    "currency": "EUR",
    "allowed_domains": ["shop-a.example"],
    "points_percent": "5",
    "commission_percent": "8.25",
}


@pytest.mark.parametrize(
    ("given_host", "normalised"),
    [
        ("Shop-A.Example", "shop-a.example"),
        ("www.shop.example.", "www.shop.example"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_hostnames_are_normalised(given_host: str, normalised: str) -> None:
    assert normalize_hostname(given_host) == normalised


@pytest.mark.parametrize(
    "bad",
    [
        "localhost",
        "https://shop.example",
        "shop.example/path",
        "10.0.0.1",
        "shop..example",
        "-shop.example",
        "sh op.example",
        "",
    ],
)
def test_non_hostnames_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="hostname"):
        normalize_hostname(bad)


def test_subdomains_are_allowed_lookalikes_are_not() -> None:
    assert host_allowed("www.shop-a.example", ["shop-a.example"])
    assert host_allowed("shop-a.example", ["shop-a.example"])
    assert not host_allowed("evilshop-a.example", ["shop-a.example"])
    assert not host_allowed("shop-a.example.evil.test", ["shop-a.example"])


@pytest.mark.parametrize(
    "template",
    [
        "http://shop-a.example/",  # not https
        "https://{sub1}.shop-a.example/",  # a macro in the host
        "https://shop-a.example{sub1}/",
        "{sub1}://shop-a.example/",
        "https://shop-a.example@evil.test/",  # userinfo: the real host is evil.test
        "https://evil.test\\@shop-a.example/",
        "https://shop-a.example:8443/",
        "//shop-a.example/",
        "javascript:alert(1)",
        "https://shop-a.example/?x={unknown}",
        "https://shop-a.example/?x={sub1",
        "https://shop-a.example/ x",
    ],
)
def test_unsafe_destinations_are_refused(template: str) -> None:
    with pytest.raises(ValidationError):
        LinkSettings(destination=template)


def test_percentages_are_exact_decimals_within_0_and_100() -> None:
    partner = NewPartner.model_validate(PARTNER)
    assert partner.commission_percent == Decimal("8.25")
    for bad in ("100.5", "-0.1", "5.0001", "lots"):
        with pytest.raises(ValidationError):
            NewPartner.model_validate({**PARTNER, "points_percent": bad})


def test_currencies_are_iso_4217() -> None:
    assert NewPartner.model_validate({**PARTNER, "currency": "JPY"}).currency == "JPY"
    for bad in ("eur", "EURO", "XYZ"):
        with pytest.raises(ValidationError):
            NewPartner.model_validate({**PARTNER, "currency": bad})


path_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="{}"), max_size=30)
macro = st.sampled_from(sorted(LINK_MACROS)).map(lambda name: "{" + name + "}")
any_value = st.text(max_size=40)


@settings(max_examples=1000)
@given(
    host=st.sampled_from(["shop-a.example", "www.shop-a.example", "a.b.shop-a.example"]),
    rest=st.lists(st.one_of(path_text, macro), max_size=6).map("".join),
    values=st.dictionaries(st.sampled_from(sorted(LINK_MACROS)), any_value),
)
def test_filled_destinations_keep_the_checked_host(host: str, rest: str, values: dict[str, str]) -> None:
    template = f"https://{host}/{rest}"
    try:
        checked = destination_host(template)
    except ValueError:
        return  # refused when saved: never served
    filled = fill_destination(template, values)
    assert urlsplit(filled).hostname == checked
    assert host_allowed(checked, ["shop-a.example"])


def test_generated_link_ids_never_start_like_a_command_line_option(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter(["-AbCdEfG", "_hIjKlMn", "q1w2e3r4"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda _: next(draws))
    assert partners.generated_link_id() == "q1w2e3r4"
