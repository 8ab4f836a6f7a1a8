"""The nightly statements on moto tables from the template: a day's activity becomes statements whose
numbers this test recomputes from the ledger's entries by its own rule, re-runs change nothing, months
roll up, a failed shard is retried, and a corrupted balance is reported, not corrected."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import partnerpoints.logic.nightly_statements as nightly
from partnerpoints.dal.ledger_tables import AccountBalanceItem, LedgerEntryItem
from partnerpoints.dal.statement_files import StatementFiles
from partnerpoints.dal.tables import bind_tables
from partnerpoints.dal.webhook_tables import WebhookEventItem
from partnerpoints.exceptions import InvalidField
from partnerpoints.logic.ledger import Ledger
from partnerpoints.models.ledger import Account, EntryKind, Posting
from partnerpoints.models.periods import Period, add_months, dormancy_days, end_of_day
from partnerpoints.settings import Settings
from partnerpoints_infra.functions import invoke
from partnerpoints_infra.provision import LocalStack
from tests.integration.accrual import OrdersStream, run_accrual
from tests.integration.postbacks import MEMBER, create_shop, deliver, order_body, signed_event
from tests.integration.statements import (
    bucket_objects,
    drain_shard_queue,
    object_json,
    run_day,
    statements_of,
)
from tests.integration.test_admin_api import call as admin_call
from tests.integration.test_admin_api import event as admin_event
from tests.integration.test_click_redirect import click, click_event

DORMANT = "m-dormant"
EXPIRY_MONTHS = 24


def _settings(stack: LocalStack) -> Settings:
    return Settings.from_environment(stack.runtime_environment("StatementsFunction"))


def _post(
    ledger: Ledger,
    at: datetime,
    entry_id: str,
    member: str,
    account: Account,
    kind: EntryKind,
    points: int,
    **extra: Any,
) -> None:
    ledger.post(
        Posting(
            entry_id=entry_id,
            member_id=member,
            account=account,
            kind=kind,
            points=points,
            reference=entry_id,
            **extra,
        ),
        now=at,
    )


def dormant_expires_on(day: date) -> bool:
    """Whether any day's points expire when `day` closes: not on a 29 February EXPIRY_MONTHS after a
    common year (the member last active on the 28th expired on the 28th)."""
    return bool(dormancy_days(day, EXPIRY_MONTHS))


def a_day_of_activity(stack: LocalStack, ledger: Ledger) -> date:
    """Today: an order approved (no hold: released tonight), one rejected, clicks (human, bot, blocked),
    promo points credited and spent at the shop, and a member dormant for exactly EXPIRY_MONTHS (when
    such a day exists: see dormant_expires_on)."""
    shop = create_shop(stack, hold_days=0)
    stream = OrdersStream(stack)
    for status, order_id, amount in (
        ("pending", "A-1", "200.00"),
        ("approved", "A-1", "200.00"),
        ("pending", "A-2", "100.00"),
        ("rejected", "A-2", "100.00"),
    ):
        body = order_body(status, order_id=order_id, click_id=shop.click_id, amount=amount, items=[])
        assert deliver(stack, signed_event(body))[0] == 202
        assert run_accrual(stack, stream.new_records()) == []
    head = click_event("head-click-link-preview-bot.json")
    click(stack, head)
    blocked = click_event()
    blocked["headers"]["referer"] = "https://www.coupon-spam.example/deals"
    assert click(stack, blocked)["statusCode"] in (302, 403)
    now = datetime.now(UTC)
    _post(ledger, now, "promo-1", MEMBER, Account.PROMO, EntryKind.PROMO_CREDIT, 100)
    _post(ledger, now, "spend-1", MEMBER, Account.PROMO, EntryKind.SPEND, -30, partner_id="shop-a")
    today = now.date()
    dormant_day = (dormancy_days(today, EXPIRY_MONTHS) or [add_months(today, -EXPIRY_MONTHS)])[0]
    _post(
        ledger,
        end_of_day(dormant_day) - timedelta(hours=2),
        "adj-1",
        DORMANT,
        Account.MAIN,
        EntryKind.ADJUSTMENT,
        500,
    )
    _post(
        ledger,
        end_of_day(dormant_day) - timedelta(hours=1),
        "spend-d",
        DORMANT,
        Account.MAIN,
        EntryKind.SPEND,
        -1,
    )
    return today


# The test's own rule (not the ledger's table): what each kind does to (available, pending).
def _moves(kind: str, points: int) -> tuple[int, int]:
    if kind in ("accrual_pending", "accrual_void"):
        return 0, points
    if kind == "accrual_release":
        return points, -points
    return points, 0


def _recomputed(entries: list[dict[str, Any]], period: Period) -> dict[str, Any]:
    opening, closing = [0, 0], [0, 0]
    credits: Counter[str] = Counter()
    debits: Counter[str] = Counter()
    for entry in entries:
        posted = datetime.fromisoformat(entry["posted_at"])
        available, pending = _moves(entry["kind"], entry["points"])
        if posted > period.end:
            continue
        closing[0] += available
        closing[1] += pending
        if posted < period.start:
            opening[0] += available
            opening[1] += pending
        elif entry["points"] > 0:
            credits[entry["kind"]] += entry["points"]
        else:
            debits[entry["kind"]] -= entry["points"]
    return {"opening": opening, "closing": closing, "credits": dict(credits), "debits": dict(debits)}


def _entries_of(stack: LocalStack, member: str, account: str) -> list[dict[str, Any]]:
    bind_tables(_settings(stack))
    return [
        {"posted_at": item.posted_at.isoformat(), "kind": item.kind, "points": int(item.points)}
        for item in LedgerEntryItem.scan(
            (LedgerEntryItem.member_id == member) & (LedgerEntryItem.account == account)
        )
    ]


@pytest.mark.calendar  # closes today, expires, rolls up a month: make calendar
def test_a_days_statements_match_the_entries_recomputed_and_the_manifest_reconciles(
    moto_stack: LocalStack, ledger: Ledger
) -> None:
    today = a_day_of_activity(moto_stack, ledger)
    expires = dormant_expires_on(today)
    queued = run_day(moto_stack, today)
    assert queued["settle"] == {"orders_released": 1, "points_released": 10}
    objects = bucket_objects(moto_stack)
    prefix = f"statements/{today.isoformat()}/"
    manifest = object_json(objects, prefix + "manifest.json")
    assert manifest["reconciliation"] == {"accounts_checked": 2 + expires, "mismatches": [], "clean": True}
    assert (manifest["members"], manifest["partners"], manifest["expired_members"]) == (
        1 + expires,
        1,
        int(expires),
    )
    assert manifest["points_by_kind"] == {
        "accrual_pending": 15,
        "accrual_release": 10,
        "accrual_void": -5,
        **({"expiry": -499} if expires else {}),
        "promo_credit": 100,
        "spend": -30,
    }
    assert set(manifest["timings_ms"]) >= {"settle", "expire", "member_statements", "partner_statements"}

    period = Period.day(today)
    for member in (MEMBER, DORMANT) if expires else (MEMBER,):
        statement = object_json(objects, f"{prefix}members/{member}.json")
        assert statement["period"] == {
            "label": today.isoformat(),
            "from": today.isoformat(),
            "to": today.isoformat(),
        }
        for section in statement["accounts"]:
            expected = _recomputed(_entries_of(moto_stack, member, section["account"]), period)
            assert [section["opening"]["available"], section["opening"]["pending"]] == expected["opening"]
            assert [section["closing"]["available"], section["closing"]["pending"]] == expected["closing"]
            assert (section["credits"], section["debits"]) == (expected["credits"], expected["debits"])
        assert objects[f"{prefix}members/{member}.csv"].decode().startswith("account,entry_id,posted_at")
        page = objects[f"{prefix}members/{member}.html"].decode()
        assert page.startswith("<!doctype html>")
        assert member in page

    alice = object_json(objects, f"{prefix}members/{MEMBER}.json")
    main = next(section for section in alice["accounts"] if section["account"] == "main")
    assert main["closing"] == {"available": 10, "pending": 0, "lifetime": 10}
    assert alice["pending"] == []
    assert alice["expiring"] is None
    if expires:
        dormant = object_json(objects, f"{prefix}members/{DORMANT}.json")
        assert dormant["accounts"][0]["debits"] == {"expiry": 499}
        assert dormant["accounts"][0]["closing"]["available"] == 0
    assert ledger.balances(DORMANT)[Account.MAIN].available == (0 if expires else 499)

    shop = object_json(objects, f"{prefix}partners/shop-a.json")
    assert shop["clicks"]["total"] == {"total": 3, "unique": 1, "bot": 1, "blocked": 1}
    assert shop["clicks"]["billable"] == 1
    assert shop["orders"]["by_status"] == {"approved": 1, "rejected": 1}
    assert shop["orders"]["new"] == 2
    assert shop["money"] == [
        {
            "currency": "EUR",
            "gross_sales": "300.00",
            "commission_due": "16.00",  # 8 % of the approved 200.00; the rejected order owes nothing
            "commission_reversed": "0.00",
            "commission_net": "16.00",
            "earnings_per_click": "16.0000",
        }
    ]
    assert shop["points"] == {"issued": 15, "released": 10, "reversed": 5, "spent": 30, "spend_refunded": 0}
    assert shop["conversion_rate"] == "2.0000"  # two orders on one unique click
    assert objects[f"{prefix}partners/shop-a.csv"].decode().startswith("record,id,status")


def test_a_rerun_writes_the_same_bytes_and_posts_nothing(moto_stack: LocalStack, ledger: Ledger) -> None:
    today = a_day_of_activity(moto_stack, ledger)
    run_day(moto_stack, today)
    first = bucket_objects(moto_stack)
    bind_tables(_settings(moto_stack))
    entries = LedgerEntryItem.count()
    told = statements_told()
    again = run_day(moto_stack, today)
    assert again["settle"] == {"orders_released": 0, "points_released": 0}
    assert bucket_objects(moto_stack) == first
    assert LedgerEntryItem.count() == entries
    # Each statement written is told once (statement.ready), and the re-run tells nothing more.
    written = {key for key in first if key.endswith(".json") and ("/members/" in key or "/partners/" in key)}
    assert len(told) == len(written) > 0
    ready = [json.loads(data) for data in told.values()]
    assert {
        f"statements/{today}/{item['statement']}s/{item[item['statement'] + '_id']}.json" for item in ready
    } == written
    assert statements_told() == told


def statements_told() -> dict[str, str]:
    """The statement.ready events recorded: id -> data."""
    return {item.event_id: item.data for item in WebhookEventItem.scan() if item.type == "statement.ready"}


@pytest.mark.calendar  # closes today, expires, rolls up a month: make calendar
def test_the_month_rolls_up_every_day_of_it(moto_stack: LocalStack, ledger: Ledger) -> None:
    today = datetime.now(UTC).date()
    month = Period.month(today.year, today.month)
    days = sorted({month.first, today})
    for number, day in enumerate(days):
        _post(
            ledger,
            end_of_day(day) - timedelta(hours=1),
            f"adj-{number}",
            MEMBER,
            Account.MAIN,
            EntryKind.ADJUSTMENT,
            10 + number,
        )
    statements = statements_of(moto_stack)
    for shard in range(16):
        statements.run_shard(month, shard)
    objects = bucket_objects(moto_stack)
    rolled = object_json(objects, f"statements/{month.label}/members/{MEMBER}.json")
    assert [entry["points"] for entry in rolled["accounts"][0]["entries"]] == [
        10 + n for n in range(len(days))
    ]
    assert rolled["accounts"][0]["closing"]["available"] == sum(10 + n for n in range(len(days)))
    manifest = object_json(objects, f"statements/{month.label}/manifest.json")
    assert manifest["settle"] is None
    assert manifest["reconciliation"]["clean"]
    assert manifest["period"] == month.describe()


def test_a_shard_that_fails_once_is_retried_and_the_manifest_completes(
    moto_stack: LocalStack, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = a_day_of_activity(moto_stack, ledger)
    statements_of(moto_stack).close(today)
    original_put = StatementFiles.put
    failures: list[str] = []

    def put_failing_once(self: StatementFiles, key: str, body: bytes, content_type: str) -> None:
        if "/members/" in key and not failures:
            failures.append(key)
            raise ConnectionError("S3 went away for a moment")
        original_put(self, key, body, content_type)

    monkeypatch.setattr(StatementFiles, "put", put_failing_once)
    # The failed message stays on the queue and comes back; its shard then finishes the run.
    failed = drain_shard_queue(moto_stack)
    assert len(failed) == 1
    assert len(failures) == 1
    manifest_key = f"statements/{today.isoformat()}/manifest.json"
    manifest = object_json(bucket_objects(moto_stack), manifest_key)
    assert manifest["shards"] == 16
    assert manifest["reconciliation"]["clean"]
    assert manifest["members"] == 1 + dormant_expires_on(today)


def _alarm_count(capsys: pytest.CaptureFixture[str]) -> int:
    """What the StatementMismatches metric adds up to over the EMF blobs the function printed."""
    return sum(
        value
        for blob in map(json.loads, filter(None, capsys.readouterr().out.splitlines()))
        for value in blob.get("StatementMismatches", [])
    )


def _close_and_drain(stack: LocalStack, day: date) -> dict[str, bytes]:
    statements_of(stack).close(day)
    assert drain_shard_queue(stack) == []
    return bucket_objects(stack)


MAIN_MISMATCH = {
    "member_id": MEMBER,
    "account": "main",
    "stored": {"available": 47, "pending": 0, "lifetime": 0},
    "entries_sum": {"available": 40, "pending": 0, "lifetime": 0},
    "statement_closing": {"available": 40, "pending": 0, "lifetime": 0},
    "entries_after_period": 0,
}


# Days pinned, not today's: a month's last day also runs the month's roll-up (found on a 30 November).
@pytest.mark.parametrize("day", [date(2026, 11, 18), date(2026, 11, 30), date(2024, 2, 29)])
def test_a_corrupted_balance_is_listed_as_a_mismatch_and_left_as_it_is(
    moto_stack: LocalStack,
    ledger: Ledger,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    day: date,
) -> None:
    monkeypatch.setattr(nightly, "RECONCILE_PAUSE_SECONDS", 0.0)  # it re-reads, then reports
    at = end_of_day(day) - timedelta(hours=3)
    _post(ledger, at, "adj-a", MEMBER, Account.MAIN, EntryKind.ADJUSTMENT, 40)
    _post(ledger, at, "adj-b", "m-2002", Account.MAIN, EntryKind.ADJUSTMENT, 25)
    bind_tables(_settings(moto_stack))
    AccountBalanceItem(MEMBER, "main").update(actions=[AccountBalanceItem.available.add(7)])
    capsys.readouterr()
    objects = _close_and_drain(moto_stack, day)
    manifest = object_json(objects, f"statements/{day.isoformat()}/manifest.json")
    assert manifest["reconciliation"]["clean"] is False
    assert manifest["reconciliation"]["mismatches"] == [MAIN_MISMATCH]
    month_end = (day + timedelta(days=1)).day == 1
    month_key = f"statements/{day.isoformat()[:7]}/manifest.json"
    assert (month_key in objects) is month_end
    if month_end:  # listed by both statements, alarmed once
        assert object_json(objects, month_key)["reconciliation"]["mismatches"] == [MAIN_MISMATCH]
    assert ledger.balances(MEMBER)[Account.MAIN].available == 47  # reported, never corrected
    assert _alarm_count(capsys) == 1  # the metric finance alarms on: one broken account, one alarm


def test_a_mismatch_only_the_month_can_see_is_alarmed_by_the_month(
    moto_stack: LocalStack,
    ledger: Ledger,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An account that moved earlier in the month is not in its last day's run: the roll-up finds it."""
    monkeypatch.setattr(nightly, "RECONCILE_PAUSE_SECONDS", 0.0)
    last = date(2026, 12, 31)
    _post(
        ledger, datetime(2026, 12, 3, 10, tzinfo=UTC), "adj-a", MEMBER, Account.MAIN, EntryKind.ADJUSTMENT, 40
    )
    _post(
        ledger,
        end_of_day(last) - timedelta(hours=1),
        "adj-b",
        "m-2002",
        Account.MAIN,
        EntryKind.ADJUSTMENT,
        25,
    )
    bind_tables(_settings(moto_stack))
    AccountBalanceItem(MEMBER, "main").update(actions=[AccountBalanceItem.available.add(7)])
    capsys.readouterr()
    objects = _close_and_drain(moto_stack, last)
    assert object_json(objects, "statements/2026-12-31/manifest.json")["reconciliation"]["clean"] is True
    month = object_json(objects, "statements/2026-12/manifest.json")
    assert month["reconciliation"]["mismatches"] == [MAIN_MISMATCH]
    assert _alarm_count(capsys) == 1


@pytest.mark.calendar  # "still to come" is relative to today
@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({"date": "2026-13-01"}, "date"),
        ({"date": "2999-01-01"}, "still to come"),
        ({"when": "yesterday"}, "when"),
        ({"action": "status", "period": "2026-00"}, "period"),
    ],
)
def test_a_run_asked_something_impossible_says_what(
    moto_stack: LocalStack, event: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidField, match=problem):
        invoke(moto_stack, "StatementsFunction", event)


@pytest.mark.calendar  # closes today, expires, rolls up a month: make calendar
def test_the_status_of_a_run_reads_its_progress(moto_stack: LocalStack, ledger: Ledger) -> None:
    today = datetime.now(UTC).date()
    _post(ledger, datetime.now(UTC), "adj-s", MEMBER, Account.MAIN, EntryKind.ADJUSTMENT, 5)
    statements_of(moto_stack).close(today)
    waiting = invoke(moto_stack, "StatementsFunction", {"action": "status", "date": today.isoformat()})
    assert (waiting["shards_done"], waiting["manifest"]) == (0, None)
    drain_shard_queue(moto_stack)
    done = invoke(moto_stack, "StatementsFunction", {"action": "status", "date": today.isoformat()})
    assert done["shards_done"] == 16
    assert done["manifest"]["members"] == 1


def _anonymous_click(stack: LocalStack) -> str:
    event = click_event()
    event["requestContext"]["http"]["sourceIp"] = "198.51.100.77"
    location = click(stack, event)["headers"]["Location"]
    click_id: str = parse_qs(urlsplit(location).query)["cid"][0]
    return click_id


@pytest.mark.calendar  # closes today, expires, rolls up a month: make calendar
def test_a_partner_is_billed_only_for_the_orders_the_network_referred(
    moto_stack: LocalStack, ledger: Ledger
) -> None:
    """A member's order, an order on an anonymous click, an order without a click that the operator
    approves, and two the network did not refer: commission and rates recomputed here from the amounts."""
    shop = create_shop(moto_stack, hold_days=0)
    anonymous = _anonymous_click(moto_stack)
    placed = datetime.now(UTC)
    orders = {  # order -> (click id, amount, referred, reason)
        "R-MEMBER": (shop.click_id, "200.00", True, None),
        "R-ANON": (anonymous, "50.00", True, None),
        "R-APPROVED": (None, "30.00", True, None),  # the operator's decision makes it referred
        "U-NOCLICK": (None, "70.00", False, "no_click_id"),
        "U-EARLY": (shop.click_id, "90.00", False, "order_before_click"),
    }
    for order_id, (click_id, amount, _, _) in orders.items():
        at = placed - timedelta(minutes=6) if order_id == "U-EARLY" else placed
        for status in ("pending", "approved"):
            body = order_body(status, order_id=order_id, amount=amount, items=[], occurred_at=at.isoformat())
            if click_id is None:
                del body["click_id"]
            else:
                body["click_id"] = click_id
            assert deliver(moto_stack, signed_event(body))[0] == 202
    review = admin_event("post-partner.json")
    review["rawPath"] = review["requestContext"]["http"]["path"] = "/admin/orders/shop-a/R-APPROVED/review"
    review["body"] = json.dumps({"decision": "approve", "note": "receipt checked", "member_id": "m-5005"})
    assert admin_call(moto_stack, review)[0] == 200

    today = placed.date()
    run_day(moto_stack, today)
    statement = object_json(
        bucket_objects(moto_stack), f"statements/{today.isoformat()}/partners/shop-a.json"
    )

    referred = {order_id: spec for order_id, spec in orders.items() if spec[2]}
    commission = {  # 8 % of each referred amount (the shop's rate; no items), half-even to the cent
        order_id: (Decimal(amount) * Decimal("0.08")).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
        for order_id, (_, amount, _, _) in referred.items()
    }
    due = sum(commission.values(), Decimal(0))
    assert due == Decimal("22.40")
    assert {
        row["order_id"]: Decimal(row["commission_due"]) for row in statement["orders"]["orders"]
    } == commission
    assert statement["orders"]["new"] == 3
    assert statement["orders"]["by_status"] == {"approved": 3}
    assert [row["earns_points"] for row in statement["orders"]["orders"]] == [False, True, True]  # ANON first
    billable = statement["clicks"]["billable"]
    assert billable == 2  # the member's click and the anonymous one
    assert statement["money"] == [
        {
            "currency": "EUR",
            "gross_sales": str(sum((Decimal(spec[1]) for spec in referred.values()), Decimal(0))),
            "commission_due": str(due),
            "commission_reversed": "0.00",
            "commission_net": str(due),
            "earnings_per_click": str((due / billable).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)),
        }
    ]
    assert statement["conversion_rate"] == "1.5000"  # three referred orders on two unique clicks
    unreferred = statement["unreferred"]
    assert unreferred["count"] == 2
    assert unreferred["by_reason"] == {"no_click_id": 1, "order_before_click": 1}
    assert {
        row["order_id"]: (row["reason"], row["amount"], row["commission_due"]) for row in unreferred["orders"]
    } == {
        "U-EARLY": ("order_before_click", "90.00", "0.00"),
        "U-NOCLICK": ("no_click_id", "70.00", "0.00"),
    }
    assert unreferred["sales"] == [{"currency": "EUR", "amount": "160.00"}]
    csv_rows = bucket_objects(moto_stack)[f"statements/{today.isoformat()}/partners/shop-a.csv"].decode()
    assert "unreferred_order,U-EARLY,approved,EUR,90.00" in csv_rows
