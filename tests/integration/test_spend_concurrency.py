"""Members' spends racing on AWS DynamoDB Local: never an overdraft, one spend per Idempotency-Key."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from partnerpoints.exceptions import InsufficientPoints
from partnerpoints.logic.ledger import get_ledger
from partnerpoints.logic.member_accounts import (
    SPEND_IDEMPOTENCY,
    SPEND_LOCK_SECONDS_OUTSIDE_LAMBDA,
    MemberAccounts,
    get_idempotent_spend,
    get_member_accounts,
)
from partnerpoints.logic.partners import get_partner_directory
from partnerpoints.models.ledger import Account, EntryKind, Posting
from partnerpoints.models.members import SpendRequest
from partnerpoints.models.partners import NewPartner
from partnerpoints_infra.functions import invoke
from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import PROJECT_ROOT
from tests.conftest import forget_deployment
from tests.integration.test_accrual import member_event
from tests.integration.test_ledger_concurrency import THREADS, race

MEMBER = "m-race"


@pytest.fixture
def funded_member(dynamodb_local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in dynamodb_local_stack.runtime_environment().items():
        monkeypatch.setenv(name, value)
    forget_deployment()
    partner = json.loads(
        json.loads((PROJECT_ROOT / "events/AdminApiFunction/post-partner.json").read_text())["body"]
    )
    get_partner_directory().create_partner(NewPartner.model_validate(partner))
    grant = Posting(
        entry_id="grant",
        member_id=MEMBER,
        account=Account.MAIN,
        kind=EntryKind.ADJUSTMENT,
        points=100,
        reference="welcome",
    )
    get_ledger().post(grant)
    yield
    forget_deployment()


def test_twenty_concurrent_spends_never_overdraw(funded_member: None) -> None:
    request = SpendRequest(partner_id="shop-a", points=15, reference="voucher")

    def spend(i: int) -> str:
        try:
            get_member_accounts().spend(MEMBER, f"key-{i:08d}", request)
        except InsufficientPoints:
            return "refused"
        return "spent"

    outcome = race(spend)
    assert outcome == {"spent": 6, "refused": THREADS - 6}  # 6 x 15 = 90 of 100
    balance = get_ledger().balances(MEMBER)[Account.MAIN]
    assert balance.available == 10
    assert get_ledger().rebuilt_balance(MEMBER, Account.MAIN).available == 10


def test_twenty_concurrent_retries_of_one_key_get_the_first_receipt_or_in_progress(
    funded_member: None, dynamodb_local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic: the first spend holds the key until the other nineteen have been told it is in
    progress; then every retry gets the first receipt. It runs after an invocation of the function has
    ended in this process, which once dated every later in-progress lock by that invocation (0 ms left:
    a lock born expired, taken over by a retry or failing as an inconsistent state, a 500)."""
    coffee = member_event(
        "post-spend.json",
        member=MEMBER,
        scopes="admin",
        body={"partner_id": "shop-a", "points": 10, "reference": "coffee"},
    )
    assert invoke(dynamodb_local_stack, "MemberApiFunction", coffee)["statusCode"] == 201
    # What Powertools reads for the lock's expiry is no longer that invocation's clock.
    registered = SPEND_IDEMPOTENCY.lambda_context
    assert registered is not None
    assert registered.get_remaining_time_in_millis() == SPEND_LOCK_SECONDS_OUTSIDE_LAMBDA * 1000

    told_in_progress: list[int] = []
    everyone_told = threading.Event()
    spend_once = MemberAccounts.spend

    def held_spend(self: MemberAccounts, *args: Any) -> Any:
        assert everyone_told.wait(timeout=30), "a retry took the lock over instead of waiting"
        return spend_once(self, *args)

    monkeypatch.setattr(MemberAccounts, "spend", held_spend)
    data = {
        "member_id": MEMBER,
        "idempotency_key": "same-key-0001",
        "request": {"partner_id": "shop-a", "points": 30, "account": "main", "reference": "voucher"},
    }
    receipts: list[dict[str, object]] = []

    def retry(i: int) -> str:
        try:
            receipts.append(get_idempotent_spend()(spend=data))
        except IdempotencyAlreadyInProgressError:
            told_in_progress.append(i)  # answered 409 request_in_progress; the app retries
            if len(told_in_progress) == THREADS - 1:
                everyone_told.set()
            return "in progress"
        return "answered"

    assert race(retry) == {"answered": 1, "in progress": THREADS - 1}
    assert [receipt["entry_id"] for receipt in receipts] == [f"spend#{MEMBER}#same-key-0001"]
    again = race(lambda _: str(get_idempotent_spend()(spend=data)["entry_id"]))
    assert again == {f"spend#{MEMBER}#same-key-0001": THREADS}
    assert get_ledger().balances(MEMBER)[Account.MAIN].available == 60
    assert get_ledger().rebuilt_balance(MEMBER, Account.MAIN).available == 60
