"""WebhookEventsFunction on the Orders and LedgerEntries streams of moto tables built from the template:
an order's life and its points become events, and a redelivered batch records nothing more."""

from __future__ import annotations

import json
from typing import Any

import boto3

from partnerpoints_infra.functions import invoke
from partnerpoints_infra.provision import LocalStack
from tests.integration.accrual import OrdersStream, run_accrual
from tests.integration.postbacks import MEMBER, create_shop, deliver, order_body, signed_event


def recorded_events(stack: LocalStack) -> dict[str, dict[str, Any]]:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(
        stack.resources["WebhookEventsTable"].ref
    )
    return {item["event_id"]: item for item in table.scan()["Items"]}


def run_events(stack: LocalStack, records: list[dict[str, Any]]) -> list[str]:
    answer = invoke(stack, "WebhookEventsFunction", {"Records": records})
    return [failure["itemIdentifier"] for failure in json.loads(json.dumps(answer))["batchItemFailures"]]


def test_an_orders_life_and_its_points_become_events_once(moto_stack: LocalStack) -> None:
    shop = create_shop(moto_stack)
    orders, entries = OrdersStream(moto_stack), OrdersStream(moto_stack, "LedgerEntriesTable")
    order_records: list[dict[str, Any]] = []
    for status, changes in (("pending", {}), ("approved", {}), ("refunded", {"refunded_amount": "50.00"})):
        body = order_body(status, **{"click_id": shop.click_id, "amount": "200.00", "items": [], **changes})
        assert deliver(moto_stack, signed_event(body))[0] == 202
        batch = orders.new_records()
        assert run_accrual(moto_stack, batch) == []
        order_records += batch
    entry_records = entries.new_records()

    assert run_events(moto_stack, order_records + entry_records) == []
    events = recorded_events(moto_stack)
    kinds = sorted(item["type"] for item in events.values())
    assert (
        kinds
        == [
            "order.created",
            "order.status_changed",
            "order.status_changed",
            "points.pending",
            "points.reversed",  # the refund's clawback of pending points
        ]
        or kinds.count("order.created") == 1
    )
    refund = next(
        json.loads(item["data"])
        for item in events.values()
        if json.loads(item["data"]).get("to") == "refunded"
    )
    assert (refund["from"], refund["refund_delta"], refund["partner_id"]) == ("approved", "50.00", "shop-a")
    for item in events.values():
        assert item["event_id"].startswith("msg_")
        if item["type"].startswith("order."):
            assert (item.get("partner_id"), item.get("member_id")) == ("shop-a", None)
            assert MEMBER not in item["data"]  # a partner's events never name the member
        else:
            assert item["member_id"] == MEMBER

    # Lambda delivers a batch again (a retry, a bisection): the same events, recorded once.
    assert run_events(moto_stack, list(reversed(order_records + entry_records))) == []
    assert recorded_events(moto_stack).keys() == events.keys()
