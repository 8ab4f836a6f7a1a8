"""PostbackFunction through its real handler on tables built from the template: signatures, answers,
the order state machine as stored, attribution, fraud review and the GET form."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from partnerpoints.dal.click_tables import ClickItem
from partnerpoints.dal.order_store import plain
from partnerpoints.dal.tables import bind_tables
from partnerpoints.settings import Settings
from partnerpoints_infra.provision import LocalStack
from tests.integration.postbacks import (
    MEMBER,
    SAMPLE_SECRET,
    SAMPLE_TOKEN,
    Shop,
    create_shop,
    deliver,
    member_click,
    order_body,
    sample,
    signed_event,
    stored_deliveries,
    stored_orders,
    token_event,
)
from tests.integration.test_admin_api import call as admin_call
from tests.integration.test_admin_api import event as admin_event

OTHER_SECRET = "whsec_" + "b3RoZXItc2VjcmV0LW9mLTMyLWJ5dGVzLWxvbmchIQ=="


@pytest.fixture
def shop(moto_stack: LocalStack) -> Shop:
    return create_shop(moto_stack)


def nothing_written(stack: LocalStack) -> bool:
    return not stored_orders(stack) and not stored_deliveries(stack)


@pytest.mark.calendar
def test_an_attributed_order_moves_through_its_states_and_every_retry_is_a_no_op(shop: Shop) -> None:
    first = signed_event(order_body(click_id=shop.click_id))
    assert deliver(shop.stack, first) == (
        202,
        {
            "order_id": "A-1001",
            "status": "pending",
            "referred": True,
            "earns_points": True,
            "attributed": True,
            "member_id": MEMBER,
            "reason": None,
            "in_review": False,
            "version": 1,
            "duplicate": False,
        },
    )
    approved = signed_event(order_body("approved", click_id=shop.click_id))
    assert deliver(shop.stack, approved)[0] == 202
    refund = signed_event(order_body("refunded", click_id=shop.click_id, refunded_amount="25.00"))
    status, answer = deliver(shop.stack, refund)
    assert (status, answer["status"], answer["version"]) == (202, "refunded", 3)

    # The same deliveries again (a platform retrying): the first answers, duplicate, nothing written.
    for event, version in ((first, 1), (approved, 2), (refund, 3)):
        status, again = deliver(shop.stack, event)
        assert (status, again["version"], again["duplicate"]) == (200, version, True)
    [order] = stored_orders(shop.stack)
    assert (order.status, int(order.version), int(order.refunded_minor)) == ("refunded", 3, 2500)
    assert [step["event"] for step in order.history] == ["pending", "approved", "refunded"]
    assert [step["delivery_id"] for step in order.history] == [
        event["headers"]["webhook-id"] for event in (first, approved, refund)
    ]
    # 8% of 25.00 (home has no rate of its own) + 4% of 59.90 (electronics) = 4.396 -> 4.40 EUR.
    assert int(order.commission_minor) == 440
    assert int(order.commission_reversed_minor) == 130  # 440 x 25.00 / 84.90, half-even
    assert len(stored_deliveries(shop.stack)) == 3


def test_a_new_delivery_of_the_same_state_is_a_duplicate_and_other_amounts_a_conflict(shop: Shop) -> None:
    assert deliver(shop.stack, signed_event(order_body(click_id=shop.click_id)))[0] == 202
    status, answer = deliver(shop.stack, signed_event(order_body(click_id=shop.click_id)))
    assert (status, answer["duplicate"]) == (200, True)
    status, refused = deliver(shop.stack, signed_event(order_body(click_id=shop.click_id, amount="90.00")))
    assert (status, refused["error"]["code"]) == (409, "amounts_differ")
    assert len(stored_deliveries(shop.stack)) == 1  # neither wrote its delivery


def test_a_webhook_id_reused_for_another_body_is_a_conflict(shop: Shop) -> None:
    assert deliver(shop.stack, signed_event(order_body(click_id=shop.click_id), message_id="msg_1"))[0] == 202
    other = order_body("approved", click_id=shop.click_id)
    status, refused = deliver(shop.stack, signed_event(other, message_id="msg_1"))
    assert (status, refused["error"]["code"]) == (409, "delivery_id_reused")
    assert stored_orders(shop.stack)[0].status == "pending"


def test_out_of_order_deliveries_settle_on_the_latest_state(shop: Shop) -> None:
    click = {"click_id": shop.click_id}
    assert deliver(shop.stack, signed_event(order_body("approved", **click)))[0] == 202  # created approved
    status, late = deliver(shop.stack, signed_event(order_body("pending", **click)))
    assert (status, late["status"], late["duplicate"]) == (200, "approved", True)
    assert (
        deliver(shop.stack, signed_event(order_body("refunded", refunded_amount="30.00", **click)))[0] == 202
    )
    status, earlier_refund = deliver(
        shop.stack, signed_event(order_body("refunded", refunded_amount="10.00", **click))
    )
    assert (status, earlier_refund["duplicate"]) == (200, True)
    status, late_approval = deliver(shop.stack, signed_event(order_body("approved", **click)))
    assert (status, late_approval["status"]) == (200, "refunded")
    assert deliver(shop.stack, signed_event(order_body("refunded", **click)))[0] == 202  # the rest: full
    [order] = stored_orders(shop.stack)
    assert (order.status, int(order.refunded_minor), int(order.version)) == ("refunded", 8490, 3)
    status, refused = deliver(shop.stack, signed_event(order_body("rejected", **click)))
    assert (status, refused["error"]["code"]) == (409, "impossible_transition")


def test_rejected_is_terminal_and_pending_may_be_restated_on_approval(shop: Shop) -> None:
    click = {"click_id": shop.click_id}
    assert deliver(shop.stack, signed_event(order_body(order_id="R-1", **click)))[0] == 202
    assert deliver(shop.stack, signed_event(order_body("rejected", order_id="R-1", **click)))[0] == 202
    status, refused = deliver(shop.stack, signed_event(order_body("approved", order_id="R-1", **click)))
    assert (status, refused["error"]["code"]) == (409, "impossible_transition")

    restated: dict[str, Any] = {"order_id": "P-1", "items": [], **click}
    assert deliver(shop.stack, signed_event(order_body(**restated)))[0] == 202
    assert deliver(shop.stack, signed_event(order_body("approved", amount="60.00", **restated)))[0] == 202
    status, refused = deliver(shop.stack, signed_event(order_body("approved", amount="61.00", **restated)))
    assert (status, refused["error"]["code"]) == (409, "amounts_differ")
    orders = {order.order_id: order for order in stored_orders(shop.stack)}
    assert (orders["P-1"].status, int(orders["P-1"].amount_minor)) == ("approved", 6000)
    assert int(orders["P-1"].commission_minor) == 480  # 8% of 60.00, recomputed on the new amount


# ---------------------------------------------------------------- signatures


def _now_plus(seconds: int) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def _without(header: str) -> Callable[[dict[str, Any]], None]:
    return lambda event: event["headers"].pop(header)


SIGNATURE_FAILURES: dict[str, Callable[[dict[str, Any]], None]] = {
    "missing webhook-id": _without("webhook-id"),
    "missing webhook-timestamp": _without("webhook-timestamp"),
    "missing webhook-signature": _without("webhook-signature"),
    "tampered body": lambda event: event.update(body=event["body"].replace("84.90", "849.00")),
    "garbage signature": lambda event: event["headers"].update({"webhook-signature": "v1,not base64!"}),
    "no comma": lambda event: event["headers"].update({"webhook-signature": "v1"}),
    "unknown version only": lambda event: event["headers"].update(
        {"webhook-signature": event["headers"]["webhook-signature"].replace("v1,", "v2,")}
    ),
    "id changed": lambda event: event["headers"].update({"webhook-id": "msg_other"}),
    "non-numeric timestamp": lambda event: event["headers"].update({"webhook-timestamp": "yesterday"}),
}


@pytest.mark.parametrize("failure", sorted(SIGNATURE_FAILURES))
def test_a_delivery_whose_signature_does_not_hold_is_401_and_writes_nothing(shop: Shop, failure: str) -> None:
    event = signed_event(order_body(click_id=shop.click_id))
    SIGNATURE_FAILURES[failure](event)
    status, refused = deliver(shop.stack, event)
    assert (status, refused["error"]["code"]) == (401, "invalid_signature")
    assert refused["error"]["message"]
    assert nothing_written(shop.stack)


@pytest.mark.parametrize(
    ("secret", "seconds", "accepted"),
    [
        (OTHER_SECRET, 0, False),  # another secret
        (SAMPLE_SECRET, -301, False),  # older than 5 minutes
        # More than 5 minutes ahead: 301 s when signed is less by the time it is checked, so a margin.
        (SAMPLE_SECRET, 320, False),
        (SAMPLE_SECRET, -290, True),
        (SAMPLE_SECRET, 290, True),
    ],
)
def test_secret_and_timestamp_window(shop: Shop, secret: str, seconds: int, accepted: bool) -> None:
    event = signed_event(order_body(click_id=shop.click_id), secret=secret, at=_now_plus(seconds))
    status, answer = deliver(shop.stack, event)
    assert status == (202 if accepted else 401)
    if not accepted:
        assert answer["error"]["code"] == "invalid_signature"
        assert nothing_written(shop.stack)


def test_timestamp_failures_say_which_way(shop: Shop) -> None:
    event = signed_event(order_body(click_id=shop.click_id), at=_now_plus(-400))
    assert "in the past" in deliver(shop.stack, event)[1]["error"]["message"]


def test_one_good_signature_among_several_is_enough(shop: Shop) -> None:
    event = signed_event(order_body(click_id=shop.click_id))
    wrong = signed_event(order_body(click_id=shop.click_id), secret=OTHER_SECRET)
    good = event["headers"]["webhook-signature"]
    event["headers"]["webhook-signature"] = f"{wrong['headers']['webhook-signature']} v2,abc= {good}"
    assert deliver(shop.stack, event)[0] == 202


def test_a_base64_encoded_body_is_verified_over_its_decoded_bytes(shop: Shop) -> None:
    event = signed_event(order_body(click_id=shop.click_id), base64_encoded=True)
    assert deliver(shop.stack, event)[0] == 202
    not_utf8 = signed_event(b'{"order_id": "A"}', base64_encoded=True)
    not_utf8["body"] = base64.b64encode(b'{"order_id": "\xff"}').decode()
    status, refused = deliver(shop.stack, not_utf8)
    assert (status, refused["error"]["code"]) == (401, "invalid_signature")


def test_a_rotated_secret_keeps_working_for_its_grace_period_only(shop: Shop) -> None:
    rotate = admin_event("post-partner.json", body={})
    rotate["rawPath"] = rotate["requestContext"]["http"]["path"] = "/admin/partners/shop-a/rotate-secret"
    rotate["routeKey"] = "POST /admin/partners/{partner_id}/rotate-secret"
    rotate["pathParameters"] = {"partner_id": "shop-a"}
    rotate["body"] = None
    status, rotated = admin_call(shop.stack, rotate)
    assert status == 200, rotated
    new_secret = rotated["webhook_secret"]
    assert new_secret != SAMPLE_SECRET
    assert rotated["postback_token"] != SAMPLE_TOKEN
    body = {"click_id": shop.click_id}
    # During the grace period (24 h by default) both the old and the new secret are accepted.
    assert deliver(shop.stack, signed_event(order_body(order_id="G-1", **body)))[0] == 202
    assert deliver(shop.stack, signed_event(order_body(order_id="G-2", **body), secret=new_secret))[0] == 202
    # A rotation with no grace revokes what came before at once.
    rotate["rawQueryString"] = "grace_hours=0"
    rotate["queryStringParameters"] = {"grace_hours": "0"}
    status, again = admin_call(shop.stack, rotate)
    assert status == 200
    for old in (SAMPLE_SECRET, new_secret):
        status, refused = deliver(shop.stack, signed_event(order_body(order_id="G-3", **body), secret=old))
        assert (status, refused["error"]["code"]) == (401, "invalid_signature")
    newest = again["webhook_secret"]
    assert deliver(shop.stack, signed_event(order_body(order_id="G-3", **body), secret=newest))[0] == 202
    token_query = {
        "token": SAMPLE_TOKEN,
        "order_id": "T-1",
        "status": "pending",
        "amount": "1",
        "currency": "EUR",
    }
    assert deliver(shop.stack, token_event(token_query))[0] == 401
    assert deliver(shop.stack, token_event({**token_query, "token": again["postback_token"]}))[0] == 202


# ---------------------------------------------------------------- bad input


def test_an_oversized_body_is_413_before_anything_else(shop: Shop) -> None:
    body = order_body(click_id=shop.click_id, note="x" * (64 * 1024))
    status, refused = deliver(shop.stack, signed_event(body))
    assert (status, refused["error"]["code"]) == (413, "payload_too_large")


def test_a_signed_body_that_is_not_json_is_400(shop: Shop) -> None:
    status, refused = deliver(shop.stack, signed_event(b'{"order_id": "A-1",'))
    assert (status, refused["error"]["code"]) == (400, "malformed_json")
    status, refused = deliver(shop.stack, signed_event(b"[1, 2]"))
    assert (status, refused["error"]["details"][0]["path"]) == (422, "body")


def test_invalid_fields_are_all_named(shop: Shop) -> None:
    body = {
        "order_id": "",
        "status": "shipped",
        "amount": "-5",
        "currency": "EURO",
        "occurred_at": "yesterday",
        "items": [{"sku": "A", "amount": "1,00"}],
    }
    status, refused = deliver(shop.stack, signed_event(body))
    assert status == 422
    paths = {detail["path"] for detail in refused["error"]["details"]}
    assert paths == {
        "body.order_id",
        "body.status",
        "body.amount",
        "body.currency",
        "body.occurred_at",
        "body.items.0.amount",
    }


def test_amounts_are_checked_against_the_currency_and_each_other(shop: Shop) -> None:
    too_precise = order_body(amount="84.905", items=[{"sku": "A", "amount": "1.001"}])
    status, refused = deliver(shop.stack, signed_event(too_precise))
    assert status == 422
    assert {detail["path"] for detail in refused["error"]["details"]} == {
        "body.amount",
        "body.items.0.amount",
    }

    inconsistent = order_body(
        "refunded",
        refunded_amount="90.00",
        items=[{"sku": "A", "amount": "80.00"}, {"sku": "B", "amount": "5.00"}],
        occurred_at=_now_plus(600).isoformat(),
    )
    status, refused = deliver(shop.stack, signed_event(inconsistent))
    assert status == 422
    assert {detail["path"] for detail in refused["error"]["details"]} == {
        "body.refunded_amount",
        "body.items",
        "body.occurred_at",
    }
    status, refused = deliver(shop.stack, signed_event(order_body(currency="USD")))
    assert (status, refused["error"]["details"][0]["path"]) == (422, "body.currency")
    status, refused = deliver(shop.stack, signed_event(order_body(refunded_amount="1.00")))
    assert (status, refused["error"]["details"][0]["path"]) == (422, "body.refunded_amount")
    assert nothing_written(shop.stack)


def test_an_unknown_partner_is_404(shop: Shop) -> None:
    for partner_id in ("shop-z", "Not A Partner!"):
        status, refused = deliver(shop.stack, signed_event(order_body(), partner_id=partner_id))
        assert (status, refused["error"]["code"]) == (404, "partner_not_found")


# ---------------------------------------------------------------- the GET form


def test_the_get_form_with_its_token(shop: Shop) -> None:
    query = {
        **sample("get-order-pending-with-token.json")["queryStringParameters"],
        "click_id": shop.click_id,
    }
    status, answer = deliver(shop.stack, token_event(query))
    assert (status, answer["attributed"], answer["member_id"]) == (202, True, MEMBER)
    status, again = deliver(shop.stack, token_event(query))
    assert (status, again["duplicate"]) == (200, True)
    for token in ("", "sample-postback-token-not-for-productioN"):
        status, refused = deliver(shop.stack, token_event({**query, "token": token}))
        assert (status, refused["error"]["code"]) == (401, "invalid_token")
    status, refused = deliver(shop.stack, token_event({**query, "amount": "19.999"}))
    assert (status, refused["error"]["details"][0]["path"]) == (422, "body.amount")


def test_partners_may_accept_signed_postbacks_only(moto_stack: LocalStack) -> None:
    shop = create_shop(moto_stack, signed_postbacks_only=True)
    query = {"token": SAMPLE_TOKEN, "order_id": "B-1", "status": "pending", "amount": "1", "currency": "EUR"}
    status, refused = deliver(shop.stack, token_event(query))
    assert (status, refused["error"]["code"]) == (401, "signed_postbacks_only")
    assert deliver(shop.stack, signed_event(order_body(click_id=shop.click_id)))[0] == 202


def test_the_source_ip_allow_list(moto_stack: LocalStack) -> None:
    shop = create_shop(moto_stack, postback_ip_allowlist=["203.0.113.0/28", "2001:db8::/32"])
    event = signed_event(order_body(click_id=shop.click_id))
    assert deliver(shop.stack, event)[0] == 202  # the samples come from 203.0.113.10
    event = signed_event(order_body("approved", click_id=shop.click_id))
    event["requestContext"]["http"]["sourceIp"] = "203.0.113.99"
    status, refused = deliver(shop.stack, event)
    assert (status, refused["error"]["code"]) == (401, "source_ip_not_allowed")
    assert stored_orders(shop.stack)[0].status == "pending"


# ---------------------------------------------------------------- attribution and review


def _seed_click(stack: LocalStack, click_id: str, **fields: Any) -> None:
    bind_tables(Settings.from_environment(stack.runtime_environment()))
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "link_id": "shop-a-home",
        "partner_id": "shop-a",
        "member_id": "m-2002",
        "clicked_at": now - timedelta(days=1),
        "last_clicked_at": now - timedelta(days=1),
        "ip_hash": "0" * 64,
        "user_agent": "Mozilla/5.0",
        "bot": False,
        "unique": True,
        "clicks": 1,
        "expires_at": now + timedelta(days=30),
    }
    values.update(
        {name: now + value if isinstance(value, timedelta) else value for name, value in fields.items()}
    )
    ClickItem(click_id, **values).save()


@pytest.mark.calendar
@pytest.mark.parametrize(
    ("click_fields", "reason"),
    [
        (None, "unknown_click"),
        ({"partner_id": "shop-b"}, "click_of_another_partner"),
        ({"bot": True}, "bot_click"),
        ({"blocked": True}, "blocked_click"),
        # Offsets from the time the test runs (not from collection: a slow run must not move them).
        ({"clicked_at": timedelta(days=-31)}, "outside_attribution_window"),
        # More than the 5 minutes a partner's clock may be off ours.
        ({"clicked_at": timedelta(minutes=6)}, "order_before_click"),
    ],
)
def test_orders_the_network_did_not_refer_are_kept_unattributed_and_owe_nothing(
    shop: Shop, click_fields: dict[str, Any] | None, reason: str
) -> None:
    click_id = "01KASEEDEDC1ICK0000000000A".replace("I", "1").replace("L", "1")
    if click_fields is not None:
        _seed_click(shop.stack, click_id, **click_fields)
    status, answer = deliver(shop.stack, signed_event(order_body(click_id=click_id)))
    assert (status, answer["referred"], answer["earns_points"], answer["attributed"]) == (
        202,
        False,
        False,
        False,
    )
    assert (answer["reason"], answer["member_id"]) == (reason, None)
    [order] = stored_orders(shop.stack)
    assert (order.attention, order.counts, int(order.commission_minor)) == ("unattributed", False, 0)
    assert order.member_id is None


@pytest.mark.calendar
def test_an_order_on_an_anonymous_click_is_referred_owes_commission_and_earns_no_points(shop: Shop) -> None:
    click_id = "01KASEEDEDANANYM0VSC1ICK0A".replace("I", "1").replace("L", "1").replace("O", "0")
    _seed_click(shop.stack, click_id, member_id=None, clicked_at=timedelta(hours=-2))
    status, answer = deliver(shop.stack, signed_event(order_body(click_id=click_id)))
    assert (status, answer["referred"], answer["earns_points"]) == (202, True, False)
    assert (answer["reason"], answer["member_id"], answer["in_review"]) == (
        "click_without_member",
        None,
        False,
    )
    [order] = stored_orders(shop.stack)
    # Nothing for the operator to decide: an ordinary sale, commissioned (8 % and 4 %: 4.40 EUR).
    assert order.attention is None
    assert (order.counts, int(order.commission_minor)) == (False, 440)


@pytest.mark.calendar
@pytest.mark.parametrize(
    ("clicked_after", "stamp"),
    [
        (timedelta(seconds=3), lambda at: at.isoformat(timespec="seconds")),
        (timedelta(minutes=5), lambda at: at.isoformat(timespec="seconds")),
        (timedelta(seconds=40), lambda at: at.strftime("%Y-%m-%dT%H:%MZ")),  # the click's own minute
    ],
    ids=["3 s before, to the second", "5 min before, to the second", "the click's minute"],
)
def test_an_order_stamped_a_little_before_its_click_is_the_clicks(
    shop: Shop, clicked_after: timedelta, stamp: Callable[[datetime], str]
) -> None:
    """A partner whose clock runs behind ours: the order belongs to the click and is placed at it."""
    placed = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
    click_id = "01KASEEDEDSKEWEDC1ICK0000A".replace("I", "1").replace("L", "1")
    _seed_click(shop.stack, click_id, clicked_at=placed + clicked_after)
    body = order_body(click_id=click_id, occurred_at=stamp(placed))
    status, answer = deliver(shop.stack, signed_event(body))
    assert (status, answer["referred"], answer["earns_points"], answer["member_id"]) == (
        202,
        True,
        True,
        "m-2002",
    )
    [order] = stored_orders(shop.stack)
    attribution = plain(order.attribution)
    assert attribution["attributed_at"] == attribution["clicked_at"]


@pytest.mark.calendar
def test_the_get_form_may_carry_a_date_alone(shop: Shop) -> None:
    """A platform whose macro gives the order's date only: the click's own day is the click's."""
    query = {
        **sample("get-order-pending-with-token.json")["queryStringParameters"],
        "click_id": shop.click_id,
        "occurred_at": datetime.now(UTC).date().isoformat(),
    }
    status, answer = deliver(shop.stack, token_event(query))
    assert (status, answer["attributed"], answer["member_id"]) == (202, True, MEMBER)
    tomorrow_somewhere = (datetime.now(UTC) + timedelta(hours=14)).date().isoformat()
    status, answer = deliver(
        shop.stack, token_event({**query, "order_id": "D-2", "occurred_at": tomorrow_somewhere})
    )
    assert (status, answer["attributed"]) == (202, True)
    beyond = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    status, refused = deliver(shop.stack, token_event({**query, "order_id": "D-3", "occurred_at": beyond}))
    assert (status, refused["error"]["details"][0]["path"]) == (422, "body.occurred_at")


def test_an_order_without_a_click_id_is_unattributed(shop: Shop) -> None:
    body = order_body()
    del body["click_id"]
    status, answer = deliver(shop.stack, signed_event(body))
    assert (status, answer["attributed"], answer["reason"]) == (202, False, "no_click_id")


def _admin(stack: LocalStack, method: str, path: str, body: Any = None, query: str = "") -> tuple[int, Any]:
    event = admin_event("post-partner.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["rawQueryString"] = query
    event["queryStringParameters"] = dict(part.split("=", 1) for part in query.split("&")) if query else None
    event["body"] = json.dumps(body) if body is not None else None
    return admin_call(stack, event)


def test_suspicious_orders_wait_for_review_and_the_operator_decides(moto_stack: LocalStack) -> None:
    shop = create_shop(moto_stack, min_seconds_to_order=10, review_amount="500")
    click = {"click_id": shop.click_id}
    fast = order_body(order_id="F-1", **click)  # occurred within seconds of the click
    assert deliver(shop.stack, signed_event(fast))[1]["in_review"] is True
    later = datetime.now(UTC) + timedelta(seconds=15)
    big = order_body(order_id="B-1", amount="500.01", items=[], occurred_at=later.isoformat(), **click)
    assert deliver(shop.stack, signed_event(big))[1]["in_review"] is True
    fine = order_body(order_id="OK-1", amount="500.00", items=[], occurred_at=later.isoformat(), **click)
    assert deliver(shop.stack, signed_event(fine))[1]["in_review"] is False

    status, waiting = _admin(shop.stack, "GET", "/admin/orders", query="status=review")
    assert status == 200
    reasons = {order["order_id"]: order["review"]["reasons"] for order in waiting["orders"]}
    assert reasons == {"F-1": ["too_fast_after_click"], "B-1": ["amount_over_review_threshold"]}

    decision = {"decision": "approve", "note": "customer called, genuine"}
    status, decided = _admin(shop.stack, "POST", "/admin/orders/shop-a/F-1/review", decision)
    assert (status, decided["counts"], decided["attention"], decided["version"]) == (200, True, None, 2)
    assert _admin(shop.stack, "POST", "/admin/orders/shop-a/F-1/review", decision)[1]["version"] == 2
    status, refused = _admin(
        shop.stack, "POST", "/admin/orders/shop-a/F-1/review", {**decision, "decision": "reject"}
    )
    assert (status, refused["error"]["code"]) == (409, "not_awaiting_decision")
    status, rejected = _admin(
        shop.stack,
        "POST",
        "/admin/orders/shop-a/B-1/review",
        {"decision": "reject", "note": "no such customer"},
    )
    assert (status, rejected["counts"]) == (200, False)
    assert _admin(shop.stack, "GET", "/admin/orders", query="status=review")[1]["orders"] == []


def test_an_unattributed_order_can_be_credited_to_a_member_by_the_operator(shop: Shop) -> None:
    body = order_body(order_id="U-1")
    del body["click_id"]
    assert deliver(shop.stack, signed_event(body))[0] == 202
    status, waiting = _admin(shop.stack, "GET", "/admin/orders", query="status=unattributed")
    assert [order["order_id"] for order in waiting["orders"]] == ["U-1"]
    path = "/admin/orders/shop-a/U-1/review"
    status, refused = _admin(shop.stack, "POST", path, {"decision": "approve", "note": "receipt sent"})
    assert (status, refused["error"]["details"][0]["path"]) == (422, "body.member_id")
    status, credited = _admin(
        shop.stack, "POST", path, {"decision": "approve", "note": "receipt sent", "member_id": "m-3003"}
    )
    assert (status, credited["counts"], credited["attribution"]["member_id"]) == (200, True, "m-3003")
    assert credited["attribution"]["referred"] is True  # the operator's word makes it the network's sale
    [order] = stored_orders(shop.stack)
    assert order.member_id == "m-3003"
    assert order.attention is None
    assert int(order.commission_minor) == 440
    assert _admin(shop.stack, "GET", "/admin/orders/shop-a/NOPE")[0] == 404


def test_too_many_orders_in_an_hour_send_the_next_to_review(moto_stack: LocalStack) -> None:
    moto_stack.parameters["MaxOrdersPerHour"] = "2"
    shop = create_shop(moto_stack)
    answers = [
        deliver(shop.stack, signed_event(order_body(order_id=f"V-{n}", click_id=shop.click_id)))[1]
        for n in range(3)
    ]
    assert [answer["in_review"] for answer in answers] == [False, False, True]
    other = member_click(shop.stack, "m-4004", source_ip="198.51.100.99")
    assert (
        deliver(shop.stack, signed_event(order_body(order_id="W-1", click_id=other)))[1]["in_review"] is False
    )


def test_the_waiting_list_pages_with_a_cursor_bound_to_its_queue(shop: Shop) -> None:
    for n in range(3):
        body = order_body(order_id=f"U-{n}")
        del body["click_id"]
        assert deliver(shop.stack, signed_event(body))[0] == 202
    status, first = _admin(shop.stack, "GET", "/admin/orders", query="status=unattributed&limit=2")
    assert [order["order_id"] for order in first["orders"]] == ["U-0", "U-1"]
    cursor = first["next_cursor"]
    query = f"status=unattributed&limit=2&cursor={cursor}"
    status, second = _admin(shop.stack, "GET", "/admin/orders", query=query)
    assert ([order["order_id"] for order in second["orders"]], second["next_cursor"]) == (["U-2"], None)
    status, refused = _admin(shop.stack, "GET", "/admin/orders", query=f"status=review&cursor={cursor}")
    assert (status, refused["error"]["code"]) == (400, "invalid_cursor")
