"""Customer analytics figures for `make bench`: one partner's nightly RFM analysis with 1,000 buyers at
the partner among 1,000 members, and among 50,000 (the others buying at other partners), on DynamoDB
Local. The partner_orders index is what keeps the second from growing with the other members; the
figures show whether it does. The documents go to an in-memory bucket: the figures are DynamoDB's.
Nothing asserts."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from harness import metered_dynamodb
from partnerpoints.dal.order_store import OrderStore
from partnerpoints.dal.order_tables import OrderItem
from partnerpoints.dal.statement_files import StatementBucket
from partnerpoints.dal.tables import bind_tables
from partnerpoints.logic.partner_analytics import PartnerAnalytics
from partnerpoints.settings import Settings
from partnerpoints_infra.provision import Endpoints, LocalStack, provision

BUYERS = 1_000
POPULATIONS = (1_000, 50_000)
PARTNERS = 20  # the other members buy at these


class MemoryBucket(StatementBucket):
    """The statements bucket's put and get, kept in memory."""

    def __init__(self) -> None:  # no S3 client: nothing leaves the process
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.objects[key] = body

    def get_json(self, key: str) -> dict[str, Any] | None:
        body = self.objects.get(key)
        return json.loads(body) if body is not None else None


def _seed(settings: Settings, numbers: range, day: datetime) -> None:
    """One order per member: the first BUYERS at shop-a over the last 300 days, the rest elsewhere."""
    bind_tables(settings)
    with OrderItem.batch_write() as batch:
        for number in numbers:
            member_id = f"member-{number:06d}"
            partner_id = "shop-a" if number < BUYERS else f"shop-{number % PARTNERS:02d}"
            placed = day - timedelta(days=number % 300, hours=1)
            amount = 1_000 + (number * 37) % 20_000
            batch.save(
                OrderItem(
                    partner_id,
                    f"O-{number:06d}",
                    version=1,
                    status="approved",
                    counts=True,
                    currency="EUR",
                    amount_minor=amount,
                    refunded_minor=amount // 2 if number % 9 == 0 else 0,
                    commission_minor=amount // 10,
                    commission_reversed_minor=0,
                    attribution={
                        "attributed": True,
                        "referred": True,
                        "member_id": member_id,
                        "link_id": "ln",
                    },
                    member_id=member_id,
                    occurred_at=placed,
                    status_at=placed,
                    created_at=placed,
                    updated_at=placed,
                )
            )


def analytics_figures(endpoint: str) -> dict[str, dict[str, float]]:
    """The same table twice: its 1,000 buyers alone, then with the other members' orders added."""
    day = datetime.now(UTC).date() - timedelta(days=1)
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    stack: LocalStack = provision(Endpoints(dynamodb=endpoint), stack_name="bench-analytics")
    settings = Settings.from_environment(stack.runtime_environment("StatementsFunction"))
    analytics = PartnerAnalytics(MemoryBucket(), OrderStore(settings))
    figures = {}
    seeded = 0
    for members in POPULATIONS:
        _seed(settings, range(seeded, members), noon)
        seeded = members
        bind_tables(settings)  # a fresh client, made inside the meter
        with metered_dynamodb() as meter:
            started = time.perf_counter()
            result = analytics.analyse("shop-a", day)
            seconds = time.perf_counter() - started
        figures[f"{BUYERS:,} buyers among {members:,} members"] = {
            "members": members,
            "scored": float(len(result.scores)),
            "seconds": seconds,
            "requests": float(sum(meter.requests.values())),
            "read_units": meter.read_units,
        }
    return figures
