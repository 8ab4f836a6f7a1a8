"""A duplicate storm on DynamoDB Local (moto is not safe under concurrency): 20 threads deliver 200
signed deliveries of 40 orders, retries included, in random order, through the real verification,
state machine and conditional transactions."""

from __future__ import annotations

import json
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

from partnerpoints.dal.order_store import OrderStore
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.logic.postback_credentials import token_digest
from partnerpoints.logic.postbacks import PostbackDesk, SignedDelivery
from partnerpoints.models.orders import PartnerCredentials, Receipt
from partnerpoints.models.partners import NewPartner
from partnerpoints.settings import Settings
from partnerpoints_infra.postback_signing import signature_headers
from partnerpoints_infra.provision import LocalStack
from tests.integration.postbacks import SAMPLE_SECRET, SAMPLE_TOKEN, stored_deliveries, stored_orders

ORDERS = 40
RETRIES_PER_ORDER = 2  # 3 messages per order + 2 retries = 5 deliveries; 200 in all


def _message(order_id: str, status: str, **more: str) -> SignedDelivery:
    body = json.dumps(
        {
            "order_id": order_id,
            "status": status,
            "amount": "50.00",
            "currency": "EUR",
            "occurred_at": datetime.now(UTC).isoformat(),
            **more,
        }
    ).encode()
    headers = signature_headers(SAMPLE_SECRET, body, f"msg_{order_id}_{status}")
    return SignedDelivery(partner_id="shop-a", body=body, headers=headers, source_ip="203.0.113.10")


def test_a_duplicate_storm_ends_with_each_order_once_in_its_final_state(
    dynamodb_local_stack: LocalStack,
) -> None:
    settings = Settings.from_environment(dynamodb_local_stack.runtime_environment("PostbackFunction"))
    partners = PartnerStore(settings)
    partners.create_partner(
        NewPartner(
            partner_id="shop-a",
            name="Shop A",
            currency="EUR",
            allowed_domains=["shop-a.example"],
            points_percent=Decimal(5),
            commission_percent=Decimal(8),
        ),
        PartnerCredentials("shop-a", ((SAMPLE_SECRET, None),), ((token_digest(SAMPLE_TOKEN), None),), 1),
    )
    desk = PostbackDesk(partners, OrderStore(settings), settings)

    rng = random.Random(20261123)
    deliveries = []
    for n in range(ORDERS):
        messages = [
            _message(f"S-{n}", "pending"),
            _message(f"S-{n}", "approved"),
            _message(f"S-{n}", "refunded", refunded_amount="10.00"),
        ]
        deliveries += messages + [rng.choice(messages) for _ in range(RETRIES_PER_ORDER)]
    rng.shuffle(deliveries)
    assert len(deliveries) == 200

    with ThreadPoolExecutor(max_workers=20) as pool:
        receipts: list[Receipt] = list(pool.map(desk.receive_signed, deliveries))

    orders = {order.order_id: order for order in stored_orders(dynamodb_local_stack)}
    assert len(orders) == ORDERS
    for order in orders.values():
        assert (order.status, int(order.refunded_minor), int(order.amount_minor)) == ("refunded", 1000, 5000)
        accepted = [step["delivery_id"] for step in order.history]
        assert len(accepted) == len(set(accepted)) == int(order.version)  # no change taken twice
        assert accepted[-1] == f"msg_{order.order_id}_refunded"
    statuses = Counter(receipt.status_code for receipt in receipts)
    assert set(statuses) <= {200, 202}
    # Every accepted change has exactly one 202 and one stored delivery; everything else was a 200.
    transitions = sum(int(order.version) for order in orders.values())
    assert statuses[202] == transitions == len(stored_deliveries(dynamodb_local_stack))
    assert statuses[200] == len(deliveries) - transitions
