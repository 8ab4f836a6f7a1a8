"""Postback figures for `make bench`: DynamoDB requests and units per delivery on DynamoDB Local, for a
first delivery, a retry, a state change, a new message about a state already taken, and a forgery.
Measured in the desk (verification, validation, state machine and store), where the requests are
made. Figures only; nothing here asserts a timing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from harness import create_bench_partner, measure, metered_dynamodb
from partnerpoints.dal.click_tables import ClickItem
from partnerpoints.dal.order_store import OrderStore
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.logic.postbacks import PostbackDesk, SignedDelivery
from partnerpoints.models.orders import Receipt
from partnerpoints.settings import Settings
from partnerpoints_infra.postback_signing import signature_headers
from partnerpoints_infra.provision import LocalStack

PARTNER = "bench-postbacks"
CLICK_ID = "01KAPXV0Z8BENCH00000000000"


def _setup(settings: Settings) -> str:
    secret = create_bench_partner(settings, PARTNER, min_seconds_to_order=0)
    now = datetime.now(UTC)
    ClickItem(
        CLICK_ID,
        link_id="bench-link",
        partner_id=PARTNER,
        member_id="bench-member",
        clicked_at=now - timedelta(hours=2),
        last_clicked_at=now - timedelta(hours=2),
        ip_hash="0" * 64,
        user_agent="bench",
        bot=False,
        unique=True,
        clicks=1,
        expires_at=now + timedelta(days=30),
    ).save()
    return secret


def _delivery(secret: str, order_id: str, status: str, message: str, **more: str) -> SignedDelivery:
    body = json.dumps(
        {
            "order_id": order_id,
            "click_id": CLICK_ID,
            "status": status,
            "amount": "84.90",
            "currency": "EUR",
            "occurred_at": datetime.now(UTC).isoformat(),
            "items": [{"sku": "KB-7", "category": "electronics", "amount": "59.90", "quantity": 1}],
            **more,
        }
    ).encode()
    headers = signature_headers(secret, body, message)
    return SignedDelivery(partner_id=PARTNER, body=body, headers=headers, source_ip="203.0.113.10")


def postback_figures(stack: LocalStack, runs: int) -> dict[str, dict[str, float]]:
    settings = Settings.from_environment(stack.runtime_environment("PostbackFunction"))
    secret = _setup(settings)
    with metered_dynamodb() as meter:
        desk = PostbackDesk(PartnerStore(settings), OrderStore(settings), settings)
        first = [_delivery(secret, f"O-{i}", "pending", f"msg_{i}_p") for i in range(runs)]
        approved = [_delivery(secret, f"O-{i}", "approved", f"msg_{i}_a") for i in range(runs)]
        restated = [_delivery(secret, f"O-{i}", "approved", f"msg_{i}_a2") for i in range(runs)]
        forged = _delivery(secret, "O-0", "pending", "msg_forged")
        forged_body = SignedDelivery(PARTNER, forged.body.replace(b"84.90", b"849.00"), forged.headers, "")

        def expect(receipt: Receipt, status: int) -> None:
            if receipt.status_code != status:
                raise AssertionError(f"the bench expected {status}, got {receipt.status_code}")

        def refused(_: int) -> None:
            try:
                desk.receive_signed(forged_body)
            except Exception:
                return
            raise AssertionError("a forged delivery was accepted")

        return {
            "first delivery (new attributed order)": measure(
                meter, runs, lambda i: expect(desk.receive_signed(first[i]), 202)
            ),
            "retry (same webhook-id)": measure(
                meter, runs, lambda i: expect(desk.receive_signed(first[i]), 200)
            ),
            "state change (approved)": measure(
                meter, runs, lambda i: expect(desk.receive_signed(approved[i]), 202)
            ),
            "new message, state already taken": measure(
                meter, runs, lambda i: expect(desk.receive_signed(restated[i]), 200)
            ),
            "forged (tampered body, 401)": measure(meter, runs, refused),
        }
