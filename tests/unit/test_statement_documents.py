"""The member's statement page: the summary first, labels for every kind of entry, dates people read,
and nothing of the program's insides (codes, table keys, operators)."""

from __future__ import annotations

import re
from typing import Any

from partnerpoints.logic.statement_documents import KIND_LABELS, member_page
from partnerpoints.models.ledger import EntryKind


def statement(**changes: Any) -> dict[str, Any]:
    entries = [
        {
            "entry_id": f"{kind}#m-1#1",
            "posted_at": "2028-02-29T23:59:59.123456+00:00",
            "occurred_at": "2028-02-29T23:59:59.123456+00:00",
            "account": "main",
            "kind": kind,
            "points": points,
            "reference": f"order shop-a/A-1 v1 {kind}",
            "description": None,
            "partner_id": "shop-a",
            "order_id": "A-1",
        }
        for kind, points in (("accrual_pending", 45), ("accrual_release", 45), ("clawback", -5))
    ]
    entries.append({**entries[0], "kind": "adjustment", "points": 100, "description": "welcome bonus"})
    base = {
        "statement": "member",
        "member_id": "m-1",
        "period": {"label": "2028-02-29", "from": "2028-02-29", "to": "2028-02-29"},
        "tier": {"tier": "silver", "previous": "basic", "changed": True},
        "accounts": [
            {
                "account": "main",
                "opening": {"available": 0, "pending": 0, "lifetime": 0},
                "closing": {"available": 140, "pending": 45, "lifetime": 185},
                "credits": {},
                "debits": {},
                "entries": entries,
            }
        ],
        "pending": [{"partner_id": "shop-a", "order_id": "A-2", "points": 45, "release_on": "2028-03-30"}],
        "expiring": {"points": 140, "on": "2028-12-31"},
    }
    return {**base, **changes}


def test_every_kind_of_entry_has_a_label() -> None:
    assert set(KIND_LABELS) == {str(kind) for kind in EntryKind}


def test_the_summary_comes_first_with_release_and_expiry_dates() -> None:
    page = member_page(statement())
    glance = page.index("At a glance")
    assert glance < page.index("Points on their way") < page.index("Points account")
    assert "140 points</strong>" in page
    assert "first available on 30 March 2028" in page
    assert "Expiring soon<strong>140 points</strong>on 31 December 2028" in page
    assert "29 February 2028, 23:59 UTC" in page
    assert "Tier <strong>Silver</strong> (was Basic)".lower() in page.lower()


def test_no_code_key_or_microsecond_reaches_the_member() -> None:
    page = member_page(statement())
    for inside in ("accrual_pending", "clawback", "adjustment#", "m-1#1", "v1", "arn:"):
        assert inside not in page, inside
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d{6}", page)
    assert "welcome bonus" in page
    assert "purchase A-1 at shop-a" in page


def test_a_statement_with_nothing_pending_or_expiring_says_so() -> None:
    page = member_page(statement(pending=[], expiring=None))
    assert "nothing pending" not in page  # 45 points are still pending on the account
    quiet = statement(pending=[], expiring=None)
    quiet["accounts"][0]["closing"] = {"available": 10, "pending": 0, "lifetime": 10}
    page = member_page(quiet)
    assert "nothing pending" in page
    assert "Expiring soon" not in page
