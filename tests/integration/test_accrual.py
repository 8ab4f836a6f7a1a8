"""The accrual function on the Orders stream and the member API, on moto tables from the template."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.base import IdempotencyHandler
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyInconsistentStateError,
    IdempotencyPersistenceLayerError,
)

from partnerpoints.logic.accrual import get_accrual
from partnerpoints.logic.ledger import get_ledger
from partnerpoints.models.ledger import Account
from partnerpoints_infra.functions import invoke
from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import PROJECT_ROOT
from tests.integration.accrual import OrdersStream, run_accrual
from tests.integration.postbacks import MEMBER, create_shop, deliver, order_body, signed_event


def member_event(
    name: str, member: str = MEMBER, scopes: str | None = None, **changes: Any
) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((PROJECT_ROOT / "events/MemberApiFunction" / name).read_text())
    for key in ("rawPath",):
        event[key] = event[key].replace("/alice", f"/{member}")
    event["requestContext"]["http"]["path"] = event["rawPath"]
    event["pathParameters"]["member_id"] = member
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    claims["sub"] = MEMBER
    if scopes:
        claims["scope"] = scopes
    if "body" in changes:
        changes["body"] = json.dumps(changes["body"])
    event.update(changes)
    return event


def member_call(stack: LocalStack, event: dict[str, Any]) -> tuple[int, Any]:
    response = invoke(stack, "MemberApiFunction", event)
    return response["statusCode"], json.loads(response["body"])


def main_balance() -> tuple[int, int]:
    balance = get_ledger().balances(MEMBER)[Account.MAIN]
    return balance.pending, balance.available


def test_a_poison_record_fails_alone_and_the_others_commit(moto_stack: LocalStack) -> None:
    shop = create_shop(moto_stack)
    stream = OrdersStream(moto_stack)
    for order_id in ("A-1", "A-2"):
        body = order_body(order_id=order_id, click_id=shop.click_id, amount="100.00", items=[])
        assert deliver(moto_stack, signed_event(body))[0] == 202
    good = stream.new_records()
    poison = copy.deepcopy(good[0])
    poison["dynamodb"]["NewImage"]["amount_minor"] = {"S": "not a number"}
    poison["dynamodb"]["SequenceNumber"] = "999"
    batch = [good[0], poison, good[1]]
    assert run_accrual(moto_stack, batch) == ["999"]
    assert main_balance() == (10, 0)  # 5 % of 100.00 twice
    # Lambda retries from the failed record: the records after it again, changing nothing.
    assert run_accrual(moto_stack, batch[1:]) == ["999"]
    assert main_balance() == (10, 0)


@pytest.mark.calendar
def test_an_order_earns_pending_then_available_and_a_refund_reverses_its_share(
    moto_stack: LocalStack,
) -> None:
    shop = create_shop(moto_stack)
    stream = OrdersStream(moto_stack)

    def send(status: str, **changes: Any) -> None:
        body = order_body(status, **{"click_id": shop.click_id, "amount": "200.00", "items": [], **changes})
        assert deliver(moto_stack, signed_event(body))[0] == 202
        assert run_accrual(moto_stack, stream.new_records()) == []

    send("pending", amount="180.00")
    assert main_balance() == (9, 0)
    send("approved")  # approved at another amount: the pending points follow
    assert main_balance() == (10, 0)
    assert get_accrual().release_matured(datetime.now(UTC) + timedelta(days=29)).points_released == 0
    report = get_accrual().release_matured(datetime.now(UTC) + timedelta(days=31))
    assert (report.orders_released, report.points_released) == (1, 10)
    assert main_balance() == (0, 10)
    assert get_accrual().release_matured(datetime.now(UTC) + timedelta(days=32)).points_released == 0
    send("refunded", refunded_amount="50.00")  # a quarter back: 10 -> floor(7.5) = 7
    assert main_balance() == (0, 7)
    kinds = [(entry.kind, entry.points) for entry in get_ledger().all_entries(MEMBER, Account.MAIN)]
    assert kinds == [
        ("accrual_pending", 9),
        ("accrual_pending", 1),
        ("accrual_release", 10),
        ("clawback", -3),
    ]
    entries = get_ledger().all_entries(MEMBER, Account.MAIN)
    assert {entry.tier for entry in entries} == {"base"}
    assert entries[0].entry_id == "order#shop-a#A-1001#v1#accrual_pending"


def test_review_and_unattributed_orders_post_nothing_until_resolved(moto_stack: LocalStack) -> None:
    shop = create_shop(moto_stack, review_amount="150")
    stream = OrdersStream(moto_stack)
    big = order_body(order_id="BIG-1", click_id=shop.click_id, amount="400.00", items=[])
    assert deliver(moto_stack, signed_event(big))[1]["in_review"] is True
    stray = order_body(order_id="STRAY-1", click_id=None, amount="40.00", items=[])
    assert deliver(moto_stack, signed_event(stray))[1]["attributed"] is False
    assert run_accrual(moto_stack, stream.new_records()) == []
    assert main_balance() == (0, 0)


def test_spends_need_a_key_post_once_and_never_overdraw(moto_stack: LocalStack) -> None:
    create_shop(moto_stack)
    admin = json.loads((PROJECT_ROOT / "events/AdminLedgerFunction/post-credit.json").read_text())
    admin["pathParameters"] = {"member_id": MEMBER}
    admin["rawPath"] = admin["requestContext"]["http"]["path"] = f"/admin/members/{MEMBER}/adjustments"
    admin["body"] = json.dumps(
        {"adjustment_id": "T-1", "account": "main", "points": 100, "reason": "test credit"}
    )
    assert invoke(moto_stack, "AdminLedgerFunction", admin)["statusCode"] == 201

    body = {"partner_id": "shop-a", "points": 60, "account": "main", "reference": "voucher V-1"}
    status, refused = member_call(
        moto_stack, member_event("post-spend-without-idempotency-key.json", body=body)
    )
    assert (status, refused["error"]["code"]) == (422, "invalid_request")
    status, first = member_call(moto_stack, member_event("post-spend.json", body=body))
    assert (status, first["balance"]["available"]) == (201, 40)
    status, again = member_call(moto_stack, member_event("post-spend.json", body=body))
    assert (status, again) == (201, first)  # the first answer, the points spent once
    status, reused = member_call(moto_stack, member_event("post-spend.json", body={**body, "points": 10}))
    assert (status, reused["error"]["code"]) == (409, "idempotency_key_reused")
    other_key = {**member_event("post-spend.json", body=body)}
    other_key["headers"] = {**other_key["headers"], "idempotency-key": "another-key-0002"}
    status, short = member_call(moto_stack, other_key)
    assert (status, short["error"]["code"]) == (409, "insufficient_points")
    assert main_balance() == (0, 40)

    refund = json.loads(
        (PROJECT_ROOT / "events/AdminLedgerFunction/post-refund-unknown-spend.json").read_text()
    )
    entry_id = first["entry_id"]
    refund["pathParameters"] = {"entry_id": entry_id.replace("#", "%23")}
    refund["rawPath"] = refund["requestContext"]["http"]["path"] = (
        f"/admin/spends/{entry_id.replace('#', '%23')}/refund"
    )
    assert invoke(moto_stack, "AdminLedgerFunction", refund)["statusCode"] == 201
    assert invoke(moto_stack, "AdminLedgerFunction", refund)["statusCode"] == 200  # once
    assert main_balance() == (0, 100)

    status, activity = member_call(moto_stack, member_event("get-activity.json"))
    assert status == 200
    assert [entry["kind"] for entry in activity["entries"]] == ["spend_refund", "spend", "adjustment"]


@pytest.mark.parametrize(
    ("raised", "status", "code"),
    [
        # the key's record kept changing under Powertools' own retries: the next retry reads it settled
        (IdempotencyInconsistentStateError("moved"), 409, "request_in_progress"),
        (
            IdempotencyPersistenceLayerError("the idempotency table did not answer", None),
            503,
            "service_unavailable",
        ),
    ],
)
def test_a_spend_whose_key_record_moves_or_cannot_be_read_is_retryable_never_a_500(
    moto_stack: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
    raised: Exception,
    status: int,
    code: str,
) -> None:
    create_shop(moto_stack)

    def handle(self: IdempotencyHandler, is_replay: bool = False) -> Any:
        raise raised

    monkeypatch.setattr(IdempotencyHandler, "handle", handle)
    body = {"partner_id": "shop-a", "points": 5, "account": "main", "reference": "voucher V-2"}
    response = invoke(moto_stack, "MemberApiFunction", member_event("post-spend.json", body=body))
    answer = json.loads(response["body"])
    assert (response["statusCode"], answer["error"]["code"]) == (status, code)
    assert answer["error"]["message"].endswith("retry shortly")
    # Both say when to retry: a 409 in progress too (an earlier attempt's claim has not expired yet).
    assert response["headers"].get("Retry-After") == "1"
    assert main_balance() == (0, 0)


def test_a_member_acts_only_on_their_own_id_unless_admin(moto_stack: LocalStack) -> None:
    create_shop(moto_stack)
    status, answer = member_call(moto_stack, member_event("get-balance.json", member="someone-else"))
    assert (status, answer["error"]["code"]) == (403, "forbidden")
    status, answer = member_call(
        moto_stack, member_event("get-balance.json", member="someone-else", scopes="admin")
    )
    assert status == 200
    assert answer == {
        "member_id": "someone-else",
        "tier": "base",
        "accounts": {"main": {"available": 0, "pending": 0, "lifetime": 0}, "promo": {"available": 0}},
    }
    status, link = member_call(moto_stack, member_event("get-member-link.json"))
    assert status == 200
    assert link["url"].startswith("https://")
    assert "/c/shop-a-home?m=" in link["url"]


def test_activity_names_each_entrys_order_and_its_current_status(moto_stack: LocalStack) -> None:
    shop = create_shop(moto_stack)
    stream = OrdersStream(moto_stack)
    for order_status in ("pending", "rejected"):
        body = order_body(order_status, click_id=shop.click_id, amount="100.00", items=[])
        assert deliver(moto_stack, signed_event(body))[0] == 202
    assert run_accrual(moto_stack, stream.new_records()) == []
    status, activity = member_call(moto_stack, member_event("get-activity.json"))
    assert status == 200
    assert [(e["kind"], e["points"], e["order"]) for e in activity["entries"]] == [
        ("accrual_void", -5, {"partner_id": "shop-a", "order_id": "A-1001", "status": "rejected"}),
        ("accrual_pending", 5, {"partner_id": "shop-a", "order_id": "A-1001", "status": "rejected"}),
    ]


def test_a_member_reads_their_orders_with_points_amounts_and_release_and_no_one_elses(
    moto_stack: LocalStack,
) -> None:
    shop = create_shop(moto_stack, hold_days=30)
    stream = OrdersStream(moto_stack)
    for order_id, order_status, amount in (("A-1", "approved", "100.00"), ("A-2", "pending", "40.00")):
        body = order_body(order_status, order_id=order_id, click_id=shop.click_id, amount=amount, items=[])
        assert deliver(moto_stack, signed_event(body))[0] == 202
    assert run_accrual(moto_stack, stream.new_records()) == []

    status, page = member_call(moto_stack, member_event("get-orders.json"))
    assert status == 200
    orders = {order["order_id"]: order for order in page["orders"]}
    assert set(orders) == {"A-1", "A-2"}
    assert (orders["A-1"]["status"], orders["A-1"]["amount"], orders["A-1"]["points_pending"]) == (
        "approved",
        "100.00",
        5,
    )
    assert orders["A-1"]["release_at"] is not None  # approved: its hold ends then
    assert (orders["A-2"]["status"], orders["A-2"]["points_pending"], orders["A-2"]["points_available"]) == (
        "pending",
        2,
        0,
    )
    assert [order["updated_at"] for order in page["orders"]] == sorted(
        (order["updated_at"] for order in page["orders"]), reverse=True
    )
    first = member_call(moto_stack, member_event("get-orders.json", queryStringParameters={"limit": "1"}))[1]
    assert len(first["orders"]) == 1
    rest = member_call(
        moto_stack,
        member_event("get-orders.json", queryStringParameters={"limit": "1", "cursor": first["next_cursor"]}),
    )[1]
    assert [o["order_id"] for o in first["orders"] + rest["orders"]] == [
        o["order_id"] for o in page["orders"]
    ]
    assert member_call(moto_stack, member_event("get-orders.json", member="bob"))[0] == 403
