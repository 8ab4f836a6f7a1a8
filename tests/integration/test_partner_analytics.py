"""A partner's customer analytics over the local stack: the nightly run scores its buying members and
writes a CSV per segment; returns are read per category and per link; another partner reads none of it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from partnerpoints_infra.provision import LocalStack
from tests.integration.postbacks import create_shop, deliver, member_click, order_body, signed_event
from tests.integration.statements import bucket_objects, run_day
from tests.integration.test_partner_counters import report

NO_LINES: list[dict[str, str]] = []


def order(
    stack: LocalStack, order_id: str, click_id: str, statuses: tuple[str, ...], **changes: object
) -> None:
    for status in statuses:
        body = order_body(status, order_id=order_id, click_id=click_id, **changes)
        if status == "refunded":
            body["refunded_amount"] = body["amount"]
        assert deliver(stack, signed_event(body))[0] == 202


@pytest.mark.calendar  # closes today: make calendar runs it on a month's last day, 29 February, 31 December
def test_the_nightly_run_segments_a_partners_buyers_and_reads_its_returns(moto_stack: LocalStack) -> None:
    stack = moto_stack
    create_shop(stack, hold_days=0)
    ada = member_click(stack, "m-ada", source_ip="198.51.100.11")
    bo = member_click(stack, "m-bo", source_ip="198.51.100.12")
    cy = member_click(stack, "m-cy", source_ip="198.51.100.13")
    # Ada buys twice (the sample's lines: electronics 59.90 and home 25.00); Bo twice, each wholly
    # refunded; Cy once, without lines.
    order(stack, "A-1", ada, ("approved",))
    order(stack, "A-2", ada, ("approved",))
    order(stack, "B-1", bo, ("approved", "refunded"))
    order(stack, "B-2", bo, ("approved", "refunded"))
    order(stack, "C-1", cy, ("approved",), amount="10.00", items=NO_LINES)
    today = datetime.now(UTC).date()
    run_day(stack, today)

    status, rfm = report(stack, "/partner/analytics/rfm", {})
    assert status == 200
    assert (rfm["as_of"], rfm["window_days"]) == (today.isoformat(), 365)
    (eur,) = rfm["currencies"]
    assert (eur["currency"], eur["members"], eur["net_sales"]) == ("EUR", 2, "179.80")  # Bo kept nothing
    assert sum(segment["members"] for segment in eur["segments"]) == 2
    placed = {segment["segment"]: segment["members"] for segment in eur["segments"] if segment["members"]}
    # Same day for both: recency ranks neither above the other (3); Ada bought more and more often.
    assert placed == {"loyal": 1, "about_to_sleep": 1}
    assert report(stack, "/admin/partners/shop-a/analytics/rfm", {}) == (200, rfm)

    status, link = report(stack, "/partner/analytics/rfm/segments/loyal", {})
    assert status == 200
    assert (link["segment"], link["members"], link["as_of"]) == ("loyal", 1, today.isoformat())
    objects = bucket_objects(stack)
    rows = list(csv.DictReader(io.StringIO(objects[f"analytics/shop-a/{today}/segments/loyal.csv"].decode())))
    assert rows == [
        {
            "member_id": "m-ada",
            "currency": "EUR",
            "recency_days": "0",
            "orders": "2",
            "net_sales": "169.80",
            "r": "3",
            "f": "4",
            "m": "4",
        }
    ]
    assert link["url"].split("?")[0].endswith(f"analytics/shop-a/{today}/segments/loyal.csv")

    status, returns = report(stack, "/partner/analytics/returns", {"from": today.isoformat()})
    assert status == 200
    (total,) = returns["totals"]
    assert total == {
        "currency": "EUR",
        "gross_sales": "349.60",
        "refunded": "169.80",
        "refund_rate": "0.4857",
    }
    by_category = {row["key"]: row for row in returns["by_category"]}
    assert set(by_category) == {"electronics", "home", "~none"}
    assert (by_category["electronics"]["new_orders"], by_category["electronics"]["refunds"]) == (4, 2)
    assert by_category["electronics"]["money"][0]["gross_sales"] == "239.60"
    assert by_category["home"]["money"][0]["refunded"] == "50.00"
    assert by_category["~none"]["money"][0] == {
        "currency": "EUR",
        "gross_sales": "10.00",
        "refunded": "0.00",
        "refund_rate": "0.0000",
    }
    assert [(row["key"], row["refunds"]) for row in returns["by_link"]] == [("shop-a-home", 2)]
    standing_out = returns["members_standing_out"]
    assert standing_out["as_of"] == today.isoformat()
    assert [(row["member_id"], row["refund_rate"]) for row in standing_out["members"]] == [("m-bo", "1.0000")]

    # Another partner's key reads none of it; a backwards range is refused, naming `from`.
    for path in (
        "/partner/analytics/rfm",
        "/partner/analytics/rfm/segments/loyal",
        "/partner/analytics/returns",
    ):
        status, problem = report(stack, path, {}, partner_id="shop-b")
        assert status == 404, path
        assert "shop-a" not in str(problem)
    status, problem = report(
        stack, "/partner/analytics/returns", {"from": today.isoformat(), "to": str(today - timedelta(days=1))}
    )
    assert (status, problem["error"]["details"][0]["path"]) == (422, "query.from")
    assert report(stack, "/partner/analytics/rfm/segments/whales", {})[0] == 422
