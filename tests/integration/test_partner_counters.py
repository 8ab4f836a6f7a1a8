"""The partner counters against a plain model: whatever way the stream's windows come (split anywhere,
delivered again whole or after a part was written, shards interleaved in any order), each counter ends
as the sum of what the final versions of the items count for. shop-b has a time zone (Kathmandu, 5 h 45
ahead of UTC): its activity near midnight lands on other local days, counted beside the UTC ones."""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from partnerpoints.dal import counter_store
from partnerpoints.dal.counter_store import CounterStore
from partnerpoints.logic.activity_counters import (
    ActivityCounters,
    Source,
    StreamChange,
    add_deltas,
    click_change,
    clicked_at_of,
    entry_change,
    order_change,
)
from partnerpoints.models.counters import OTHER, WindowId, WindowState, split_zone
from partnerpoints.models.orders import Order
from partnerpoints_infra.functions import invoke
from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import PROJECT_ROOT
from tests.conftest import settings_for
from tests.integration.accrual import OrdersStream, run_accrual
from tests.integration.counters import count_activity, deliver_window
from tests.integration.postbacks import create_shop, deliver, member_click, order_body, signed_event
from tests.integration.statements import bucket_objects, object_json, run_day
from tests.integration.test_click_redirect import click, click_event

DAYS = (date(2028, 2, 29), date(2028, 12, 31))
ZONES = {"shop-a": None, "shop-b": "Asia/Kathmandu"}
LINKS = ("ln-a", "ln-b")
CAMPAIGNS = ("spring", "summer", "autumn")

clicks = st.lists(
    st.fixed_dictionaries(
        {
            "partner": st.sampled_from(("shop-a", "shop-b")),
            "link": st.sampled_from(LINKS),
            "day": st.sampled_from(DAYS),
            "sub1": st.none() | st.sampled_from(CAMPAIGNS),
            "bot": st.booleans(),
            "blocked": st.booleans(),
            "repeats": st.integers(min_value=1, max_value=3),
        }
    ),
    min_size=1,
    max_size=12,
)
entries = st.lists(
    st.tuples(
        st.sampled_from(("shop-a", "shop-b")),
        st.sampled_from(("accrual_pending", "accrual_release", "spend", "clawback")),
        st.integers(min_value=1, max_value=500),
        st.sampled_from(DAYS),
    ),
    max_size=6,
)


orders = st.lists(
    st.fixed_dictionaries(
        {
            "partner": st.sampled_from(("shop-a", "shop-b")),
            "link": st.sampled_from(LINKS),
            "referred": st.booleans(),
            "amount": st.integers(min_value=100, max_value=50_000),
            "lines": st.lists(
                st.tuples(
                    st.sampled_from(("toys", "home", None)), st.integers(min_value=0, max_value=20_000)
                ),
                max_size=3,
            ),
            "steps": st.lists(
                st.tuples(
                    st.sampled_from(("pending", "approved", "refunded")),
                    st.sampled_from(DAYS),
                    st.integers(min_value=0, max_value=100),
                ),
                min_size=1,
                max_size=3,
            ),
        }
    ),
    max_size=4,
)


def order_images(order: dict[str, Any], run: str, number: int) -> list[dict[str, Any]]:
    """The order item after each accepted change: its history grows, refunds only grow."""
    amount, referred = order["amount"], order["referred"]
    images, history, refunded = [], [], 0
    for version, (status, day, percent) in enumerate(sorted(order["steps"], key=lambda step: step[1]), 1):
        # 16:00, 20:00 and midnight UTC: Kathmandu's next day from 18:15 on, UTC's next day at the third.
        at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC) + timedelta(hours=4 * version)
        if status == "refunded":
            refunded = max(refunded, amount * percent // 100)
        history.append(
            {
                "version": version,
                "at": at,
                "event": status,
                "status": status,
                "amount_minor": amount,
                "refunded_minor": refunded,
                "referred": referred if version == 1 else None,
                "reason": None if referred else "no_click",
            }
        )
        images.append(
            {
                "partner_id": f"{run}{order['partner']}",
                "order_id": f"o{number}",
                "version": version,
                "status": status,
                "currency": "EUR",
                "amount_minor": amount,
                "refunded_minor": refunded,
                "click_id": "c0" if referred else None,
                "attribution": {"attributed": False, "referred": referred, "link_id": order["link"]},
                "commission_minor": amount // 10,
                "commission_reversed_minor": 0,
                "occurred_at": history[0]["at"],
                "status_at": at,
                "created_at": history[0]["at"],
                "updated_at": at,
                "history": list(history),
                "time_zone": ZONES[order["partner"]],
                "items": [
                    {"sku": f"S{n}", "amount_minor": line, "quantity": 1, "category": category}
                    for n, (category, line) in enumerate(order["lines"])
                ],
            }
        )
    return images


def click_images(click: dict[str, Any], run: str, number: int) -> list[dict[str, Any]]:
    """The click item after its first request and after each repeat of its flood window."""
    base = {
        "click_id": f"c{number}",
        "partner_id": f"{run}{click['partner']}",
        "link_id": click["link"],
        "clicked_at": f"{click['day'].isoformat()}T23:59:59.999000+0000",
        "bot": click["bot"],
        "unique": not click["bot"] and not click["blocked"],
        "blocked": click["blocked"],
        "sub_ids": {"sub1": click["sub1"]} if click["sub1"] else {},
        "time_zone": ZONES[click["partner"]],
    }
    return [{**base, "clicks": count} for count in range(1, click["repeats"] + 1)]


def entry_image(entry: tuple[str, str, int, date], run: str, number: int) -> dict[str, Any]:
    partner, kind, points, day = entry
    signed = -points if kind in ("spend", "clawback") else points
    return {
        "entry_id": f"e{number}",
        "partner_id": f"{run}{partner}",
        "kind": kind,
        "points": signed,
        "partner_activity_key": f"{day.isoformat()}#01",
        "posted_at": f"{day.isoformat()}T20:00:00.000000+0000",
    }


def zones_of(run: str) -> Any:
    """The partners' time zones as the counters function reads them (only the partners asked for)."""

    def lookup(partner_ids: Any) -> dict[str, str | None]:
        return {partner_id: ZONES[partner_id.removeprefix(run)] for partner_id in partner_ids}

    return lookup


def shards_of(
    click_list: list[dict[str, Any]],
    entry_list: list[tuple[str, str, int, date]],
    order_list: list[dict[str, Any]],
    run: str,
) -> tuple[dict[str, list[StreamChange]], dict[Any, Counter[str]]]:
    """Each item's changes on a shard (an item's changes stay on its shard, in order), and the model:
    what the final version of every item counts for."""
    shards: dict[str, list[StreamChange]] = {"clicks-1": [], "clicks-2": [], "ledger-1": [], "orders-1": []}
    model: dict[Any, Counter[str]] = {}
    sequence = 0
    for number, one_click in enumerate(click_list):
        images = click_images(one_click, run, number)
        shard = shards[f"clicks-{1 + number % 2}"]
        for old, new in zip([None, *images], images, strict=False):
            sequence += 1
            shard.append(StreamChange(Source.CLICKS, f"{sequence:08d}", old, new))
        add_deltas(model, click_change(None, images[-1]))
    for number, entry in enumerate(entry_list):
        sequence += 1
        image = entry_image(entry, run, number)
        shards["ledger-1"].append(StreamChange(Source.LEDGER, f"{sequence:08d}", None, image))
        add_deltas(model, entry_change(None, image, ZONES[entry[0]]))
    for number, one_order in enumerate(order_list):
        images = order_images(one_order, run, number)
        for old, new in zip([None, *images], images, strict=False):
            sequence += 1
            shards["orders-1"].append(StreamChange(Source.ORDERS, f"{sequence:08d}", old, new))
        add_deltas(model, order_change(None, Order.model_validate(images[-1])))
    return shards, model


def windows_of(changes: list[StreamChange], cuts: random.Random) -> list[list[StreamChange]]:
    windows, current = [], []
    for change in changes:
        current.append(change)
        if cuts.random() < 0.4:
            windows.append(current)
            current = []
    return [*windows, current] if current else windows


def stored(store: CounterStore, partner_ids: set[str]) -> dict[Any, Counter[str]]:
    found: dict[Any, Counter[str]] = {}
    for partner_id in partner_ids:
        for row in store._query(partner_id, "cat#", "z#\uffff"):
            found[(partner_id, row.key)] = Counter(row.counters)
    return {key: counters for key, counters in found.items() if +counters}


def fold_sub_ids(counts: dict[Any, Counter[str]]) -> dict[Any, Counter[str]]:
    """Sub id counters per link, field and day, whatever values had their own counter."""
    folded: dict[Any, Counter[str]] = {}
    for (partner_id, key), counters in counts.items():
        if split_zone(key)[1].startswith("sub#"):
            group = key.rsplit("#", 1)[0]
            folded.setdefault((partner_id, group), Counter()).update(counters)
        elif not key.startswith("subtally#"):
            folded[(partner_id, key)] = counters
    return folded


class FailingOnce(CounterStore):
    """Loses the answer of the second part of the first window it writes: that part landed, and Lambda
    delivers the whole window again."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.failed = False

    def _write_part(self, window: WindowId, part: int, chunk: Any) -> bool:
        written = super()._write_part(window, part, chunk)
        if part == 1 and not self.failed:
            self.failed = True
            raise ConnectionError("the answer was lost")
        return written


@pytest.mark.usefixtures("moto_stack")
@settings(
    max_examples=25,
    deadline=None,
    # No shrinking: every step writes to moto, and shrinking a failure was measured at over five minutes;
    # the failing example's seed is printed instead.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    click_list=clicks, entry_list=entries, order_list=orders, seed=st.integers(min_value=0, max_value=2**32)
)
def test_windows_redelivered_and_reordered_count_every_change_once(
    moto_stack: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
    click_list: list[dict[str, Any]],
    entry_list: list[tuple[str, str, int, date]],
    order_list: list[dict[str, Any]],
    seed: int,
) -> None:
    monkeypatch.setattr(counter_store, "KEYS_PER_TRANSACTION", 3)  # windows of several parts
    monkeypatch.setattr(counter_store, "SUB_ID_VALUES", 2)  # and sub id values past the allowance
    run = uuid.uuid4().hex[:6]
    chance = random.Random(seed)
    store = FailingOnce(settings_for(moto_stack))
    counters = ActivityCounters(store, zones_of(run))
    shards, model = shards_of(click_list, entry_list, order_list, run)

    deliveries = []
    for shard_id, changes in shards.items():
        for number, window in enumerate(windows_of(changes, chance)):
            deliveries.append((shard_id, number, window))
            if chance.random() < 0.3:
                deliveries.append((shard_id, number, window))  # delivered again, whole
    chance.shuffle(deliveries)
    for shard_id, number, window in deliveries:
        # The window's records come in batches, each folded into the state the previous one returned.
        state = WindowState()
        for start in range(0, len(window), 2):
            state, uncountable = counters.fold(state, window[start : start + 2])
            assert uncountable == []
        window_id = WindowId(
            "Clicks", f"{run}{shard_id}", f"2028-02-29T00:00:{number:02d}Z", state.first or ""
        )
        try:
            counters.close(window_id, state)
        except ConnectionError:
            counters.close(window_id, state)  # Lambda's retry of the window's final invocation

    counted = stored(store, {partner for partner, _ in model})
    assert fold_sub_ids(counted) == fold_sub_ids(model)
    for (partner_id, key), tally in counted.items():
        if key.startswith("subtally#"):
            own = [k for p, k in counted if p == partner_id and k.startswith(key[len("subtally#") :])]
            assert tally["values"] <= 2
            assert len([k for k in own if not k.endswith(OTHER)]) == tally["values"]


def test_an_order_whose_partner_moves_zone_counts_its_new_days_whole_in_the_new_zone() -> None:
    """An order changing after its partner set (or changed) its zone starts afresh there: the local days
    of its new changes are counted whole in the new zone, the old zone keeps what it had, and every
    later change telescopes in the new zone as in UTC."""
    order = {
        "partner": "shop-b",
        "link": "ln-a",
        "referred": True,
        "amount": 10_000,
        "lines": [],
        "steps": [("pending", DAYS[0], 0), ("approved", DAYS[0], 0), ("refunded", DAYS[1], 40)],
    }
    first, second, third = (Order.model_validate(image) for image in order_images(order, "r", 1))
    unzoned = first.model_copy(update={"time_zone": None})
    berlin = second.model_copy(update={"time_zone": "Europe/Berlin"})

    counted: dict[Any, Counter[str]] = {}
    for old, new in ((None, unzoned), (unzoned, berlin), (berlin, third)):
        add_deltas(counted, order_change(old, new))
    in_zone = {key: counters for key, counters in counted.items() if key[1].startswith("z#")}
    whole = {key: counters for key, counters in order_change(None, third).items() if key[1].startswith("z#")}

    # UTC: every change once, as if the zone never moved.
    utc = {key: counters for key, counters in counted.items() if not key[1].startswith("z#")}
    assert utc == {key: c for key, c in order_change(None, third).items() if not key[1].startswith("z#")}
    # Berlin got the day of its one change whole (the order's creation that day included) and keeps it.
    assert in_zone[("rshop-b", "z#Europe/Berlin#day#2028-02-29")]["orders.new"] == 1
    # Kathmandu counts from the refund on: its local day, whole, and nothing of February.
    kathmandu = {key: c for key, c in in_zone.items() if key[1].startswith("z#Asia/Kathmandu#")}
    assert kathmandu == {key: c for key, c in whole.items() if "#2029-01-01" in key[1]}
    assert kathmandu[("rshop-b", "z#Asia/Kathmandu#day#2029-01-01")]["refunded.EUR"] == 4_000


def minor(amount: str) -> int:
    return int(Decimal(amount) * 100)


@pytest.mark.calendar  # closes today: make calendar runs it on a month's last day, 29 February, 31 December
def test_a_days_counters_are_the_partner_statement_of_that_day_to_the_cent(moto_stack: LocalStack) -> None:
    stack = moto_stack
    orders_stream = OrdersStream(stack)
    shop = create_shop(stack, hold_days=0)
    member_click(stack, "m-2002", source_ip="198.51.100.8")  # a second member, no order
    placed = datetime.now(UTC).isoformat()
    for order_id, click_id, amount, statuses in (
        ("R-1", shop.click_id, "120.00", ("pending", "approved")),
        ("R-2", shop.click_id, "80.00", ("approved", "refunded")),
        ("U-1", None, "70.00", ("pending",)),  # no click: not referred
    ):
        for status in statuses:
            body = order_body(status, order_id=order_id, amount=amount, items=[], occurred_at=placed)
            if status == "refunded":
                body["refunded_amount"] = "30.00"
            if click_id is None:
                del body["click_id"]
            else:
                body["click_id"] = click_id
            assert deliver(stack, signed_event(body))[0] == 202
    assert run_accrual(stack, orders_stream.new_records()) == []  # the ledger's entries of the orders
    today = datetime.now(UTC).date()
    run_day(stack, today)  # counts the three streams, then writes the statements
    statement = object_json(bucket_objects(stack), f"statements/{today.isoformat()}/partners/shop-a.json")
    store = CounterStore(settings_for(stack))
    (day,) = store.days("shop-a", today, today)
    counted = day.counters

    assert {name: counted.get(f"clicks.{name}", 0) for name in ("total", "unique", "bot", "blocked")} == (
        statement["clicks"]["total"]
    )
    assert counted["orders.new"] == statement["orders"]["new"] == 2
    assert {status: counted[f"orders.{status}"] for status in statement["orders"]["by_status"]} == statement[
        "orders"
    ]["by_status"]
    (money,) = statement["money"]
    assert counted["sales.EUR"] == minor(money["gross_sales"]) == 20000
    assert counted.get("commission_due.EUR", 0) == minor(money["commission_due"])
    assert counted.get("commission_reversed.EUR", 0) == minor(money["commission_reversed"])
    assert counted["refunded.EUR"] == 3000
    assert counted["unreferred.orders"] == statement["unreferred"]["count"] == 1
    points = statement["points"]
    assert counted.get("points.issued", 0) == points["issued"] > 0
    assert counted.get("points.reversed", 0) == points["reversed"]
    links = {row.key: row.counters for row in store.links("shop-a", today, today)}
    assert links[f"{today.isoformat()}#shop-a-home"]["clicks.total"] == statement["clicks"]["total"]["total"]

    # The same window delivered again (the whole Clicks stream from its start) changes nothing.
    clicks = OrdersStream(stack, "ClicksTable")
    deliver_window(stack, clicks.arn, clicks.new_records())
    assert store.days("shop-a", today, today)[0].counters["clicks.total"] == counted["clicks.total"]


def report(
    stack: LocalStack, path: str, query: dict[str, str], partner_id: str = "shop-a"
) -> tuple[int, Any]:
    """A /partner route called with `partner_id`'s key (the authorizer's answer), or an /admin one."""
    event = json.loads((PROJECT_ROOT / "events/PartnerReportingFunction/get-my-orders.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["routeKey"] = event["requestContext"]["routeKey"] = "GET " + path  # not what routing reads
    event["rawQueryString"] = "&".join(f"{name}={value}" for name, value in query.items())
    event["queryStringParameters"] = query or None
    event["requestContext"]["authorizer"] = {"lambda": {"partner_id": partner_id, "key_id": "k3y0f5hopa01"}}
    response = invoke(stack, "PartnerReportingFunction", event)
    return response["statusCode"], json.loads(response["body"])


def sub_id_click(stack: LocalStack, sub1: str, source_ip: str) -> None:
    event = click_event(rawQueryString=f"sub1={sub1}", queryStringParameters={"sub1": sub1})
    event["requestContext"]["http"]["sourceIp"] = source_ip
    assert click(stack, event)["statusCode"] == 302


def test_a_partner_reads_its_summary_links_and_sub_ids_and_nobody_elses(moto_stack: LocalStack) -> None:
    stack = moto_stack
    shop = create_shop(stack, hold_days=0)
    for number, campaign in enumerate(("spring", "spring", "autumn")):
        sub_id_click(stack, campaign, f"203.0.113.{number + 1}")
    body = order_body("approved", order_id="R-1", amount="50.00", items=[], click_id=shop.click_id)
    assert deliver(stack, signed_event(body))[0] == 202
    count_activity(stack)
    today = datetime.now(UTC).date()
    week = {"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()}

    status, summary = report(stack, "/partner/summary", {**week, "granularity": "day"})
    assert status == 200
    assert len(summary["periods"]) == 7
    assert summary["periods"][-1] == {
        "first_day": today.isoformat(),
        "last_day": today.isoformat(),
        **{name: summary["totals"][name] for name in summary["totals"]},
    }
    totals = summary["totals"]
    assert totals["clicks"] == {"total": 4, "unique": 4, "bot": 0, "blocked": 0, "billable": 4}
    assert totals["orders"]["new"] == 1
    assert totals["orders"]["by_status"] == {"approved": 1}
    (eur,) = totals["money"]
    assert eur["gross_sales"] == "50.00"
    assert eur["average_order_value"] == "50.0000"
    assert totals["conversion_rate"] == "0.2500"  # one new order on four unique clicks
    status, monthly = report(stack, "/partner/summary", {**week, "granularity": "month"})
    assert status == 200
    assert monthly["totals"] == totals
    assert sum(period["clicks"]["total"] for period in monthly["periods"]) == 4

    status, links = report(stack, "/partner/links", week)
    assert status == 200
    assert [(link["link_id"], link["clicks"]["total"]) for link in links["links"]] == [("shop-a-home", 4)]
    status, sub_ids = report(stack, "/partner/links/shop-a-home/sub-ids", {**week, "field": "sub1"})
    assert status == 200
    assert [(value["value"], value["clicks"]["total"]) for value in sub_ids["values"]] == [
        ("spring", 2),
        ("autumn", 1),
    ]

    # Another partner's key reads none of it: the link is not its own, and it has no numbers.
    assert report(stack, "/partner/links/shop-a-home/sub-ids", week, partner_id="shop-b")[0] == 404
    assert report(stack, "/partner/summary", week, partner_id="shop-b")[0] == 404
    status, problem = report(stack, "/partner/summary", {"from": today.isoformat(), "to": "2020-01-01"})
    assert status == 422
    assert problem["error"]["details"][0]["path"] == "query.from"


def test_a_partner_with_a_time_zone_reads_its_own_local_days(moto_stack: LocalStack) -> None:
    """The clicks, orders and points of a partner with a zone are counted on its local days as well as on
    UTC's: the same totals, each on the day its moment falls on in the zone."""
    stack = moto_stack
    # A zone whose day differs from UTC's for most of the day, whenever the test runs.
    zone_name = "Pacific/Kiritimati" if datetime.now(UTC).hour >= 10 else "Pacific/Pago_Pago"
    zone = ZoneInfo(zone_name)
    orders_stream = OrdersStream(stack)
    shop = create_shop(stack, hold_days=0, time_zone=zone_name)
    sub_id_click(stack, "spring", "203.0.113.1")
    body = order_body("approved", order_id="Z-1", amount="50.00", items=[], click_id=shop.click_id)
    assert deliver(stack, signed_event(body))[0] == 202
    assert run_accrual(stack, orders_stream.new_records()) == []
    count_activity(stack)

    dynamodb = boto3.resource("dynamodb", endpoint_url=stack.endpoints.dynamodb, region_name="us-east-1")
    tables = settings_for(stack)
    click_items = dynamodb.Table(tables.table_name("ClicksTable")).scan()["Items"]
    assert {item["time_zone"] for item in click_items} == {zone_name}  # stamped, in the click's one write
    order = dynamodb.Table(tables.table_name("OrdersTable")).get_item(
        Key={"partner_id": "shop-a", "order_id": "Z-1"}
    )["Item"]
    assert order["time_zone"] == zone_name
    clicked_at = [clicked_at_of(item) for item in click_items]
    ordered_at = datetime.fromisoformat(str(order["created_at"]).replace("+0000", "+00:00"))

    today = datetime.now(UTC).date()
    around = {"from": (today - timedelta(days=2)).isoformat(), "to": (today + timedelta(days=2)).isoformat()}
    status, utc = report(stack, "/partner/summary", around)
    assert (status, utc["time_zone"], utc["time_zone_since"]) == (200, "UTC", None)
    status, local = report(stack, "/partner/summary", {**around, "time_zone": "partner"})
    assert (status, local["time_zone"]) == (200, zone_name)
    assert local["time_zone_since"] is not None
    assert local["totals"] == utc["totals"]
    assert local["totals"]["clicks"]["total"] == 2
    assert local["totals"]["points"]["issued"] > 0

    def clicks_by_day(answer: dict[str, Any]) -> dict[str, int]:
        return {
            period["first_day"]: period["clicks"]["total"]
            for period in answer["periods"]
            if period["clicks"]["total"]
        }

    assert clicks_by_day(utc) == dict(Counter(moment.date().isoformat() for moment in clicked_at))
    assert clicks_by_day(local) == dict(
        Counter(moment.astimezone(zone).date().isoformat() for moment in clicked_at)
    )
    new_orders = {period["first_day"] for period in local["periods"] if period["orders"]["new"]}
    assert new_orders == {ordered_at.astimezone(zone).date().isoformat()}

    # Links, sub ids and returns read the zone's days too; the default range ends on today there.
    status, links = report(stack, "/partner/links", {"time_zone": "partner"})
    assert (status, links["last_day"]) == (200, datetime.now(zone).date().isoformat())
    assert links["links"][0]["clicks"]["total"] == 2
    status, sub_ids = report(stack, "/partner/links/shop-a-home/sub-ids", {**around, "time_zone": "partner"})
    assert [(value["value"], value["clicks"]["total"]) for value in sub_ids["values"]] == [("spring", 1)]
    status, returns = report(stack, "/partner/analytics/returns", {**around, "time_zone": "partner"})
    assert (status, returns["time_zone"], returns["totals"][0]["gross_sales"]) == (200, zone_name, "50.00")
    status, problem = report(stack, "/partner/summary", {"time_zone": "mars"})
    assert (status, problem["error"]["details"][0]["path"]) == (422, "query.time_zone")


def test_an_item_that_is_no_order_counts_for_nothing_and_holds_up_nothing(moto_stack: LocalStack) -> None:
    counters = ActivityCounters(CounterStore(settings_for(moto_stack)))
    poison = StreamChange(Source.ORDERS, "00000001", None, {"partner_id": "shop-x", "order_id": "POISON-1"})
    click = click_images(
        {
            "partner": "shop-a",
            "link": "ln-a",
            "day": DAYS[0],
            "sub1": None,
            "bot": False,
            "blocked": False,
            "repeats": 1,
        },
        "",
        1,
    )[0]
    state, uncountable = counters.fold(
        WindowState(), [poison, StreamChange(Source.CLICKS, "00000002", None, click)]
    )
    assert uncountable == [poison]
    assert state.first == "00000001"
    assert state.deltas() == {
        ("shop-a", "day#2028-02-29"): Counter({"clicks.total": 1, "clicks.unique": 1}),
        ("shop-a", "link#2028-02-29#ln-a"): Counter({"clicks.total": 1, "clicks.unique": 1}),
    }
