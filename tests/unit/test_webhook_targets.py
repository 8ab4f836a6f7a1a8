"""Webhook targets: https only, and every address a host resolves to must be public (the local stack may
allow its own loopback receivers)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from partnerpoints.exceptions import InvalidField
from partnerpoints.logic.webhook_targets import PrivateTargets, TargetRefused, check_target, checked_url

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"


def resolving_to(*addresses: str):  # type: ignore[no-untyped-def]
    def resolver(host: str, port: int) -> Sequence[str]:
        return list(addresses)

    return resolver


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.0.0.7",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # the cloud metadata service
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",  # loopback dressed as IPv6
        "::ffff:10.1.2.3",
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "192.0.2.10",  # documentation range
    ],
)
def test_a_host_resolving_to_a_non_public_address_is_refused(address: str) -> None:
    with pytest.raises(TargetRefused, match="public addresses only"):
        check_target("https://hooks.example.com/in", PrivateTargets.REFUSE, resolving_to(address))


def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    with pytest.raises(TargetRefused, match=re.escape("10.0.0.1")):
        check_target("https://hooks.example.com/", PrivateTargets.REFUSE, resolving_to(PUBLIC_V4, "10.0.0.1"))


def test_a_public_host_is_accepted_with_every_address_it_resolves_to() -> None:
    target = check_target(
        "https://hooks.example.com:8443/in?x=1", PrivateTargets.REFUSE, resolving_to(PUBLIC_V4, PUBLIC_V6)
    )
    assert (target.host, target.port, target.addresses) == ("hooks.example.com", 8443, (PUBLIC_V4, PUBLIC_V6))


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://hooks.example.com/", "https://"),
        ("ftp://hooks.example.com/", "https://"),
        ("https://user:pass@hooks.example.com/", "credentials"),
        ("https://hooks.example.com/#top", "fragment"),
        ("https:///path-only", "no host"),
        ("https://hooks.example.com:99999/", "port"),
        ("hooks.example.com/in", "no host"),
        ("https://[::1/in", "cannot be read"),
    ],
)
def test_urls_that_are_not_plain_https_are_refused(url: str, problem: str) -> None:
    with pytest.raises(TargetRefused, match=problem):
        check_target(url, PrivateTargets.REFUSE, resolving_to(PUBLIC_V4))


def test_a_name_that_does_not_resolve_is_refused() -> None:
    def failing(host: str, port: int) -> Sequence[str]:
        raise OSError("Name or service not known")

    with pytest.raises(TargetRefused, match="does not resolve"):
        check_target("https://nowhere.invalid/", PrivateTargets.REFUSE, failing)


def test_the_local_stacks_exception_is_loopback_only() -> None:
    local = PrivateTargets.ALLOW_LOOPBACK
    assert check_target("http://127.0.0.1:8765/hook", local, resolving_to("127.0.0.1")).port == 8765
    assert check_target("https://localhost/hook", local, resolving_to("::1")).addresses == ("::1",)
    with pytest.raises(TargetRefused, match="private address"):
        check_target("http://10.0.0.8/", local, resolving_to("10.0.0.8"))
    with pytest.raises(TargetRefused, match="https://"):
        check_target("http://hooks.example.com/", local, resolving_to(PUBLIC_V4))


def test_localhost_really_resolved_is_refused_in_aws_mode() -> None:
    with pytest.raises(TargetRefused, match="loopback"):
        check_target("https://localhost:9/", PrivateTargets.REFUSE)


def test_a_refused_url_is_a_field_error_of_the_body() -> None:
    with pytest.raises(InvalidField) as refused:
        checked_url("https://10.1.1.1/", PrivateTargets.REFUSE, resolving_to("10.1.1.1"))
    assert refused.value.details == [
        {
            "path": "body.url",
            "message": "10.1.1.1 resolves to 10.1.1.1, a private address: "
            "webhooks go to public addresses only",
        }
    ]


@pytest.mark.parametrize("host", ["bad\x00host.example", "a..b.example", "x" * 300])
def test_a_name_no_resolver_takes_is_refused_not_an_error(host: str) -> None:
    with pytest.raises(TargetRefused, match="does not resolve"):
        check_target(f"https://{host}/", PrivateTargets.REFUSE)
