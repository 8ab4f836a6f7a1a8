"""A click: check the request, resolve the link (cached), classify the shopper, record the click once,
and send the shopper to the link's destination, re-checked against the partner's allowed domains.

Knows no events and no DynamoDB: the handler turns a request into a `ClickRequest`, the store records.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Protocol
from urllib.parse import urlsplit

from crawlerdetect import CrawlerDetect

from partnerpoints.dal.click_store import ClickStore
from partnerpoints.dal.signing_secret import read_signing_secret
from partnerpoints.destinations import host_allowed, https_host, redirect_target
from partnerpoints.exceptions import StorageUnavailable
from partnerpoints.models.clicks import (
    FLOOD_WINDOW_SECONDS,
    MEMBER_TOKEN_PARAMETER,
    RETENTION_MARGIN_DAYS,
    SUB_ID_MAX_LENGTH,
    SUB_IDS,
    USER_AGENT_MAX_LENGTH,
    Click,
    ClickAnswer,
    ClickRequest,
    LinkTarget,
    Outcome,
)
from partnerpoints.settings import get_settings
from partnerpoints.signing import ClickKeys

LINK_CACHE_SECONDS = 60.0
LINK_CACHE_ENTRIES = 10_000
_LINK_ID = re.compile(r"^[A-Za-z0-9_-]{4,64}$")
_DAY_MS = 86_400_000


class ClickRecorder(Protocol):
    def load_target(self, link_id: str) -> LinkTarget | None: ...

    def record(self, click: Click) -> bool: ...


@dataclass
class _Cached:
    expires: float
    target: LinkTarget | None


class LinkCache:
    """Link configuration for at most `seconds`, unknown links included (a probe of random ids costs
    one read per id and minute, not one per request); the oldest entries go first when full."""

    def __init__(
        self,
        load: Callable[[str], LinkTarget | None],
        seconds: float = LINK_CACHE_SECONDS,
        entries: int = LINK_CACHE_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load, self._seconds, self._entries, self._clock = load, seconds, entries, clock
        self._cached: dict[str, _Cached] = {}

    def get(self, link_id: str) -> LinkTarget | None:
        now = self._clock()
        cached = self._cached.get(link_id)
        if cached is not None and cached.expires > now:
            return cached.target
        target = self._load(link_id)
        self._cached.pop(link_id, None)
        while len(self._cached) >= self._entries:
            del self._cached[next(iter(self._cached))]
        self._cached[link_id] = _Cached(now + self._seconds, target)
        return target


def _single_values(request: ClickRequest) -> tuple[dict[str, str], list[str]]:
    """sub1..sub5 and m, each given at most once; the problems found, for the 400 page."""
    values: dict[str, str] = {}
    problems: list[str] = []
    for name in (*SUB_IDS, MEMBER_TOKEN_PARAMETER):
        given = request.query.get(name, [])
        if len(given) > 1:
            problems.append(f"{name} is given {len(given)} times; give it once")
        elif given:
            values[name] = given[0]
    for name in SUB_IDS:
        value = values.get(name, "")
        if len(value) > SUB_ID_MAX_LENGTH:
            problems.append(f"{name} is {len(value)} characters long; at most {SUB_ID_MAX_LENGTH} are kept")
        elif not value.isprintable():
            problems.append(f"{name} contains control characters; only printable text is accepted")
    return values, problems


def referrer_host(referrer: str) -> str | None:
    try:
        host = urlsplit(referrer.strip()).hostname
    except ValueError:
        return None
    return host.rstrip(".") if host else None


class ClickRedirector:
    def __init__(
        self,
        store: ClickRecorder,
        keys: Callable[[], ClickKeys],
        now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
        crawlers: CrawlerDetect | None = None,
        cache: LinkCache | None = None,
    ) -> None:
        self._store = store
        self._keys = keys
        self._now_ms = now_ms
        self._crawlers = crawlers or CrawlerDetect()
        self._cache = cache or LinkCache(store.load_target)

    def is_bot(self, request: ClickRequest) -> bool:
        """HEAD requests (link previews, scanners), no user agent, or a known crawler's."""
        if request.method == "HEAD" or not request.user_agent.strip():
            return True
        return bool(self._crawlers.isCrawler(request.user_agent))

    def click(self, request: ClickRequest) -> ClickAnswer:
        routed = self._route(request)
        if isinstance(routed, ClickAnswer):
            return routed
        target, values = routed
        referrer = referrer_host(request.referrer)
        if referrer and host_allowed(referrer, list(target.blocked_referrer_domains)):
            return self._block(request, target, values)
        if not target.active:
            return _fallback_or(target, 404, "This offer is not available at the moment.")
        return self._redirect(request, target, values)

    def _route(self, request: ClickRequest) -> ClickAnswer | tuple[LinkTarget, dict[str, str]]:
        """The link and the request's values, or the answer when the click goes no further."""
        if not _LINK_ID.match(request.link_id):
            return _not_found()
        values, problems = _single_values(request)
        if problems:
            return ClickAnswer(Outcome.BAD_REQUEST, 400, message="; ".join(problems), problems=problems)
        target = self._cache.get(request.link_id)
        if target is None:
            return _not_found()
        return target, values

    def _click_of(
        self, request: ClickRequest, target: LinkTarget, values: dict[str, str], *, blocked: bool = False
    ) -> tuple[Click, str | None]:
        """The click to store (its id computed, no read) and the member token it carried."""
        keys = self._keys()
        bot = self.is_bot(request)
        token = values.pop(MEMBER_TOKEN_PARAMETER, None)
        member_id = keys.member_of(token) if token else None
        if bot or blocked:
            member_id = None  # never attributable
        now_ms = self._now_ms()
        window_start_ms = now_ms - now_ms % (FLOOD_WINDOW_SECONDS * 1000)
        ip_hash = keys.ip_hash(request.source_ip)
        user_agent = request.user_agent[:USER_AGENT_MAX_LENGTH]
        kind = "blocked" if blocked else "bot" if bot else "human"
        fingerprint = [ip_hash, target.link_id, member_id or "", kind, user_agent]
        click = Click(
            click_id=keys.click_id(fingerprint, window_start_ms),
            link_id=target.link_id,
            partner_id=target.partner_id,
            member_id=member_id,
            sub_ids={name: values[name] for name in SUB_IDS if values.get(name)},
            clicked_at_ms=now_ms,
            ip_hash=ip_hash,
            user_agent=user_agent,
            referrer_host=referrer_host(request.referrer),
            bot=bot,
            expires_at=(now_ms + (target.attribution_window_days + RETENTION_MARGIN_DAYS) * _DAY_MS) // 1000,
            blocked=blocked,
            time_zone=target.time_zone,
        )
        return click, token

    def _block(self, request: ClickRequest, target: LinkTarget, values: dict[str, str]) -> ClickAnswer:
        """Refused for its referrer, yet stored (blocked, never attributable) for the partner's figures."""
        click, _ = self._click_of(request, target, values, blocked=True)
        answer = _fallback_or(
            target, 403, "This link cannot be followed from the page you came from.", blocked=True
        )
        try:
            self._store.record(click)
        except StorageUnavailable:
            return replace(answer, unrecorded=click)
        return replace(answer, click_id=click.click_id, recorded=True)

    def _redirect(self, request: ClickRequest, target: LinkTarget, values: dict[str, str]) -> ClickAnswer:
        click, token = self._click_of(request, target, values)
        location = redirect_target(
            target.destination,
            {
                **values,
                "click_id": click.click_id,
                "link_id": target.link_id,
                "partner_id": target.partner_id,
            },
            list(target.allowed_domains),
        )
        if location is None:
            return _fallback_or(target, 404, "This offer is not available at the moment.")
        try:
            first, unrecorded = self._store.record(click), None
        except StorageUnavailable:
            # The shopper still lands on the store: the handler logs the whole click, so an order
            # carrying this click id can be matched by hand rather than being lost.
            first, unrecorded = False, click
        return ClickAnswer(
            Outcome.REDIRECTED,
            302,
            location=location,
            partner_id=target.partner_id,
            click_id=click.click_id,
            recorded=unrecorded is None,
            unique=first and not click.bot,
            bot=click.bot,
            member_token_rejected=bool(token) and click.member_id is None and not click.bot,
            unrecorded=unrecorded,
        )


def _not_found() -> ClickAnswer:
    return ClickAnswer(Outcome.NOT_FOUND, 404, message="This link does not exist.")


def _fallback_or(target: LinkTarget, status: int, message: str, blocked: bool = False) -> ClickAnswer:
    """The partner's fallback URL (re-checked like any destination), else an error page."""
    fallback = target.fallback_url
    if fallback is not None:
        try:
            allowed = host_allowed(https_host(fallback, "fallback_url"), list(target.allowed_domains))
        except ValueError:
            allowed = False
        if allowed:
            return ClickAnswer(
                Outcome.FALLBACK, 302, location=fallback, partner_id=target.partner_id, blocked=blocked
            )
    outcome = Outcome.BLOCKED if blocked else Outcome.NOT_FOUND
    return ClickAnswer(outcome, status, message=message, partner_id=target.partner_id, blocked=blocked)


@cache
def get_click_redirector() -> ClickRedirector:
    settings = get_settings()
    keys = cache(lambda: ClickKeys.from_secret(read_signing_secret(settings)))
    return ClickRedirector(ClickStore(settings), keys)
