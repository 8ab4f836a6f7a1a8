"""The click logic over an in-memory store: sub ids, unknown and paused links, blocked referrers, bots,
flood windows, member tokens, the link cache and the redirect-time host check."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from partnerpoints.exceptions import StorageUnavailable
from partnerpoints.logic.click_redirect import ClickRedirector, LinkCache
from partnerpoints.models.clicks import Click, ClickRequest, LinkTarget, Outcome
from partnerpoints.signing import ClickKeys

KEYS = ClickKeys.from_secret("k" * 48)
NOW_MS = 1_795_384_812_345  # 12.345 s into a minute
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"
TARGET = LinkTarget(
    link_id="shop-a-home",
    partner_id="shop-a",
    destination="https://www.shop-a.example/landing?cid={click_id}&s1={sub1}&l={link_id}&p={partner_id}",
    active=True,
    allowed_domains=("shop-a.example",),
    fallback_url="https://shop-a.example/offers",
    blocked_referrer_domains=("coupon-scraper.example",),
    attribution_window_days=30,
)


class FakeStore:
    """Answers as ClickStore does: True for the first click of an id, False for repeats."""

    def __init__(self, targets: dict[str, LinkTarget] | None = None) -> None:
        self.targets = {TARGET.link_id: TARGET} if targets is None else targets
        self.loads: list[str] = []
        self.clicks: list[Click] = []
        self.failing = False

    def load_target(self, link_id: str) -> LinkTarget | None:
        self.loads.append(link_id)
        return self.targets.get(link_id)

    def record(self, click: Click) -> bool:
        if self.failing:
            raise StorageUnavailable("the click could not be recorded")
        first = all(stored.click_id != click.click_id for stored in self.clicks)
        self.clicks.append(click)
        return first


class Clock:
    def __init__(self) -> None:
        self.ms = NOW_MS

    def __call__(self) -> int:
        return self.ms


def redirector(store: FakeStore, clock: Clock | None = None) -> ClickRedirector:
    return ClickRedirector(store, lambda: KEYS, now_ms=clock or Clock())


def request(**changes: object) -> ClickRequest:
    base = ClickRequest(
        link_id="shop-a-home", method="GET", query={}, source_ip="198.51.100.7", user_agent=BROWSER
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_click_is_recorded_once_and_redirected_with_its_macros_encoded() -> None:
    store = FakeStore()
    answer = redirector(store).click(request(query={"sub1": ["a b&c=/d?"], "utm_source": ["x"]}))
    assert (answer.outcome, answer.status, answer.unique, answer.bot) == (
        Outcome.REDIRECTED,
        302,
        True,
        False,
    )
    assert answer.location is not None
    location = urlsplit(answer.location)
    assert location.hostname == "www.shop-a.example"
    assert "s1=a%20b%26c%3D%2Fd%3F" in location.query  # one value, whole
    assert parse_qs(location.query) == {
        "cid": [answer.click_id],
        "s1": ["a b&c=/d?"],
        "l": ["shop-a-home"],
        "p": ["shop-a"],
    }
    [click] = store.clicks
    assert click.click_id == answer.click_id
    assert len(click.click_id) == 26
    assert click.sub_ids == {"sub1": "a b&c=/d?"}
    assert click.member_id is None
    assert not click.bot
    assert click.ip_hash == KEYS.ip_hash("198.51.100.7")
    assert "198.51.100.7" not in click.ip_hash
    assert click.expires_at == NOW_MS // 1000 + (30 + 7) * 86_400


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"sub1": ["x" * 101]}, "sub1 is 101 characters long"),
        ({"sub3": ["tab\there"]}, "sub3 contains control characters"),
        ({"sub5": ["a", "b"]}, "sub5 is given 2 times"),
        ({"m": ["a", "b"]}, "m is given 2 times"),
    ],
)
def test_bad_sub_ids_are_a_400_naming_the_parameter(query: dict[str, list[str]], named: str) -> None:
    store = FakeStore()
    answer = redirector(store).click(request(query=query))
    assert (answer.status, answer.location) == (400, None)
    assert named in answer.message
    assert store.clicks == []
    assert store.loads == []


def test_sub_ids_of_100_printable_characters_are_kept() -> None:
    store = FakeStore()
    value = "ü€ -_.~!*'();:@&=+$,/?%#[]" + "x" * 74
    answer = redirector(store).click(request(query={"sub2": [value]}))
    assert answer.status == 302
    assert store.clicks[0].sub_ids == {"sub2": value}


@pytest.mark.parametrize("link_id", ["nope-nope", "x", "../../etc", "a" * 65, "%2F%2Fevil"])
def test_unknown_links_are_a_404_page(link_id: str) -> None:
    store = FakeStore()
    answer = redirector(store).click(request(link_id=link_id))
    assert (answer.outcome, answer.status, answer.location) == (Outcome.NOT_FOUND, 404, None)
    assert store.clicks == []


def test_a_paused_link_goes_to_the_fallback_or_is_a_404() -> None:
    paused = replace(TARGET, active=False)
    answer = redirector(FakeStore({TARGET.link_id: paused})).click(request())
    assert (answer.outcome, answer.location) == (Outcome.FALLBACK, "https://shop-a.example/offers")
    no_fallback = replace(paused, fallback_url=None)
    answer = redirector(FakeStore({TARGET.link_id: no_fallback})).click(request())
    assert (answer.status, answer.location) == (404, None)


def test_a_fallback_off_the_allowed_domains_is_never_followed() -> None:
    narrowed = replace(TARGET, active=False, fallback_url="https://elsewhere.example/")
    answer = redirector(FakeStore({TARGET.link_id: narrowed})).click(request())
    assert (answer.status, answer.location) == (404, None)


def test_blocked_referrers_go_to_the_fallback_or_a_403_and_are_counted() -> None:
    store = FakeStore()
    blocked = request(referrer="https://deals.coupon-scraper.example/shop-a")
    answer = redirector(store).click(blocked)
    assert (answer.outcome, answer.location, answer.blocked) == (
        Outcome.FALLBACK,
        "https://shop-a.example/offers",
        True,
    )
    store.targets[TARGET.link_id] = replace(TARGET, fallback_url=None)
    answer = ClickRedirector(store, lambda: KEYS).click(blocked)
    assert (answer.outcome, answer.status, answer.blocked) == (Outcome.BLOCKED, 403, True)
    # Stored to be counted on the partner's statement, never attributable and never unique.
    assert [(click.blocked, click.member_id, click.referrer_host) for click in store.clicks] == [
        (True, None, "deals.coupon-scraper.example")
    ] * 2
    assert answer.click_id == store.clicks[-1].click_id
    # A look-alike domain is not the blocked one.
    assert redirector(FakeStore()).click(request(referrer="https://notcoupon-scraper.example/")).status == 302


@pytest.mark.parametrize(
    ("method", "user_agent"),
    [
        ("HEAD", BROWSER),
        ("GET", ""),
        ("GET", "   "),
        ("GET", "Googlebot/2.1 (+http://www.google.com/bot.html)"),
        ("GET", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"),
        ("GET", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"),
        ("GET", "curl/8.5.0"),
    ],
)
def test_bots_are_redirected_but_stored_as_bots_and_never_attributed(method: str, user_agent: str) -> None:
    store = FakeStore()
    token = KEYS.member_token("m-1001")
    answer = redirector(store).click(request(method=method, user_agent=user_agent, query={"m": [token]}))
    assert (answer.status, answer.bot, answer.unique) == (302, True, False)
    [click] = store.clicks
    assert click.bot
    assert click.member_id is None


def test_a_flood_reuses_the_first_click_id_within_its_window() -> None:
    store, clock = FakeStore(), Clock()
    clicks = redirector(store, clock)
    first = clicks.click(request())
    clock.ms += 40_000  # still the same minute (12.3 s + 40 s)
    repeat = clicks.click(request())
    assert repeat.click_id == first.click_id
    assert (first.unique, repeat.unique) == (True, False)
    assert repeat.location == first.location

    other_shopper = clicks.click(request(source_ip="203.0.113.9"))
    other_browser = clicks.click(request(user_agent=BROWSER.replace("131.0", "130.0")))
    other_link = clicks.click(request(link_id="shop-a-sale"))  # unknown: 404, not a click
    assert len({first.click_id, other_shopper.click_id, other_browser.click_id}) == 3
    assert other_shopper.unique
    assert other_browser.unique
    assert other_link.status == 404

    clock.ms += 10_000  # the next window
    later = clicks.click(request())
    assert later.unique
    assert later.click_id != first.click_id
    assert str(later.click_id) > str(first.click_id)  # ULIDs sort by time


def test_a_member_and_a_bot_on_the_same_device_do_not_share_a_click() -> None:
    store = FakeStore()
    clicks = redirector(store)
    anonymous = clicks.click(request())
    member = clicks.click(request(query={"m": [KEYS.member_token("m-1001")]}))
    preview = clicks.click(request(method="HEAD"))
    assert len({anonymous.click_id, member.click_id, preview.click_id}) == 3
    assert store.clicks[1].member_id == "m-1001"


@pytest.mark.parametrize(
    "token",
    [
        "m-1001",
        "m-1001.",
        "m-1001.AAAAAAAAAAAAAAAAAAAAAA",
        KEYS.member_token("m-1001")[:-1] + "x",
        KEYS.member_token("m-1002").replace("m-1002", "m-1001"),
        ClickKeys.from_secret("z" * 48).member_token("m-1001"),
    ],
)
def test_a_bad_member_token_is_ignored_and_counted(token: str) -> None:
    store = FakeStore()
    answer = redirector(store).click(request(query={"m": [token]}))
    assert (answer.status, answer.member_token_rejected) == (302, True)
    assert store.clicks[0].member_id is None


def test_link_configuration_is_cached_for_at_most_a_minute() -> None:
    store = FakeStore()
    now = [0.0]
    clicks = ClickRedirector(
        store, lambda: KEYS, now_ms=Clock(), cache=LinkCache(store.load_target, clock=lambda: now[0])
    )
    clicks.click(request())
    clicks.click(request(link_id="unknown-link"))
    now[0] = 59.9
    clicks.click(request())
    clicks.click(request(link_id="unknown-link"))
    assert store.loads == ["shop-a-home", "unknown-link"]  # unknown links are cached too
    store.targets[TARGET.link_id] = replace(TARGET, active=False)
    now[0] = 60.0
    assert clicks.click(request()).outcome == Outcome.FALLBACK  # the pause is seen within a minute
    assert store.loads == ["shop-a-home", "unknown-link", "shop-a-home"]


def test_the_cache_is_bounded() -> None:
    store = FakeStore()
    cache = LinkCache(store.load_target, entries=2)
    for link_id in ("aaaa", "bbbb", "cccc", "aaaa"):
        cache.get(link_id)
    assert store.loads == ["aaaa", "bbbb", "cccc", "aaaa"]


def test_a_destination_off_the_allowed_domains_is_never_served() -> None:
    # Saved when the partner allowed it; the partner's domains have narrowed since.
    moved = replace(TARGET, destination="https://shop-a.example.evil.test/?c={click_id}")
    store = FakeStore({TARGET.link_id: moved})
    answer = redirector(store).click(request())
    assert answer.location == "https://shop-a.example/offers"  # the fallback, itself re-checked
    assert store.clicks == []


def test_a_click_that_cannot_be_stored_still_redirects_and_is_handed_back_whole() -> None:
    store = FakeStore()
    store.failing = True
    answer = redirector(store).click(request(query={"sub1": ["x"]}))
    assert (answer.status, answer.recorded) == (302, False)
    assert answer.unrecorded is not None
    assert answer.unrecorded.click_id == answer.click_id
    assert answer.unrecorded.sub_ids == {"sub1": "x"}
