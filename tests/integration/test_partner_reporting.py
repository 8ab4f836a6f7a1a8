"""The reporting routes' reads on DynamoDB Local (stricter than moto about indexes and projections):
a partner's latest orders from the partner_orders index, filtered, paged, and its API keys from the
partner_keys index."""

from __future__ import annotations

import copy
import csv
import io
import json
import time
from typing import Any

import pytest

from partnerpoints.logic import partner_reports
from partnerpoints_infra.functions import invoke
from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import PROJECT_ROOT
from tests.integration.postbacks import create_shop, deliver, order_body, signed_event
from tests.integration.test_admin_api import call as admin_call
from tests.integration.test_admin_api import event as admin_event
from tests.integration.test_partner_keys import issue, keys_of

EVENT = json.loads((PROJECT_ROOT / "events/PartnerReportingFunction/get-my-orders.json").read_text())


def my_orders(stack: LocalStack, query: dict[str, str], partner_id: str = "shop-a") -> tuple[int, Any]:
    event = copy.deepcopy(EVENT)
    event["rawQueryString"] = "&".join(f"{name}={value}" for name, value in query.items())
    event["queryStringParameters"] = query or None
    event["requestContext"]["authorizer"] = {"lambda": {"partner_id": partner_id, "key_id": "k3y0f5hopa01"}}
    response = invoke(stack, "PartnerReportingFunction", event)
    return response["statusCode"], json.loads(response["body"])


def test_latest_orders_come_from_the_index_newest_first_filtered_and_paged(
    dynamodb_local_stack: LocalStack,
) -> None:
    stack = dynamodb_local_stack
    shop = create_shop(stack)
    for order_id, order_status in (("O-1", "pending"), ("O-2", "approved"), ("O-3", "pending")):
        body = order_body(order_status, order_id=order_id, click_id=shop.click_id)
        assert deliver(stack, signed_event(body))[0] == 202
        time.sleep(0.01)  # distinct change times
    status, page = my_orders(stack, {})
    for _ in range(50):  # a global index trails its table by moments
        if len(page["orders"]) == 3:
            break
        time.sleep(0.1)
        status, page = my_orders(stack, {})
    assert status == 200
    assert [order["order_id"] for order in page["orders"]] == ["O-3", "O-2", "O-1"]
    assert page["orders"][1]["status"] == "approved"
    assert page["orders"][0]["referred"] is True

    assert [o["order_id"] for o in my_orders(stack, {"status": "pending"})[1]["orders"]] == ["O-3", "O-1"]
    first = my_orders(stack, {"limit": "2"})[1]
    rest = my_orders(stack, {"limit": "2", "cursor": first["next_cursor"]})[1]
    assert [o["order_id"] for o in first["orders"] + rest["orders"]] == ["O-3", "O-2", "O-1"]
    assert rest["next_cursor"] is None
    other = {**json.loads(admin_event("post-partner.json")["body"]), "partner_id": "shop-b"}
    assert admin_call(stack, admin_event("post-partner.json", body=other))[0] == 201
    status, refused = my_orders(stack, {"cursor": first["next_cursor"]}, partner_id="shop-b")
    assert (status, refused["error"]["code"]) == (400, "invalid_cursor")


def test_a_partners_keys_are_listed_from_their_index(dynamodb_local_stack: LocalStack) -> None:
    create_shop(dynamodb_local_stack)
    issued = [issue(dynamodb_local_stack)[1]["key_id"] for _ in range(2)]
    listed: list[Any] = []
    for _ in range(50):
        listed = keys_of(dynamodb_local_stack)[1]["keys"]
        if len(listed) == 2:
            break
        time.sleep(0.1)
    assert sorted(key["key_id"] for key in listed) == sorted(issued)


def export(stack: LocalStack, query: dict[str, str], partner_id: str = "shop-a") -> dict[str, Any]:
    event = copy.deepcopy(EVENT)
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/partner/exports/orders.csv"
    event["rawQueryString"] = "&".join(f"{name}={value}" for name, value in query.items())
    event["queryStringParameters"] = query or None
    event["requestContext"]["authorizer"] = {"lambda": {"partner_id": partner_id, "key_id": "k3y0f5hopa01"}}
    return invoke(stack, "PartnerReportingFunction", event)  # type: ignore[no-any-return]


def test_an_export_is_every_order_of_the_range_as_csv_with_formulas_defused(
    dynamodb_local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = dynamodb_local_stack
    shop = create_shop(stack)
    for order_id, order_status in (("=HYPERLINK(1)", "pending"), ("O-2", "approved"), ("O-3", "pending")):
        body = order_body(order_status, order_id=order_id, click_id=shop.click_id)
        assert deliver(stack, signed_event(body))[0] == 202
        time.sleep(0.01)
    answer = export(stack, {})
    for _ in range(50):  # a global index trails its table by moments
        if answer["body"].count("\n") == 4:
            break
        time.sleep(0.1)
        answer = export(stack, {})
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"].startswith("text/csv")
    assert answer["headers"]["Content-Disposition"].startswith('attachment; filename="orders-shop-a-')
    rows = list(csv.DictReader(io.StringIO(answer["body"])))
    assert [row["order_id"] for row in rows] == ["O-3", "O-2", "'=HYPERLINK(1)"]
    assert rows[1]["status"] == "approved"
    assert rows[1]["referred"] == "true"
    assert [
        row["order_id"] for row in csv.DictReader(io.StringIO(export(stack, {"status": "approved"})["body"]))
    ] == ["O-2"]

    monkeypatch.setattr(partner_reports, "EXPORT_MAX_ORDERS", 2)
    refused = export(stack, {})
    assert refused["statusCode"] == 422
    assert json.loads(refused["body"])["error"]["details"][0]["path"] == "query.from"
    other = {**json.loads(admin_event("post-partner.json")["body"]), "partner_id": "shop-b"}
    assert admin_call(stack, admin_event("post-partner.json", body=other))[0] == 201
    assert export(stack, {}, partner_id="shop-b")["body"].count("\n") == 1  # the header: none of shop-a's
