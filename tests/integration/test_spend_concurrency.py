"""Members' spends racing on AWS DynamoDB Local: never an overdraft, one spend per Idempotency-Key."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from partnerpoints.exceptions import InsufficientPoints
from partnerpoints.logic.ledger import get_ledger
from partnerpoints.logic.member_accounts import get_idempotent_spend, get_member_accounts
from partnerpoints.logic.partners import get_partner_directory
from partnerpoints.models.ledger import Account, EntryKind, Posting
from partnerpoints.models.members import SpendRequest
from partnerpoints.models.partners import NewPartner
from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import PROJECT_ROOT
from tests.conftest import forget_deployment
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


def test_twenty_concurrent_retries_of_one_key_spend_once(funded_member: None) -> None:
    data = {
        "member_id": MEMBER,
        "idempotency_key": "same-key-0001",
        "request": {"partner_id": "shop-a", "points": 30, "account": "main", "reference": "voucher"},
    }
    receipts: list[dict[str, object]] = []

    def retry(_: int) -> str:
        try:
            receipts.append(get_idempotent_spend()(spend=data))
        except IdempotencyAlreadyInProgressError:
            return "in progress"  # answered 409 request_in_progress; the app retries
        return "answered"

    outcome = race(retry)
    assert outcome["answered"] >= 1
    assert {receipt["entry_id"] for receipt in receipts} == {f"spend#{MEMBER}#same-key-0001"}
    assert get_ledger().balances(MEMBER)[Account.MAIN].available == 70
    assert get_idempotent_spend()(spend=data)["entry_id"] == f"spend#{MEMBER}#same-key-0001"
    assert get_ledger().balances(MEMBER)[Account.MAIN].available == 70
