"""Where a webhook may be sent: an https URL whose host resolves to public addresses only.

Checked when an endpoint is saved and again before every delivery, after DNS resolution, so that a
name which later points inside the network (DNS rebinding, a cloud metadata address, a private load
balancer) is never called. The local stack may allow loopback receivers (plain http too), for the test
receivers it runs on this machine; AWS never does (the WebhookPrivateTargets parameter).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from partnerpoints.exceptions import InvalidField

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]


class PrivateTargets(StrEnum):
    REFUSE = "refuse"  # AWS: public addresses only
    ALLOW_LOOPBACK = "allow-loopback"  # the local stack: its own test receivers on 127.0.0.1 / ::1


class TargetRefused(ValueError):
    """Why a URL may not be called; the message names the problem for the endpoint's owner."""


@dataclass(frozen=True)
class Target:
    url: str
    host: str
    port: int
    addresses: tuple[str, ...]  # what the host resolved to, every one of them checked


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (A and AAAA)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def _unmapped(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _problem_with(address: Address, private: PrivateTargets) -> str | None:
    plain = _unmapped(address)
    if plain.is_loopback:
        return None if private is PrivateTargets.ALLOW_LOOPBACK else "a loopback address"
    if plain.is_link_local:
        return "a link-local address (such as a cloud metadata service)"
    if plain.is_private:
        return "a private address"
    if plain.is_multicast or plain.is_unspecified or plain.is_reserved or not plain.is_global:
        return "an address that is not public"
    return None


def check_target(url: str, private: PrivateTargets, resolver: Resolver = resolve) -> Target:
    """The URL's target once every address of its host is acceptable; TargetRefused otherwise."""
    try:
        parts = urlsplit(url)
    except ValueError as error:  # e.g. an unclosed [IPv6 literal
        raise TargetRefused(f"the URL cannot be read: {error}") from error
    try:
        port = parts.port
    except ValueError as error:
        raise TargetRefused("the URL's port is not a number from 0 to 65535") from error
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("the URL must not carry credentials: the signature authenticates each delivery")
    if parts.fragment:
        raise TargetRefused("the URL must not have a fragment (#...)")
    host = parts.hostname
    if not host:
        raise TargetRefused("the URL has no host")
    if parts.scheme not in {"https", "http"}:
        raise TargetRefused("the URL must start with https://")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = list(resolver(host, port))
    except (OSError, ValueError) as error:  # ValueError: a name no resolver takes (a NUL, an empty label)
        raise TargetRefused(f"{host} does not resolve") from error
    if not addresses:
        raise TargetRefused(f"{host} does not resolve")
    for text in addresses:
        problem = _problem_with(ipaddress.ip_address(text.split("%")[0]), private)
        if problem:
            raise TargetRefused(f"{host} resolves to {text}, {problem}: webhooks go to public addresses only")
    loopback_only = all(_unmapped(ipaddress.ip_address(text.split("%")[0])).is_loopback for text in addresses)
    if parts.scheme == "http" and not (private is PrivateTargets.ALLOW_LOOPBACK and loopback_only):
        raise TargetRefused("the URL must start with https://")
    return Target(url=url, host=host, port=port, addresses=tuple(addresses))


def checked_url(url: str, private: PrivateTargets, resolver: Resolver = resolve) -> str:
    """For a request body: the URL as given, or InvalidField naming `body.url`."""
    try:
        return check_target(url, private, resolver).url
    except TargetRefused as error:
        raise InvalidField(
            "the webhook URL is not one the program may call", [{"path": "body.url", "message": str(error)}]
        ) from error
