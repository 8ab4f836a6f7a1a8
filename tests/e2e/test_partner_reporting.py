"""A partner reads its own numbers over the served stack with its API key: the gateway asks the
PartnerKeyAuthorizer (a Lambda authorizer, as in AWS), the route reads only the key's partner, and
the operator reads any partner's through the IAM-authorized mirror."""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from partnerpoints_infra import cli
from partnerpoints_infra.http_client import Answer, call
from partnerpoints_infra.postback_signing import signature_headers
from tests.e2e.conftest import ServedStack, start_served_stack
from tests.e2e.test_app_over_http import EVENT_DIR, OPERATOR

BROWSER = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"}


def create_partner(stack: ServedStack) -> tuple[str, str]:
    """A fresh partner (the stack is shared by the module) and its webhook secret."""
    partner_id = f"shop-{uuid.uuid4().hex[:8]}"
    body = {
        **json.loads(json.loads((EVENT_DIR / "post-partner.json").read_text())["body"]),
        "partner_id": partner_id,
        "min_seconds_to_order": 0,
    }
    answer = call("POST", f"{stack.http_url}/admin/partners", body, sign_with=OPERATOR)
    assert answer.status == 201
    return partner_id, answer.json()["webhook_secret"]


def send_order(stack: ServedStack, partner_id: str, secret: str, order: dict[str, Any]) -> None:
    raw = json.dumps({"currency": "EUR", "occurred_at": datetime.now(UTC).isoformat(), **order}).encode()
    answer = call(
        "POST", f"{stack.http_url}/postbacks/{partner_id}", raw=raw, headers=signature_headers(secret, raw)
    )
    assert answer.status == 202, answer.json()


def issue_key(stack: ServedStack, partner_id: str, **body: Any) -> dict[str, Any]:
    answer = call("POST", f"{stack.http_url}/admin/partners/{partner_id}/api-keys", body, sign_with=OPERATOR)
    assert answer.status == 201, answer.json()
    return answer.json()  # type: ignore[no-any-return]


def as_partner(stack: ServedStack, api_key: str, path: str) -> Answer:
    return call("GET", f"{stack.http_url}{path}", headers={"authorization": f"Bearer {api_key}"})


def _wait_for_counters(stack: ServedStack, partner_id: str, today: str, timeout: float = 60.0) -> None:
    """The counters are written when a stream window closes (TumblingWindowInSeconds, 10 s here), as the
    nightly run finds them in AWS long after the day's last window: wait for the click and both
    referred sales before closing the day."""
    url = f"{stack.http_url}/admin/partners/{partner_id}/summary?from={today}&to={today}"
    deadline = time.monotonic() + timeout
    totals: Any = None
    while time.monotonic() < deadline:
        totals = call("GET", url, sign_with=OPERATOR).json()["totals"]
        sales = [money["gross_sales"] for money in totals["money"]]
        if totals["clicks"]["total"] == 1 and sales == ["120.00"]:
            return
        time.sleep(0.5)
    raise AssertionError(f"the partner counters did not catch up in {timeout} s: {totals}")


@pytest.fixture(scope="module")
def reporting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Partner A with a click and three orders today and its day closed; partner B with nothing; a key
    for each. On moto only: the indexes these routes read are proven on DynamoDB Local by
    tests/integration/test_partner_reporting.py, without a second served stack and nightly run."""
    stack = start_served_stack(tmp_path_factory.mktemp("reporting-state"), measured=False)
    try:
        yield _seed(stack)
    finally:
        stack.stop()


def _seed(stack: ServedStack) -> dict[str, Any]:
    (shop_a, secret_a), (shop_b, _) = create_partner(stack), create_partner(stack)
    link = {"partner_id": shop_a, "destination": "https://www.shop-a.example/p?cid={click_id}"}
    answer = call("POST", f"{stack.http_url}/admin/links", link, sign_with=OPERATOR)
    assert answer.status == 201
    location = call("GET", answer.json()["url"], headers=BROWSER).headers["Location"]
    click_id = location.split("cid=")[1]
    # Three orders: two on the click (one approved), one the network did not refer.
    send_order(
        stack,
        shop_a,
        secret_a,
        {"order_id": "R-1", "click_id": click_id, "status": "pending", "amount": "80.00"},
    )
    send_order(
        stack,
        shop_a,
        secret_a,
        {"order_id": "R-2", "click_id": click_id, "status": "approved", "amount": "40.00"},
    )
    send_order(stack, shop_a, secret_a, {"order_id": "U-1", "status": "pending", "amount": "10.00"})
    today = datetime.now(UTC).date().isoformat()
    _wait_for_counters(stack, shop_a, today)
    admin = ["admin", "--state-dir", str(stack.state_dir), "statements"]
    assert cli.main([*admin, "run", "--date", today, "--timeout", "60"]) == 0
    return {
        "stack": stack,
        "a": shop_a,
        "b": shop_b,
        "today": today,
        "link_a": answer.json()["link_id"],
        "key_a": issue_key(stack, shop_a, description="dashboard")["api_key"],
        "key_b": issue_key(stack, shop_b)["api_key"],
    }


def test_a_partner_lists_its_statements_and_reads_one_through_a_short_lived_link(
    reporting: dict[str, Any],
) -> None:
    stack, today = reporting["stack"], reporting["today"]
    answer = as_partner(stack, reporting["key_a"], "/partner/statements")
    assert answer.status == 200, answer.json()
    listed = answer.json()
    assert listed["partner_id"] == reporting["a"]
    # Today's statement, and its month's first when today is a month's last day (the run closes both).
    days = [entry for entry in listed["statements"] if entry["kind"] == "day"]
    assert [entry["period"] for entry in days] == [today]
    assert days[0]["formats"] == ["json", "csv"]
    assert listed["statements"][0]["last_day"] == today

    answer = as_partner(stack, reporting["key_a"], f"/partner/statements/{today}?format=csv")
    assert answer.status == 200, answer.json()
    link = answer.json()
    assert (link["period"], link["format"]) == (today, "csv")
    with urllib.request.urlopen(link["url"], timeout=30) as response:
        body = response.read().decode()
    mirrored = (
        stack.state_dir / "buckets/StatementsBucket/statements" / today / "partners" / f"{reporting['a']}.csv"
    )
    # The local stack mirrors the bucket to files every second: give it a few.
    deadline = time.monotonic() + 10
    while not mirrored.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert body == mirrored.read_text()


def test_a_key_reads_only_its_own_partner(reporting: dict[str, Any]) -> None:
    stack, today = reporting["stack"], reporting["today"]
    answer = as_partner(stack, reporting["key_b"], "/partner/statements")
    assert (answer.status, answer.json()["partner_id"], answer.json()["statements"]) == (
        200,
        reporting["b"],
        [],
    )
    answer = as_partner(stack, reporting["key_b"], f"/partner/statements/{today}")
    assert (answer.status, answer.json()["error"]["code"]) == (404, "statement_not_found")
    # There is no partner in a /partner path to change: the key alone names it. The operator's mirror
    # needs IAM, which a partner key is not.
    answer = as_partner(stack, reporting["key_b"], f"/admin/partners/{reporting['a']}/statements")
    assert answer.status == 403
    answer = as_partner(stack, reporting["key_b"], f"/partner/links/{reporting['link_a']}/sub-ids")
    assert (answer.status, answer.json()["error"]["code"]) == (404, "link_not_found")
    answer = as_partner(stack, reporting["key_b"], "/partner/summary")
    assert (answer.status, answer.json()["partner_id"]) == (200, reporting["b"])
    assert answer.json()["totals"]["clicks"]["total"] == 0
    assert as_partner(stack, reporting["key_b"], f"/admin/partners/{reporting['a']}/summary").status == 403


def test_the_operator_reads_any_partners_statements(reporting: dict[str, Any]) -> None:
    stack = reporting["stack"]
    mine = as_partner(stack, reporting["key_a"], "/partner/statements").json()
    answer = call("GET", f"{stack.http_url}/admin/partners/{reporting['a']}/statements", sign_with=OPERATOR)
    assert (answer.status, answer.json()) == (200, mine)
    answer = call("GET", f"{stack.http_url}/admin/partners/no-such-shop/statements", sign_with=OPERATOR)
    assert (answer.status, answer.json()["error"]["code"]) == (404, "partner_not_found")


def test_missing_unknown_revoked_and_expired_keys_are_401(reporting: dict[str, Any]) -> None:
    stack = reporting["stack"]
    answer = call("GET", f"{stack.http_url}/partner/statements")
    assert (answer.status, answer.json()) == (401, {"message": "Unauthorized"})  # the gateway's own
    forged = "ppk_" + "a" * 12 + "_" + "b" * 43
    answer = as_partner(stack, forged, "/partner/statements")
    assert (answer.status, answer.json()["error"]["code"]) == (401, "invalid_api_key")
    revoked = issue_key(stack, reporting["a"])
    path = f"/admin/partners/{reporting['a']}/api-keys/{revoked['key_id']}"
    assert call("DELETE", f"{stack.http_url}{path}", sign_with=OPERATOR).json()["status"] == "revoked"
    answer = as_partner(stack, revoked["api_key"], "/partner/statements")
    assert (answer.status, answer.json()["error"]["code"]) == (401, "api_key_revoked")
    assert reporting["key_a"] not in json.dumps(answer.json())


def test_bad_input_names_the_parameter(reporting: dict[str, Any]) -> None:
    stack, key = reporting["stack"], reporting["key_a"]
    answer = as_partner(stack, key, "/partner/statements/2026-13")
    assert (answer.status, answer.json()["error"]["details"][0]["path"]) == (422, "path.period")
    answer = as_partner(stack, key, "/partner/statements?limit=0")
    assert (answer.status, answer.json()["error"]["details"][0]["path"]) == (422, "query.limit")
    answer = as_partner(stack, key, "/partner/statements?cursor=1999-01-01")
    assert (answer.status, answer.json()["error"]["code"]) == (400, "invalid_cursor")
    answer = as_partner(stack, key, f"/partner/statements/{reporting['today']}?format=xml")
    assert (answer.status, answer.json()["error"]["details"][0]["path"]) == (422, "query.format")


def test_the_admin_command_manages_keys_and_reads_statements(
    reporting: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    stack, shop_a = reporting["stack"], reporting["a"]
    admin = ["admin", "--state-dir", str(stack.state_dir), "partner"]
    assert cli.main([*admin, "api-key", "create", shop_a, "--description", "from the CLI"]) == 0
    issued = json.loads(capsys.readouterr().out)
    assert as_partner(stack, issued["api_key"], "/partner/statements").status == 200
    assert cli.main([*admin, "api-key", "list", shop_a]) == 0
    listed = {key["key_id"]: key for key in json.loads(capsys.readouterr().out)["keys"]}
    assert listed[issued["key_id"]]["description"] == "from the CLI"
    assert listed[issued["key_id"]]["last_used_at"] is not None
    assert issued["api_key"] not in json.dumps(listed)
    assert cli.main([*admin, "api-key", "revoke", shop_a, issued["key_id"]]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "revoked"
    assert cli.main([*admin, "api-key", "create", shop_a, "--expires-at", "2001-01-01T00:00:00Z"]) == 1
    assert "body.expires_at" in capsys.readouterr().err

    assert cli.main([*admin, "statements", shop_a]) == 0
    periods = [entry["period"] for entry in json.loads(capsys.readouterr().out)["statements"]]
    assert reporting["today"] in periods
    assert cli.main([*admin, "statements", shop_a, reporting["today"], "--format", "csv"]) == 0
    assert json.loads(capsys.readouterr().out)["format"] == "csv"

    assert cli.main([*admin, "report", "summary", shop_a, "--granularity", "week"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["partner_id"], summary["granularity"]) == (shop_a, "week")
    assert cli.main([*admin, "report", "summary", shop_a, "--partner-time-zone"]) == 0
    zoned = json.loads(capsys.readouterr().out)  # a partner without a zone: its days are UTC's
    assert (zoned["time_zone"], zoned["time_zone_since"], zoned["totals"]) == ("UTC", None, summary["totals"])
    assert cli.main([*admin, "report", "links", shop_a, "--from", reporting["today"]]) == 0
    assert json.loads(capsys.readouterr().out)["first_day"] == reporting["today"]
    assert cli.main([*admin, "report", "sub-ids", shop_a, "no-such-link", "--field", "sub2"]) == 1
    assert "link_not_found" in capsys.readouterr().err
    assert cli.main([*admin, "report", "rfm", shop_a]) == 0
    assert json.loads(capsys.readouterr().out)["as_of"] == reporting["today"]
    assert cli.main([*admin, "report", "rfm", shop_a, "--segment", "champions"]) == 0
    assert json.loads(capsys.readouterr().out)["segment"] == "champions"
    assert cli.main([*admin, "report", "returns", shop_a, "--from", reporting["today"]]) == 0
    assert json.loads(capsys.readouterr().out)["by_link"][0]["key"] == reporting["link_a"]


def test_a_partner_reads_its_analytics_and_only_its_own(reporting: dict[str, Any]) -> None:
    stack, today = reporting["stack"], reporting["today"]
    answer = as_partner(stack, reporting["key_a"], "/partner/analytics/rfm")
    assert answer.status == 200, answer.json()
    # The day's orders came through a link without a member: no buyer to score, yet an analysis made.
    assert (answer.json()["as_of"], answer.json()["currencies"]) == (today, [])
    answer = as_partner(stack, reporting["key_a"], "/partner/analytics/rfm/segments/new")
    assert answer.status == 200, answer.json()
    with urllib.request.urlopen(answer.json()["url"], timeout=30) as response:
        assert response.read().decode().splitlines() == [
            "member_id,currency,recency_days,orders,net_sales,r,f,m"
        ]
    answer = as_partner(stack, reporting["key_a"], "/partner/analytics/returns")
    assert answer.status == 200, answer.json()
    (total,) = answer.json()["totals"]
    assert (total["gross_sales"], total["refunded"]) == ("120.00", "0.00")  # referred

    answer = as_partner(stack, reporting["key_b"], "/partner/analytics/rfm")
    assert (answer.status, answer.json()["error"]["code"]) == (404, "analysis_not_found")
    answer = as_partner(stack, reporting["key_b"], "/partner/analytics/returns")
    assert (answer.status, answer.json()["totals"]) == (200, [])
    path = f"/admin/partners/{reporting['a']}/analytics/rfm"
    assert as_partner(stack, reporting["key_b"], path).status == 403
    answer = call("GET", f"{stack.http_url}{path}", sign_with=OPERATOR)
    assert answer.status == 200


def _orders(stack: ServedStack, key: str, query: str = "") -> Answer:
    """The index trails a write by moments: ask until the three orders are there."""
    answer = as_partner(stack, key, f"/partner/orders{query}")
    for _ in range(50):
        if answer.status != 200 or len(answer.json()["orders"]) >= 2:
            break
        time.sleep(0.1)
        answer = as_partner(stack, key, f"/partner/orders{query}")
    return answer


def test_a_partner_reads_its_latest_transactions_and_only_its_own(reporting: dict[str, Any]) -> None:
    stack = reporting["stack"]
    answer = _orders(stack, reporting["key_a"])
    assert answer.status == 200, answer.json()
    page = answer.json()
    assert page["last_day"] == reporting["today"]
    orders = {order["order_id"]: order for order in page["orders"]}
    assert set(orders) == {"R-1", "R-2", "U-1"}
    assert [order["updated_at"] for order in page["orders"]] == sorted(
        (order["updated_at"] for order in page["orders"]), reverse=True
    )
    assert (orders["R-2"]["status"], orders["R-2"]["amount"], orders["R-2"]["referred"]) == (
        "approved",
        "40.00",
        True,
    )
    assert (orders["U-1"]["referred"], orders["U-1"]["reason"]) == (False, "no_click_id")
    assert all("member_id" not in order for order in page["orders"])  # never the member it earned for
    assert all(order["commission"] != "0.00" for order in page["orders"] if order["referred"])

    approved = _orders(stack, reporting["key_a"], "?status=approved").json()["orders"]
    assert [order["order_id"] for order in approved] == ["R-2"]
    assert as_partner(stack, reporting["key_b"], "/partner/orders").json()["orders"] == []
    mirror = call("GET", f"{stack.http_url}/admin/partners/{reporting['a']}/orders", sign_with=OPERATOR)
    assert {order["order_id"] for order in mirror.json()["orders"]} == set(orders)


def test_orders_page_by_cursor_and_a_cursor_is_bound_to_its_partner(reporting: dict[str, Any]) -> None:
    stack = reporting["stack"]
    _orders(stack, reporting["key_a"])
    first = as_partner(stack, reporting["key_a"], "/partner/orders?limit=2").json()
    assert len(first["orders"]) == 2
    cursor = first["next_cursor"]
    rest = as_partner(stack, reporting["key_a"], f"/partner/orders?limit=2&cursor={cursor}").json()
    seen = [order["order_id"] for order in first["orders"] + rest["orders"]]
    assert sorted(seen) == ["R-1", "R-2", "U-1"]
    assert rest["next_cursor"] is None
    answer = as_partner(stack, reporting["key_b"], f"/partner/orders?cursor={cursor}")
    assert (answer.status, answer.json()["error"]["code"]) == (400, "invalid_cursor")


def test_a_range_is_checked_and_named(reporting: dict[str, Any]) -> None:
    stack, key = reporting["stack"], reporting["key_a"]
    today = datetime.fromisoformat(reporting["today"]).date()
    for query in (
        f"?from={today}&to={today - timedelta(days=1)}",  # backwards
        f"?from={today - timedelta(days=400)}&to={today}",  # 401 days
        "?from=2026-02-30",  # no such day
    ):
        answer = as_partner(stack, key, f"/partner/orders{query}")
        assert (answer.status, answer.json()["error"]["details"][0]["path"]) == (422, "query.from"), query
    longest = as_partner(stack, key, f"/partner/orders?from={today - timedelta(days=399)}&to={today}")
    assert longest.status == 200
    answer = as_partner(stack, key, "/partner/orders?status=lost")
    assert (answer.status, answer.json()["error"]["details"][0]["path"]) == (422, "query.status")


def test_a_partner_reads_its_summary_and_links_once_the_stream_window_closes(
    reporting: dict[str, Any],
) -> None:
    stack, key, today = reporting["stack"], reporting["key_a"], reporting["today"]
    deadline = time.monotonic() + 60
    answer = as_partner(stack, key, f"/partner/summary?from={today}&to={today}")
    while (
        answer.status == 200 and answer.json()["totals"]["orders"]["new"] < 2 and time.monotonic() < deadline
    ):
        time.sleep(0.5)  # the counters are written when the stream's window closes (10 s)
        answer = as_partner(stack, key, f"/partner/summary?from={today}&to={today}")
    assert answer.status == 200, answer.json()
    totals = answer.json()["totals"]
    assert totals["clicks"]["total"] == 1
    assert totals["orders"]["new"] == 2
    assert totals["orders"]["unreferred"] == 1
    assert [(money["currency"], money["gross_sales"]) for money in totals["money"]] == [("EUR", "120.00")]
    answer = as_partner(stack, key, f"/partner/links?from={today}&to={today}")
    assert [link["link_id"] for link in answer.json()["links"]] == [reporting["link_a"]]
    answer = as_partner(stack, key, "/partner/summary?from=2026-02-30")
    assert (answer.status, answer.json()["error"]["details"][0]["path"]) == (422, "query.from")


def test_a_partner_exports_its_orders_as_csv_and_only_its_own(reporting: dict[str, Any]) -> None:
    stack = reporting["stack"]
    _orders(stack, reporting["key_a"])  # the index holds the orders
    answer = as_partner(stack, reporting["key_a"], "/partner/exports/orders.csv")
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.body.decode())))
    assert sorted(row["order_id"] for row in rows) == ["R-1", "R-2", "U-1"]
    answer = as_partner(stack, reporting["key_b"], "/partner/exports/orders.csv")
    assert answer.body.decode().count("\n") == 1  # the header row: none of partner A's
