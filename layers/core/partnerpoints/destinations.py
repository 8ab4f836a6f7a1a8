"""Hosts and destination templates: every place a shopper can be sent to is checked here.

Standard library only, because the click function uses it on its hot path. Partner domains are
normalised hostnames; destinations are https URL templates whose scheme and host hold no macro; a
destination's or fallback's host must be an allowed domain or a subdomain of one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote, urlsplit

LINK_MACROS = frozenset({"click_id", "sub1", "sub2", "sub3", "sub4", "sub5", "link_id", "partner_id"})
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_MACRO = re.compile(r"\{([^{}]*)\}")


def normalize_hostname(value: str) -> str:
    """A lower-cased ASCII (IDNA) hostname with at least two labels; no scheme, port, path or IP."""
    host = value.strip().lower().rstrip(".")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise ValueError(f"{value!r} is not a valid hostname") from error
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or labels[-1].isdigit() or not all(map(_LABEL.match, labels)):
        raise ValueError(f"{value!r} is not a hostname (like shop.example.com)")
    return host


def host_allowed(host: str, allowed_domains: list[str]) -> bool:
    """Whether `host` is an allowed domain or a subdomain of one (`evil-shop.com` is not `shop.com`)."""
    return any(host == domain or host.endswith("." + domain) for domain in allowed_domains)


def https_host(url: str, what: str) -> str:
    """The normalised host of an https URL with no userinfo and no port but 443."""
    if not url.lower().startswith("https://"):
        raise ValueError(f"{what} must be an https:// URL")
    parts = urlsplit(url)
    authority = parts.netloc
    if "@" in authority or "\\" in authority:
        raise ValueError(f"{what} may not carry user information")
    if parts.port not in (None, 443):
        raise ValueError(f"{what} may not use port {parts.port}")
    return normalize_hostname(parts.hostname or "")


def destination_host(template: str) -> str:
    """The host of a link destination template; macros may fill the path, query and fragment only."""
    if "://" in template:
        scheme_and_authority = template[: template.index("://") + 3]
        rest = template[len(scheme_and_authority) :]
        authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
        if "{" in scheme_and_authority + authority or "}" in scheme_and_authority + authority:
            raise ValueError("macros may not appear in the scheme or host of a destination")
    if template.count("{") != template.count("}"):
        raise ValueError("unbalanced braces in the destination")
    unknown = sorted(set(_MACRO.findall(template)) - LINK_MACROS)
    if unknown:
        raise ValueError(f"unknown macros {unknown}; allowed: {sorted(LINK_MACROS)}")
    if any(character.isspace() for character in template):
        raise ValueError("the destination may not contain whitespace")
    return https_host(_MACRO.sub("x", template), "the destination")


def fill_destination(template: str, values: Mapping[str, str]) -> str:
    """The template with each macro replaced by its value, URL-encoded whole (a value can add no
    `/`, `?`, `#`, `@` or `:` of its own); macros without a value become empty."""
    return _MACRO.sub(lambda match: quote(values.get(match.group(1), ""), safe=""), template)


def redirect_target(template: str, values: Mapping[str, str], allowed_domains: list[str]) -> str | None:
    """The filled destination if it is still an https URL on an allowed domain, else None.

    Checked again at redirect time, not only when saved: a partner's domains may have narrowed since,
    and the answer must never depend on the saved check alone.
    """
    try:
        configured_host = destination_host(template)
        url = fill_destination(template, values)
        landed_host = https_host(url, "the destination")
    except ValueError:
        return None
    if landed_host != configured_host or not host_allowed(landed_host, allowed_domains):
        return None
    return url
