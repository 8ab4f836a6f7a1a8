"""Promo codes end to end on moto: campaigns, shared and generated codes, redemption answers, limits,
the failed-attempts limit, revocation, and promo points spent only where their campaign allows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from partnerpoints.dal.promo_store import PromoStore
from partnerpoints.exceptions import (
    InsufficientPoints,
    PartnerPointsError,
    PromoCodeNotFound,
    PromoPointsRestricted,
    TooManyFailedAttempts,
)
from partnerpoints.logic.ledger import get_ledger
from partnerpoints.logic.member_accounts import get_member_accounts
from partnerpoints.logic.partners import get_partner_directory
from partnerpoints.logic.promo_codes import ALPHABET
from partnerpoints.logic.promo_redemption import FAILURE_LIMIT
from partnerpoints.models.ledger import Account, EntryKind
from partnerpoints.models.members import SpendRequest
from partnerpoints.models.partners import NewPartner
from partnerpoints.models.promo import CampaignStatus, CodeBatch, NewCodes, PromoCode
from partnerpoints_infra.functions import invoke
from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import PROJECT_ROOT
from tests.conftest import settings_for
from tests.integration.promo import (
    all_batch_codes,
    holdings_match_the_promo_balance,
    new_campaign,
    promo_campaigns,
    promo_redemptions,
)


def _error_code(call: Any) -> str:
    with pytest.raises(PartnerPointsError) as raised:
        call()
    return raised.value.code


def _partners(*partner_ids: str) -> None:
    base = json.loads(
        json.loads((PROJECT_ROOT / "events/AdminApiFunction/post-partner.json").read_text())["body"]
    )
    for partner_id in partner_ids:
        get_partner_directory().create_partner(NewPartner.model_validate({**base, "partner_id": partner_id}))


def redemption_event(member: str, code: Any, subject: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(
        (PROJECT_ROOT / "events/PromoRedemptionFunction/post-redemption.json").read_text()
    )
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/members/{member}/promo-redemptions"
    event["pathParameters"]["member_id"] = member
    event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = subject or member
    event["body"] = json.dumps({"code": code})
    return event


def redeem_over_http(stack: LocalStack, member: str, code: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = invoke(stack, "PromoRedemptionFunction", redemption_event(member, code))
    return response["statusCode"], json.loads(response["body"]), response.get("headers", {})


def test_a_member_redeems_a_shared_code_typed_loosely_and_sees_the_points(moto_stack: LocalStack) -> None:
    settings = settings_for(moto_stack)
    campaigns = promo_campaigns(settings)
    campaigns.create(new_campaign(points=250))
    campaigns.add_codes("WINTER", NewCodes(code="Winter-25", max_redemptions=100))

    status, body, _ = redeem_over_http(moto_stack, "alice", " winter 25 ")
    assert status == 201, body
    assert (body["code"], body["points"], body["campaign_id"]) == ("WINTER25", 250, "WINTER")
    assert body["balance"]["available"] == 250
    entry = get_ledger().entry(f"promo#{body['redemption_id']}")
    assert entry is not None
    assert (entry.kind, entry.account, entry.points) == (EntryKind.PROMO_CREDIT, Account.PROMO, 250)
    assert get_ledger().rebuilt_balance("alice", Account.PROMO).available == 250
    assert holdings_match_the_promo_balance(settings, "alice")
    assert PromoStore(settings).get_campaign("WINTER").redemptions == 1

    # Once per member by default, however it is typed.
    status, body, _ = redeem_over_http(moto_stack, "alice", "WINTER25")
    assert (status, body["error"]["code"]) == (409, "promo_code_already_redeemed")


def test_redemption_answers_name_the_problem(moto_stack: LocalStack) -> None:
    settings = settings_for(moto_stack)
    campaigns = promo_campaigns(settings)
    campaigns.create(new_campaign("SINGLE"))
    campaigns.add_codes("SINGLE", NewCodes(code="ONLYONCE", max_redemptions=1))
    now = datetime.now(UTC)
    campaigns.create(
        new_campaign("LATER", valid_from=now + timedelta(days=1), valid_until=now + timedelta(days=9))
    )
    campaigns.add_codes("LATER", NewCodes(code="LATER1"))
    campaigns.create(
        new_campaign("OVER", valid_from=now - timedelta(days=9), valid_until=now - timedelta(days=1))
    )
    campaigns.add_codes("OVER", NewCodes(code="OVER1"))
    campaigns.create(new_campaign("HUSHED", status=CampaignStatus.PAUSED))
    campaigns.add_codes("HUSHED", NewCodes(code="HUSHED1"))

    assert redeem_over_http(moto_stack, "alice", "ONLYONCE")[0] == 201
    expectations = [
        ("bob", "ONLYONCE", 409, "promo_code_exhausted"),
        ("bob", "NOSUCHCODE", 404, "promo_code_not_found"),
        ("bob", "LATER1", 422, "promo_code_not_yet_valid"),
        ("bob", "OVER1", 422, "promo_code_expired"),
        ("bob", "HUSHED1", 409, "campaign_paused"),
        ("bob", "", 422, "invalid_request"),
        ("bob", "ÅÄÖ-?!", 404, "promo_code_not_found"),
    ]
    for member, code, status, error in expectations:
        answer, body, _ = redeem_over_http(moto_stack, member, code)
        assert (answer, body["error"]["code"]) == (status, error), code
        assert body["error"]["message"]
    assert promo_available("bob") == 0
    # Not your account; not a JSON string.
    response = invoke(
        moto_stack, "PromoRedemptionFunction", redemption_event("carol", "ONLYONCE", subject="bob")
    )
    assert response["statusCode"] == 403
    response = invoke(moto_stack, "PromoRedemptionFunction", redemption_event("bob", {"code": 1}))
    assert response["statusCode"] == 422


def promo_available(member: str) -> int:
    return get_ledger().balances(member)[Account.PROMO].available


@pytest.mark.calendar
def test_the_campaign_window_holds_to_the_instant(moto_stack: LocalStack) -> None:
    settings = settings_for(moto_stack)
    start = datetime(2026, 12, 1, tzinfo=UTC)
    end = datetime(2027, 1, 1, tzinfo=UTC)
    campaigns = promo_campaigns(settings)
    campaigns.create(new_campaign(valid_from=start, valid_until=end, per_member_limit=5))
    campaigns.add_codes("WINTER", NewCodes(code="EDGE"))

    def redeem_at(moment: datetime) -> str:
        service = promo_redemptions(settings, clock=lambda: moment)
        try:
            service.redeem("alice", "EDGE")
        except PartnerPointsError as error:
            return error.code
        return "redeemed"

    tick = timedelta(microseconds=1)
    assert redeem_at(start - tick) == "promo_code_not_yet_valid"
    assert redeem_at(start) == "redeemed"
    assert redeem_at(end - tick) == "redeemed"
    assert redeem_at(end) == "promo_code_expired"


def test_ten_failures_in_an_hour_then_429_without_a_lookup(
    moto_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(moto_stack)
    moment = [datetime(2026, 12, 5, 12, 0, tzinfo=UTC)]
    campaigns = promo_campaigns(settings)
    campaigns.create(
        new_campaign(valid_from=moment[0] - timedelta(days=1), valid_until=moment[0] + timedelta(days=30))
    )
    campaigns.add_codes("WINTER", NewCodes(code="REAL1"))
    service = promo_redemptions(settings, clock=lambda: moment[0])

    service.redeem("mallory", "REAL1")  # a success is not a failure
    for guess in range(FAILURE_LIMIT):
        moment[0] += timedelta(minutes=1)
        with pytest.raises(PromoCodeNotFound):
            service.redeem("mallory", f"GUESS{guess}")
    lookups: list[str] = []
    real_get_code = PromoStore.get_code

    def counted_get_code(self: PromoStore, code: str) -> PromoCode | None:
        lookups.append(code)
        return real_get_code(self, code)

    monkeypatch.setattr(PromoStore, "get_code", counted_get_code)
    with pytest.raises(TooManyFailedAttempts) as refused:
        service.redeem("mallory", "REAL1")
    assert lookups == []
    # Free again when the first failure (12:01) is an hour old; it is 12:10, so in 51 minutes.
    assert refused.value.retry_after_seconds == 51 * 60
    assert (
        _error_code(lambda: service.redeem("trent", "GUESS")) == "promo_code_not_found"
    )  # others unaffected
    moment[0] += timedelta(minutes=51)
    assert _error_code(lambda: service.redeem("mallory", "REAL1")) == "promo_code_already_redeemed"


def test_the_429_over_http_carries_retry_after(moto_stack: LocalStack) -> None:
    for guess in range(FAILURE_LIMIT):
        assert redeem_over_http(moto_stack, "mallory", f"GUESS{guess}")[0] == 404
    status, body, headers = redeem_over_http(moto_stack, "mallory", "GUESS")
    assert (status, body["error"]["code"]) == (429, "too_many_failed_attempts")
    assert 3500 < int(headers["Retry-After"]) <= 3600


def test_revoking_twice_posts_once_and_gives_the_use_back(moto_stack: LocalStack) -> None:
    settings = settings_for(moto_stack)
    _partners("shop-a")
    campaigns = promo_campaigns(settings)
    campaigns.create(new_campaign(points=100))
    campaigns.add_codes("WINTER", NewCodes(code="ONCE", max_redemptions=1))
    receipt = promo_redemptions(settings).redeem("alice", "ONCE")
    # The member spends some before the revocation: the promo balance goes negative, shown as such.
    get_member_accounts().spend(
        "alice",
        "key-00000001",
        SpendRequest(partner_id="shop-a", points=60, account=Account.PROMO, reference="voucher"),
    )

    first = campaigns.revoke(receipt.redemption_id, "code leaked on a coupon site", "ops")
    second = campaigns.revoke(receipt.redemption_id, "code leaked on a coupon site", "ops")
    assert (first.duplicate, second.duplicate) == (False, True)
    assert first.redemption.status == "revoked"
    assert first.redemption.revoke_reason
    revokes = [
        e for e in get_ledger().all_entries("alice", Account.PROMO) if e.kind is EntryKind.PROMO_REVOKE
    ]
    assert [e.points for e in revokes] == [-100]
    assert get_ledger().balances("alice")[Account.PROMO].available == -60
    assert get_ledger().rebuilt_balance("alice", Account.PROMO).available == -60
    assert holdings_match_the_promo_balance(settings, "alice")
    code = PromoStore(settings).get_code("ONCE")
    assert isinstance(code, PromoCode)
    assert code.redemptions == 0
    # The use is back on the code for someone else; alice's own limit still counts her redemption.
    assert promo_redemptions(settings).redeem("bob", "ONCE").points == 100
    # Over HTTP: 201 then 200, and an unknown redemption is a 404.
    status = invoke(moto_stack, "AdminPromoFunction", _revoke_event(receipt.redemption_id))["statusCode"]
    assert status == 200
    assert (
        invoke(moto_stack, "AdminPromoFunction", _revoke_event("rdm-0000000000000000"))["statusCode"] == 404
    )


def _revoke_event(redemption_id: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(
        (PROJECT_ROOT / "events/AdminPromoFunction/post-revoke-unknown.json").read_text()
    )
    path = f"/admin/promo-redemptions/{redemption_id}/revoke"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"]["redemption_id"] = redemption_id
    return event


def test_promo_points_are_spent_only_where_their_campaign_allows(moto_stack: LocalStack) -> None:
    settings = settings_for(moto_stack)
    _partners("shop-a", "shop-b")
    campaigns = promo_campaigns(settings)
    campaigns.create(new_campaign("ONLY-A", points=300, partner_ids=["shop-a"]))
    campaigns.add_codes("ONLY-A", NewCodes(code="ONLYA"))
    campaigns.create(new_campaign("ANYWHERE", points=50))
    campaigns.add_codes("ANYWHERE", NewCodes(code="ANYWHERE"))
    redeem = promo_redemptions(settings).redeem
    redeem("alice", "ONLYA")
    redeem("alice", "ANYWHERE")
    accounts = get_member_accounts()

    def spend(key: str, partner: str, points: int) -> Any:
        request = SpendRequest(partner_id=partner, points=points, account=Account.PROMO, reference="voucher")
        return accounts.spend("alice", key, request)

    with pytest.raises(PromoPointsRestricted) as restricted:
        spend("key-b-000001", "shop-b", 100)
    assert restricted.value.details[0]["spendable_here"] == 50
    spent = spend("key-a-000001", "shop-a", 320)  # the shop-a points first, then the unrestricted
    assert spent.balance.available == 30
    entry = get_ledger().entry("spend#alice#key-a-000001")
    assert entry is not None
    assert entry.allocations == {"ONLY-A": -300, "ANYWHERE": -20}
    assert spend("key-b-000002", "shop-b", 30).balance.available == 0
    with pytest.raises(InsufficientPoints):
        spend("key-a-000002", "shop-a", 1)
    assert holdings_match_the_promo_balance(settings, "alice")

    # A refunded promo spend goes back to the campaigns it came from: shop-b still cannot use them.
    accounts.refund_spend("spend#alice#key-a-000001", "ops")
    assert get_ledger().balances("alice")[Account.PROMO].available == 320
    assert holdings_match_the_promo_balance(settings, "alice")
    with pytest.raises(PromoPointsRestricted):
        spend("key-b-000003", "shop-b", 100)


def test_campaigns_over_the_admin_api(moto_stack: LocalStack) -> None:
    _partners("shop-a")
    event: dict[str, Any] = json.loads(
        (PROJECT_ROOT / "events/AdminPromoFunction/post-campaign.json").read_text()
    )
    body = json.loads(event["body"])
    body.update(partner_ids=["shop-a", "shop-z"])
    event["body"] = json.dumps(body)
    response = invoke(moto_stack, "AdminPromoFunction", event)
    assert response["statusCode"] == 422
    assert "body.partner_ids.1" in response["body"]
    body.update(partner_ids=["shop-a"])
    event["body"] = json.dumps(body)
    assert invoke(moto_stack, "AdminPromoFunction", event)["statusCode"] == 201
    assert invoke(moto_stack, "AdminPromoFunction", event)["statusCode"] == 409  # the id is taken

    put = json.loads(json.dumps(event))
    put["routeKey"] = put["requestContext"]["routeKey"] = "PUT /admin/promo-campaigns/{campaign_id}"
    put["rawPath"] = put["requestContext"]["http"]["path"] = "/admin/promo-campaigns/WINTER25"
    put["requestContext"]["http"]["method"] = "PUT"
    put["pathParameters"] = {"campaign_id": "WINTER25"}
    terms = {k: v for k, v in body.items() if k != "campaign_id"}
    put["body"] = json.dumps({**terms, "status": "paused", "valid_until": "2027-06-01T00:00:00Z"})
    response = invoke(moto_stack, "AdminPromoFunction", put)
    assert response["statusCode"] == 200, response["body"]
    changed = json.loads(response["body"])
    assert (changed["status"], changed["version"], changed["valid_until"][:10]) == ("paused", 2, "2027-06-01")


def test_a_generated_batch_is_unique_readable_and_exported_in_order(moto_stack: LocalStack) -> None:
    settings = settings_for(moto_stack)
    campaigns = promo_campaigns(settings)
    campaigns.create(new_campaign())
    batch = campaigns.add_codes("WINTER", NewCodes(count=250, prefix="win", max_redemptions=1))
    assert isinstance(batch, CodeBatch)
    done = campaigns.batch(batch.batch_id)
    assert (done.status, done.generated) == ("complete", 250)
    codes = all_batch_codes(campaigns, batch.batch_id, 100)
    assert len(codes) == len(set(codes)) == 250
    for code in codes:
        prefix, first, second = code.split("-")
        assert prefix == "WIN"
        assert len(first) == len(second) == 4
        assert set(first + second) <= set(ALPHABET)
    assert promo_redemptions(settings).redeem("alice", codes[7].lower().replace("-", " ")).points == 250
    # A generator run again on a finished batch writes nothing.
    assert campaigns.generate(batch.batch_id, out_of_time=lambda: False).generated == 250


def test_a_collision_with_an_existing_code_is_drawn_again(moto_stack: LocalStack) -> None:
    settings = settings_for(moto_stack)
    draws = iter(["TAKEN", "TAKEN", "FRESH1", "FRESH2", "FRESH3"])
    campaigns = promo_campaigns(settings, generate=lambda prefix: next(draws))
    campaigns.create(new_campaign())
    campaigns.add_codes("WINTER", NewCodes(code="TAKEN"))
    batch = campaigns.add_codes("WINTER", NewCodes(count=2))
    assert isinstance(batch, CodeBatch)
    assert sorted(campaigns.batch_codes(batch.batch_id, 10, None).codes) == ["FRESH1", "FRESH2"]
    stored = PromoStore(settings).get_code("TAKEN")
    assert stored is not None
    assert stored.batch_id is None
