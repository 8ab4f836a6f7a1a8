"""Promo codes under fifty simultaneous redemptions on AWS DynamoDB Local (a real storage engine, safe
under concurrency): a single-use code is used once, a member's limit holds, a campaign's total holds.

Not on moto: its in-process backend is not thread-safe (a cancelled transaction restores a copy of the
tables taken before it), so a moto run had to apply requests one at a time, which proves no more than
the sequential tests in test_promo.py and cost two and a half minutes of CI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from partnerpoints.dal.promo_store import PromoStore
from partnerpoints.exceptions import PartnerPointsError
from partnerpoints.logic.ledger import get_ledger
from partnerpoints.logic.promo_codes import ALPHABET, normalize_code
from partnerpoints.logic.promo_redemption import FAILURE_LIMIT
from partnerpoints.models.ledger import Account, EntryKind
from partnerpoints.models.promo import CodeBatch, NewCodes
from partnerpoints.settings import Settings
from partnerpoints_infra.provision import LocalStack
from tests.conftest import forget_deployment, settings_for
from tests.integration.promo import (
    all_batch_codes,
    holdings_match_the_promo_balance,
    new_campaign,
    promo_campaigns,
    promo_redemptions,
)
from tests.integration.test_ledger_concurrency import race

PHONES = 50
pytestmark = pytest.mark.races


@pytest.fixture
def promo_settings(dynamodb_local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    stack = dynamodb_local_stack
    for name, value in stack.runtime_environment().items():
        monkeypatch.setenv(name, value)
    forget_deployment()
    yield settings_for(stack)
    forget_deployment()


def _redeem_all(settings: Settings, member_of: object, code: str) -> dict[str, int]:
    service = promo_redemptions(settings)

    def redeem(i: int) -> str:
        try:
            service.redeem(member_of(i), code)  # type: ignore[operator]
        except PartnerPointsError as error:
            return error.code
        return "redeemed"

    return dict(race(redeem, threads=PHONES))


def _credits(member: str) -> int:
    return sum(1 for e in get_ledger().all_entries(member, Account.PROMO) if e.kind is EntryKind.PROMO_CREDIT)


def test_fifty_phones_one_single_use_code_one_redemption(promo_settings: Settings) -> None:
    campaigns = promo_campaigns(promo_settings)
    campaigns.create(new_campaign(points=500))
    campaigns.add_codes("WINTER", NewCodes(code="ONE-SHOT", max_redemptions=1))

    outcome = _redeem_all(promo_settings, lambda i: f"m-{i:02d}", "one shot")
    assert outcome == {"redeemed": 1, "promo_code_exhausted": PHONES - 1}
    credited = [f"m-{i:02d}" for i in range(PHONES) if _credits(f"m-{i:02d}")]
    assert len(credited) == 1
    assert get_ledger().balances(credited[0])[Account.PROMO].available == 500
    code = PromoStore(promo_settings).get_code("ONESHOT")
    assert code is not None
    assert code.redemptions == 1
    assert PromoStore(promo_settings).get_campaign("WINTER").redemptions == 1


def test_fifty_requests_of_one_member_on_a_shared_code_redeem_once(promo_settings: Settings) -> None:
    campaigns = promo_campaigns(promo_settings)
    campaigns.create(new_campaign(points=40, per_member_limit=1))
    campaigns.add_codes("WINTER", NewCodes(code="SHARED"))

    outcome = _redeem_all(promo_settings, lambda i: "alice", "SHARED")
    assert outcome["redeemed"] == 1
    assert set(outcome) <= {"redeemed", "promo_code_already_redeemed", "too_many_failed_attempts"}
    # Every attempt holds a place among the member's ten allowed failures before anything is looked
    # up, so of fifty at once at most ten (and the one that worked) get that far.
    assert outcome["redeemed"] + outcome.get("promo_code_already_redeemed", 0) <= FAILURE_LIMIT + 1
    assert sum(outcome.values()) == PHONES
    assert _credits("alice") == 1
    assert get_ledger().balances("alice")[Account.PROMO].available == 40
    assert holdings_match_the_promo_balance(promo_settings, "alice")


def test_a_campaign_total_of_ten_holds_against_thirty_members(promo_settings: Settings) -> None:
    campaigns = promo_campaigns(promo_settings)
    campaigns.create(new_campaign(points=5, max_redemptions_total=10))
    campaigns.add_codes("WINTER", NewCodes(code="FIRST-TEN"))
    service = promo_redemptions(promo_settings)

    def redeem(i: int) -> str:
        try:
            service.redeem(f"m-{i % 30:02d}", "FIRST-TEN")
        except PartnerPointsError as error:
            return error.code
        return "redeemed"

    outcome = dict(race(redeem, threads=30))
    assert outcome == {"redeemed": 10, "promo_code_exhausted": 20}
    assert sum(_credits(f"m-{i:02d}") for i in range(30)) == 10
    assert PromoStore(promo_settings).get_campaign("WINTER").redemptions == 10


def test_a_batch_of_ten_thousand_codes_is_unique_and_without_look_alikes(
    dynamodb_local_stack: LocalStack,
) -> None:
    settings = settings_for(dynamodb_local_stack)
    forget_deployment()
    campaigns = promo_campaigns(settings)
    campaigns.create(new_campaign())
    batch = campaigns.add_codes("WINTER", NewCodes(count=10_000, prefix="WIN"))
    assert isinstance(batch, CodeBatch)
    assert campaigns.batch(batch.batch_id).generated == 10_000
    codes = all_batch_codes(campaigns, batch.batch_id, 1000)
    assert len(codes) == len(set(codes)) == 10_000
    assert len({normalize_code(code) for code in codes}) == 10_000
    random_parts = "".join(code.removeprefix("WIN-").replace("-", "") for code in codes)
    assert set(random_parts) <= set(ALPHABET)
    assert not set(random_parts) & set("01OIL")
