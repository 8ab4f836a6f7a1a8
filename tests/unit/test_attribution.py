"""Attribution against a plain model: an order is referred when some moment its stamp may mean lies
within the clock tolerance of [click, click + window]; it earns points when its click carries a member.
Stamps come as partners send them: to the second, to the minute, or a date alone, in any time zone, from
a clock that runs up to the tolerance ahead or behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from partnerpoints.logic.order_lifecycle import UnattributedReason, attribute
from partnerpoints.models.orders import ClickFacts, OrderPostback, StampPrecision
from partnerpoints.models.partners import Partner
from tests.unit.test_order_lifecycle import PARTNER

CLICK_ID = "01KAPXV0Z8RANDM0000000000A"
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)  # the plain model counts seconds from here
CLICKED_AT = datetime(2028, 2, 29, 23, 58, 30, tzinfo=UTC)  # a leap day's last minutes
PRECISIONS = ("second", "minute", "day")


def partner(window_days: int) -> Partner:
    return PARTNER.model_copy(update={"attribution_window_days": window_days})


def click(member_id: str | None = "m-1", at: datetime = CLICKED_AT) -> ClickFacts:
    return ClickFacts(CLICK_ID, "shop-a", "home", member_id, False, at)


def render(moment: datetime, precision: str, offset_minutes: int) -> str:
    """`moment` as a platform in UTC+offset writes it."""
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    if precision == "day":
        return local.date().isoformat()
    if precision == "minute":
        return local.strftime("%Y-%m-%dT%H:%M") + local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]
    return local.isoformat(timespec="seconds")


def parsed(text: str) -> OrderPostback:
    return OrderPostback.model_validate(
        {"order_id": "A-1", "status": "pending", "amount": "10.00", "currency": "EUR", "occurred_at": text}
    )


def seconds(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds())


def plain_model(text: str, clicked_at: datetime, window_days: int, tolerance_s: int) -> str | None:
    """None when referred, else the reason: in whole seconds, from the stamp's text alone. A date means
    that date somewhere between UTC+14 and UTC-12; a minute, any second of it."""
    if len(text) == 10:
        start = seconds(datetime.fromisoformat(text).replace(tzinfo=UTC))
        first, last = start - 14 * 3600, start + 36 * 3600
    else:
        start = seconds(datetime.fromisoformat(text))
        first, last = start, start + (60 if len(text) == len("2026-01-01T00:00+00:00") else 0)
    click_s = seconds(clicked_at)
    if last < click_s - tolerance_s:
        return "order_before_click"
    if first > click_s + window_days * 86400 + tolerance_s:
        return "outside_attribution_window"
    return None


offsets = st.integers(-12 * 60, 14 * 60).map(lambda minutes: minutes - minutes % 15)


@given(
    order_offset_s=st.integers(-3 * 86400, 40 * 86400),
    precision=st.sampled_from(PRECISIONS),
    zone=offsets,
    window_days=st.integers(1, 35),
    tolerance_s=st.integers(0, 900),
)
def test_the_decision_matches_the_plain_model(
    order_offset_s: int, precision: str, zone: int, window_days: int, tolerance_s: int
) -> None:
    text = render(CLICKED_AT + timedelta(seconds=order_offset_s), precision, zone)
    postback = parsed(text)
    assert postback.occurred_precision == StampPrecision(precision)
    decision = attribute(
        partner(window_days),
        CLICK_ID,
        click(),
        postback.occurred_at,
        postback.occurred_precision,
        tolerance=timedelta(seconds=tolerance_s),
    )
    expected = plain_model(text, CLICKED_AT, window_days, tolerance_s)
    assert decision.referred is (expected is None)
    assert decision.attributed is (expected is None)
    assert decision.reason == expected
    if decision.referred:
        assert decision.member_id == "m-1"
        assert decision.attributed_at is not None
        assert decision.attributed_at >= CLICKED_AT  # never placed before its click


@given(
    true_offset_s=st.integers(0, 30 * 86400),
    skew_s=st.integers(-300, 300),
    precision=st.sampled_from(PRECISIONS),
    zone=offsets,
    member=st.sampled_from(["m-1", None]),
)
def test_a_genuine_order_is_referred_however_it_is_stamped(
    true_offset_s: int, skew_s: int, precision: str, zone: int, member: str | None
) -> None:
    """Placed inside a 30-day window, stamped by a clock up to 5 minutes off, at any precision."""
    text = render(CLICKED_AT + timedelta(seconds=true_offset_s + skew_s), precision, zone)
    postback = parsed(text)
    decision = attribute(
        partner(30),
        CLICK_ID,
        click(member),
        postback.occurred_at,
        postback.occurred_precision,
        tolerance=timedelta(minutes=5),
    )
    assert decision.referred
    assert decision.earns_points is (member is not None)
    assert decision.reason == (None if member else UnattributedReason.ANONYMOUS_CLICK)


@given(before_s=st.integers(301, 10 * 86400), zone=offsets)
def test_a_second_stamp_beyond_the_tolerance_before_the_click_is_before_the_click(
    before_s: int, zone: int
) -> None:
    postback = parsed(render(CLICKED_AT - timedelta(seconds=before_s), "second", zone))
    decision = attribute(
        partner(30),
        CLICK_ID,
        click(),
        postback.occurred_at,
        postback.occurred_precision,
        tolerance=timedelta(minutes=5),
    )
    assert (decision.referred, decision.reason) == (False, UnattributedReason.ORDER_BEFORE_CLICK)


def test_the_done_cases_of_the_issue() -> None:
    """3 s and 5 min before the click to the second: the click's; 6 min before: not; the click's own
    minute and day: the click's."""
    clicked = datetime(2026, 11, 30, 14, 7, 45, tzinfo=UTC)

    def decide(text: str) -> tuple[bool, str | None, datetime | None]:
        postback = parsed(text)
        decision = attribute(
            partner(30),
            CLICK_ID,
            click(at=clicked),
            postback.occurred_at,
            postback.occurred_precision,
            tolerance=timedelta(minutes=5),
        )
        return decision.attributed, decision.reason, decision.attributed_at

    assert decide("2026-11-30T14:07:42Z") == (True, None, clicked)
    assert decide("2026-11-30T14:02:45Z") == (True, None, clicked)
    assert decide("2026-11-30T14:01:44Z") == (False, "order_before_click", None)
    assert decide("2026-11-30T14:07Z") == (True, None, clicked)
    assert decide("2026-11-30T15:07+01:00") == (True, None, clicked)
    assert decide("2026-11-30") == (True, None, clicked)
    # The 29th ended at 12:00 UTC even at UTC-12: two hours before the click.
    assert decide("2026-11-29") == (False, "order_before_click", None)
    assert decide("2026-12-01") == (True, None, datetime(2026, 12, 1, tzinfo=UTC))
