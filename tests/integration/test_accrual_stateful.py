"""Hypothesis drives random order lifecycles through the real postback and accrual handlers (moto tables
from the template): placed, approved at another amount, rejected, partly and fully refunded, held for
review and decided. The Orders stream's records reach the accrual function in random batches, each
possibly delivered twice, interleaved across orders and with earlier records redelivered late. After
every delivery round the member's balance must equal the model and the sum of the ledger's entries."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from moto import mock_aws

from partnerpoints.logic.accrual import get_accrual
from partnerpoints.logic.ledger import get_ledger
from partnerpoints.logic.order_review import get_order_review
from partnerpoints.models.ledger import Account
from partnerpoints.models.orders import ReviewDecision, ReviewRequest
from partnerpoints_infra.provision import provision
from tests.conftest import forget_deployment
from tests.integration.accrual import OrdersStream, run_accrual
from tests.integration.postbacks import MEMBER, create_shop, deliver, order_body, signed_event

ORDERS = ("O-1", "O-2", "O-3")
AMOUNTS = ("40.00", "80.00", "120.00", "200.00")  # over 150.00 goes to review
REVIEW_AMOUNT = "150"


@dataclass
class ModelOrder:
    status: str = ""
    amount_minor: int = 0
    refunded_minor: int = 0
    in_review: bool = False
    review_rejected: bool = False
    ever_approved: bool = False
    pending: int = 0
    released: int = 0

    def earns(self) -> int:
        """5 % of the unrefunded amount at 1 point per euro, base tier, floored once."""
        if not self.status or self.in_review or self.review_rejected or self.status == "rejected":
            return 0
        return (self.amount_minor - self.refunded_minor) * 5 // 10_000

    def settle(self) -> None:
        change = self.earns() - (self.pending + self.released)
        if change >= 0:
            self.pending += change
            return
        voided = min(-change, self.pending)
        self.pending -= voided
        self.released -= -change - voided


def minor(amount: str) -> int:
    return int(amount.replace(".", ""))


class AccrualMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.mock = mock_aws()
        self.mock.start()
        self.stack = provision()
        forget_deployment()
        self.environment = pytest.MonkeyPatch()
        for name, value in self.stack.environment().items():
            self.environment.setenv(name, value)
        self.shop = create_shop(self.stack, review_amount=REVIEW_AMOUNT)
        self.stream = OrdersStream(self.stack)
        self.orders: dict[str, ModelOrder] = {order_id: ModelOrder() for order_id in ORDERS}
        self.delivered: list[dict[str, Any]] = []
        self.undelivered = 0

    def teardown(self) -> None:
        self.environment.undo()
        self.mock.stop()

    def _deliver_postback(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return deliver(self.stack, signed_event(body))

    def _accrue(self, batch: list[dict[str, Any]]) -> None:
        assert run_accrual(self.stack, batch) == []

    def _release(self, as_of: datetime) -> None:
        get_accrual().release_matured(as_of, lookback_days=40)

    def _postback(self, order_id: str, body: dict[str, Any]) -> None:
        status, answer = self._deliver_postback(body)
        assert status in (200, 202, 409), answer
        if status != 202:
            return
        model = self.orders[order_id]
        if not model.status:
            model.in_review = answer["in_review"]
        model.status = body["status"]
        model.amount_minor = minor(body["amount"])
        model.refunded_minor = minor(body.get("refunded_amount") or "0")
        model.ever_approved |= body["status"] in ("approved", "refunded")
        self.undelivered += 1

    @rule(order_id=st.sampled_from(ORDERS), amount=st.sampled_from(AMOUNTS))
    def place(self, order_id: str, amount: str) -> None:
        body = order_body(order_id=order_id, click_id=self.shop.click_id, amount=amount, items=[])
        self._postback(order_id, body)

    @rule(order_id=st.sampled_from(ORDERS), amount=st.sampled_from(AMOUNTS))
    def approve(self, order_id: str, amount: str) -> None:
        # A partner may approve at another amount than it placed the order with.
        body = order_body("approved", order_id=order_id, click_id=self.shop.click_id, amount=amount, items=[])
        self._postback(order_id, body)

    @rule(order_id=st.sampled_from(ORDERS))
    def reject(self, order_id: str) -> None:
        amount = AMOUNTS[0] if not self.orders[order_id].status else self._amount(order_id)
        body = order_body("rejected", order_id=order_id, click_id=self.shop.click_id, amount=amount, items=[])
        self._postback(order_id, body)

    @rule(order_id=st.sampled_from(ORDERS), share=st.sampled_from((1, 2, 4)))
    def refund(self, order_id: str, share: int) -> None:
        model = self.orders[order_id]
        amount_minor = model.amount_minor or minor(AMOUNTS[1])
        refunded = max(amount_minor // share, model.refunded_minor)
        body = order_body(
            "refunded",
            order_id=order_id,
            click_id=self.shop.click_id,
            amount=f"{amount_minor // 100}.{amount_minor % 100:02d}",
            refunded_amount=f"{refunded // 100}.{refunded % 100:02d}",
            items=[],
        )
        self._postback(order_id, body)

    def _amount(self, order_id: str) -> str:
        amount_minor = self.orders[order_id].amount_minor
        return f"{amount_minor // 100}.{amount_minor % 100:02d}"

    @precondition(lambda self: any(model.in_review for model in self.orders.values()))
    @rule(data=st.data(), approve=st.booleans())
    def decide_review(self, data: st.DataObject, approve: bool) -> None:
        order_id = data.draw(st.sampled_from([o for o, model in self.orders.items() if model.in_review]))
        decision = ReviewDecision.APPROVE if approve else ReviewDecision.REJECT
        get_order_review().decide("shop-a", order_id, ReviewRequest(decision=decision, note="checked"))
        model = self.orders[order_id]
        model.in_review = False
        model.review_rejected = not approve
        self.undelivered += 1

    @rule(seed=st.integers(0, 2**32 - 1))
    def stream_delivers(self, seed: int) -> None:
        """New records in random batches: interleaved across orders (each order's own records keep their
        order, as a stream shard does), each batch maybe delivered twice, and a few old records again."""
        shuffle = random.Random(seed)
        records = self.stream.new_records()
        by_order: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            by_order.setdefault(record["dynamodb"]["Keys"]["order_id"]["S"], []).append(record)
        interleaved = []
        while any(by_order.values()):
            order_id = shuffle.choice([key for key, queue in by_order.items() if queue])
            interleaved.append(by_order[order_id].pop(0))
        redelivered = shuffle.sample(self.delivered, k=min(len(self.delivered), shuffle.randint(0, 3)))
        batches = []
        while interleaved:
            size = shuffle.randint(1, 4)
            batch, interleaved = interleaved[:size], interleaved[size:]
            batches.append(batch)
            if shuffle.random() < 0.3:
                batches.append(batch)  # Lambda retried a batch that had succeeded
        batches.append(redelivered)
        for batch in batches:
            if batch:
                self._accrue(batch)
        self.delivered += records
        for model in self.orders.values():
            model.settle()
        self.undelivered = 0

    @rule(seed=st.integers(0, 2**32 - 1))
    def holds_end(self, seed: int) -> None:
        self.stream_delivers(seed)
        self._release(datetime.now(UTC) + timedelta(days=31))
        for model in self.orders.values():
            if model.ever_approved and model.earns() > 0:
                model.released += model.pending
                model.pending = 0

    @invariant()
    def balance_matches_the_model_and_the_entries(self) -> None:
        if self.undelivered:
            return
        balance = get_ledger().balances(MEMBER)[Account.MAIN]
        expected_pending = sum(model.pending for model in self.orders.values())
        expected_available = sum(model.released for model in self.orders.values())
        assert (balance.pending, balance.available) == (expected_pending, expected_available)
        rebuilt = get_ledger().rebuilt_balance(MEMBER, Account.MAIN)
        assert (rebuilt.pending, rebuilt.available) == (balance.pending, balance.available)
        assert balance.pending >= 0


AccrualMachine.TestCase.settings = settings(
    max_examples=8,
    stateful_step_count=14,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_order_lifecycles_accrue_exactly_once = AccrualMachine.TestCase
