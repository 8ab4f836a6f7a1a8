"""A member's own clicks: written from the Clicks and Orders streams by the partner counters function,
read at GET /members/{member_id}/clicks. Records come at least once and in any order; the rows end the
same."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from partnerpoints.dal.member_click_store import MemberClickStore
from partnerpoints.logic.activity_counters import Source, StreamChange
from partnerpoints.logic.member_clicks import MemberClicks
from partnerpoints.models.partner_reports import DayRange
from partnerpoints_infra.provision import LocalStack
from tests.conftest import settings_for
from tests.integration.counters import count_activity
from tests.integration.postbacks import MEMBER, create_shop, deliver, member_click, order_body, signed_event
from tests.integration.test_accrual import member_call, member_event


def clicks_of(stack: LocalStack, member: str = MEMBER, **query: str) -> tuple[int, dict[str, object]]:
    event = member_event("get-clicks.json", member=member, queryStringParameters=query or None)
    return member_call(stack, event)


def test_a_member_sees_their_clicks_and_the_orders_that_followed(moto_stack: LocalStack) -> None:
    stack = moto_stack
    shop = create_shop(stack, hold_days=0)  # m-1001's first click
    second = member_click(stack, MEMBER, source_ip="198.51.100.21")
    member_click(stack, "m-2002", source_ip="198.51.100.22")  # someone else's
    body = order_body("approved", order_id="A-1", click_id=shop.click_id, amount="50.00", items=[])
    assert deliver(stack, signed_event(body))[0] == 202
    body = order_body("approved", order_id="A-2", click_id=shop.click_id, amount="20.00", items=[])
    assert deliver(stack, signed_event(body))[0] == 202
    count_activity(stack)

    status, page = clicks_of(stack)
    assert status == 200, page
    rows = page["clicks"]
    assert isinstance(rows, list)
    assert [row["click_id"] for row in rows] == [second, shop.click_id]  # the latest first
    first = rows[1]
    assert (first["partner_id"], first["link_id"], first["counted"], first["repeats"]) == (
        "shop-a",
        "shop-a-home",
        True,
        0,
    )
    assert (first["order_followed"], first["order_ids"]) == (True, ["A-1", "A-2"])
    assert (rows[0]["order_followed"], rows[0]["order_ids"]) == (False, [])

    # Paged, filtered by partner, bounded by days; another member's token reads none of it.
    status, one = clicks_of(stack, limit="1")
    assert (status, len(one["clicks"])) == (200, 1)  # type: ignore[arg-type]
    status, rest = clicks_of(stack, limit="1", cursor=str(one["next_cursor"]))
    assert [row["click_id"] for row in rest["clicks"]] == [shop.click_id]  # type: ignore[attr-defined]
    assert clicks_of(stack, partner_id="shop-b")[1]["clicks"] == []
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert clicks_of(stack, to=yesterday)[1]["clicks"] == []
    assert clicks_of(stack, member="m-2002")[0] == 403
    status, problem = clicks_of(stack, **{"from": "2020-01-01"})
    assert (status, problem["error"]["details"][0]["path"]) == (422, "query.from")  # type: ignore[index]


def click_image(member_id: str, click_id: str, clicked_at: datetime, clicks: int) -> dict[str, Any]:
    """A Clicks record's image as the click function writes it (the repeats counted on it)."""
    return {
        "click_id": click_id,
        "partner_id": "shop-a",
        "link_id": "shop-a-home",
        "member_id": member_id,
        "clicked_at": clicked_at.strftime("%Y-%m-%dT%H:%M:%S.%f%z"),
        "clicks": clicks,
        "unique": True,
        "bot": False,
    }


def order_image(member_id: str, click_id: str, clicked_at: datetime, order_id: str) -> dict[str, Any]:
    at = clicked_at + timedelta(minutes=5)
    return {
        "partner_id": "shop-a",
        "order_id": order_id,
        "version": 1,
        "status": "approved",
        "currency": "EUR",
        "amount_minor": 1000,
        "refunded_minor": 0,
        "click_id": click_id,
        "attribution": {
            "attributed": True,
            "referred": True,
            "member_id": member_id,
            "link_id": "shop-a-home",
            "clicked_at": clicked_at,
        },
        "commission_minor": 100,
        "commission_reversed_minor": 0,
        "occurred_at": at,
        "status_at": at,
        "created_at": at,
        "updated_at": at,
        "history": [],
    }


@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking over moto takes minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    repeats=st.integers(1, 4),
    orders=st.integers(0, 3),
    copies=st.lists(st.integers(1, 3), min_size=7, max_size=7),
    seed=st.integers(0, 2**32 - 1),
)
def test_records_redelivered_and_reordered_end_in_the_same_row(
    moto_stack: LocalStack, repeats: int, orders: int, copies: list[int], seed: int
) -> None:
    """A click's records (one per repeat) and its orders', each delivered one to three times in any
    order: the row holds the latest repeat count and every order, as if each came once, in order."""
    member_id, click_id = f"m-{uuid.uuid4().hex[:12]}", uuid.uuid4().hex[:26].upper()
    clicked_at = datetime(2028, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC)
    changes = [
        StreamChange(
            Source.CLICKS,
            f"c{n}",
            None if n == 1 else click_image(member_id, click_id, clicked_at, n - 1),
            click_image(member_id, click_id, clicked_at, n),
        )
        for n in range(1, repeats + 1)
    ]
    changes += [
        StreamChange(Source.ORDERS, f"o{n}", None, order_image(member_id, click_id, clicked_at, f"O-{n}"))
        for n in range(orders)
    ]
    delivered = [change for change, times in zip(changes, copies, strict=False) for _ in range(times)]
    random.Random(seed).shuffle(delivered)
    store = MemberClickStore(settings_for(moto_stack))
    MemberClicks(store).record(delivered)

    days = DayRange(clicked_at.date(), clicked_at.date())
    (row,), _ = store.clicks(member_id, days, None, 10, None)
    assert (row.click_id, row.clicked_at, row.partner_id, row.link_id) == (
        click_id,
        clicked_at,
        "shop-a",
        "shop-a-home",
    )
    assert row.repeats == repeats - 1
    assert row.order_ids == [f"O-{n}" for n in range(orders)]
    assert row.order_followed is (orders > 0)
