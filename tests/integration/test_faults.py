"""DynamoDB failing the ways it fails (partnerpoints_infra.faults): throttled and internal errors the
SDK retries, transactions cancelled by a conflict, and writes whose answer was lost. Whatever AWS does,
points move once, a create whose answer was lost is still a create, and a client is told 503 with
Retry-After, never 500. The stateful accrual machine runs again with faults on every call."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import invariant

from partnerpoints.logic.accrual import get_accrual
from partnerpoints.logic.ledger import Ledger, get_ledger
from partnerpoints.models.ledger import Account, EntryKind, Posting
from partnerpoints_infra.faults import FaultInjector, injecting
from partnerpoints_infra.functions import invoke
from partnerpoints_infra.provision import LocalStack
from tests.integration.accrual import OrdersStream, run_accrual
from tests.integration.postbacks import MEMBER, create_shop, deliver, order_body, signed_event
from tests.integration.test_accrual_stateful import AccrualMachine
from tests.integration.test_admin_api import body_of, call, event
from tests.integration.test_postbacks import _admin as admin_request

LOST_WRITE = {"TransactWriteItems": ["timeout_after_write"]}


def credit(entry_id: str, points: int = 100) -> Posting:
    return Posting(
        entry_id=entry_id,
        member_id="m-1",
        account=Account.MAIN,
        kind=EntryKind.ADJUSTMENT,
        points=points,
        reference=entry_id,
    )


def test_a_post_whose_answer_was_lost_is_not_taken_for_a_duplicate(ledger: Ledger) -> None:
    with injecting(FaultInjector(0, plan=LOST_WRITE)) as injector:
        result = ledger.post(credit("e-1"))
    assert injector.counts["timeout_after_write"] == 1
    assert result.duplicate is False  # the SDK's retry met the write it had made itself
    again = ledger.post(credit("e-1"))
    assert again.duplicate is True  # a second request is one
    balance = ledger.balances("m-1")[Account.MAIN]
    assert balance.available == 100
    assert ledger.rebuilt_balance("m-1", Account.MAIN).available == 100


def test_a_transaction_cancelled_by_a_conflict_is_retried_and_lands_once(ledger: Ledger) -> None:
    with injecting(FaultInjector(0, plan={"TransactWriteItems": ["transaction_conflict"] * 3})) as injector:
        assert ledger.post(credit("e-2", 40)).duplicate is False
    assert injector.counts["transaction_conflict"] == 3
    assert ledger.balances("m-1")[Account.MAIN].available == 40


def test_creates_whose_answer_was_lost_answer_as_creates(moto_stack: LocalStack) -> None:
    with injecting(FaultInjector(0, plan={**LOST_WRITE, "PutItem": ["timeout_after_write"]})) as injector:
        status, created = call(moto_stack, event("post-partner.json"))
        assert status == 201, created
        status, link = call(moto_stack, event("post-link.json"))
        assert status == 201, link
    assert injector.counts["timeout_after_write"] == 2
    # And a second request for the same ids is still refused.
    assert call(moto_stack, event("post-partner.json"))[0] == 409
    assert call(moto_stack, event("post-link.json", body=body_of("post-link.json")))[0] == 409


def test_order_changes_whose_answer_was_lost_answer_as_the_change(moto_stack: LocalStack) -> None:
    shop = create_shop(moto_stack, review_amount="500")
    big = order_body(order_id="B-1", amount="900.00", items=[], click_id=shop.click_id)
    with injecting(FaultInjector(0, plan=LOST_WRITE)) as injector:
        status, accepted = deliver(moto_stack, signed_event(big, message_id="msg_B-1"))
    assert injector.counts["timeout_after_write"] == 1
    decision = {"decision": "approve", "note": "confirmed by phone"}
    with injecting(FaultInjector(0, plan=LOST_WRITE)) as injector:
        decided = admin_request(moto_stack, "POST", "/admin/orders/shop-a/B-1/review", decision)
    assert injector.counts["timeout_after_write"] == 1
    # Not "duplicate" and not "concurrent_change": each met its own write when the SDK sent it again.
    assert (status, accepted["version"], accepted.get("duplicate", False)) == (202, 1, False)
    assert (decided[0], decided[1]["version"], decided[1]["counts"]) == (200, 2, True)
    # A second send of the same message is still a duplicate, answered as the first was.
    status, again = deliver(moto_stack, signed_event(big, message_id="msg_B-1"))
    assert (status, again["duplicate"], again["version"]) == (200, True, 1)


def test_points_whose_write_answer_was_lost_are_reported_as_moved(moto_stack: LocalStack) -> None:
    shop = create_shop(moto_stack)
    stream = OrdersStream(moto_stack)
    body = order_body("approved", click_id=shop.click_id, amount="200.00", items=[])
    assert deliver(moto_stack, signed_event(body))[0] == 202
    assert run_accrual(moto_stack, stream.new_records()) == []
    with injecting(FaultInjector(0, plan=LOST_WRITE)) as injector:
        report = get_accrual().release_matured(datetime.now(UTC) + timedelta(days=31))
    assert injector.counts["timeout_after_write"] == 1
    # The release counts what it moved, not "skipped": it met its own write, not someone else's.
    assert (report.orders_released, report.points_released, report.orders_skipped) == (1, 10, 0)
    balance = get_ledger().balances(MEMBER)[Account.MAIN]
    assert (balance.pending, balance.available) == (0, 10)


@pytest.mark.parametrize("kind", ["throttling", "internal_error"])
def test_storage_failing_past_the_sdk_retries_is_503_with_retry_after(
    moto_stack: LocalStack, kind: str
) -> None:
    request = event(
        "get-partner-unknown.json", rawPath="/admin/partners/shop-a", pathParameters={"partner_id": "shop-a"}
    )
    with injecting(FaultInjector(0, plan={"GetItem": [kind] * 20})) as injector:
        response = invoke(moto_stack, "AdminApiFunction", request)
    body = json.loads(response["body"])
    assert (response["statusCode"], body["error"]["code"]) == (503, "service_unavailable")
    assert response["headers"]["Retry-After"] == "1"
    assert "shop-a" not in body["error"]["message"]  # nothing of the failure's internals
    assert injector.counts[kind] >= 2  # the SDK retried before giving up


class FaultyAccrualMachine(AccrualMachine):
    """The same lifecycles with 10 % of every DynamoDB call failing. Clients retry 503s, the stream
    redelivers from the first record a batch reported as failed; the invariants are checked with the
    faults paused (they are the test's own reads)."""

    RATE = 0.1

    def __init__(self) -> None:
        super().__init__()
        self.injector = FaultInjector(self.RATE, seed=7)
        self.versions: dict[str, int] = {}
        self._context = injecting(self.injector)
        self._context.__enter__()

    def teardown(self) -> None:
        self._context.__exit__(None, None, None)
        injected = sum(self.injector.counts.values())
        FAULTS_SURVIVED.append(injected)
        super().teardown()

    def _deliver_postback(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        for _ in range(10):
            status, answer = super()._deliver_postback(body)
            assert status != 500, answer
            order_id = body["order_id"]
            if (
                status == 200
                and answer.get("duplicate")
                and answer["version"] > self.versions.get(order_id, 0)
            ):
                # A "duplicate" that moved the order to a version this sender never saw: its own
                # delivery, which landed and then answered 503 (a later call failed past the SDK's
                # retries). The change landed once; the model counts it made (docs/operations.md).
                status = 202
            if status in (200, 202):
                self.versions[order_id] = max(self.versions.get(order_id, 0), answer["version"])
            if status != 503:
                return status, answer
        raise AssertionError(f"still 503 after 10 tries: {answer}")

    def _accrue(self, batch: list[dict[str, Any]]) -> None:
        for _ in range(20):
            failed = run_accrual(self.stack, batch)
            if not failed:
                return
            sequence = [record["dynamodb"]["SequenceNumber"] for record in batch]
            batch = batch[min(sequence.index(number) for number in failed) :]
        raise AssertionError("the batch kept failing")

    def _release(self, as_of: datetime) -> None:
        # The nightly run is retried when it fails (it is idempotent), as its schedule retries it.
        for _ in range(10):
            try:
                super()._release(as_of)
                return
            except Exception as error:
                last = error
        raise AssertionError(f"the release kept failing: {last!r}")

    @invariant()
    def balance_matches_the_model_and_the_entries(self) -> None:
        with self.injector.suspended():
            super().balance_matches_the_model_and_the_entries()


FAULTS_SURVIVED: list[int] = []
FaultyAccrualMachine.TestCase.settings = settings(
    # No shrinking: each step is real invocations under random faults, too slow to shrink usefully;
    # the failing run's steps are printed as they were.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    derandomize=True,  # with the injector's fixed seed, the same faults at the same calls every run
    max_examples=3,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_order_lifecycles_accrue_exactly_once_under_faults = FaultyAccrualMachine.TestCase


def test_faults_were_injected_and_survived() -> None:
    # Runs after the machine in this module: it must have met faults, not a quiet table.
    print(json.dumps({"faults survived per run": FAULTS_SURVIVED}))
    assert FAULTS_SURVIVED
    assert sum(FAULTS_SURVIVED) > 0
