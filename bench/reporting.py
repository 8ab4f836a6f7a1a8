"""Partner reporting figures for `make bench`, on DynamoDB Local: what a partner's summary costs for 7,
30, 90 and 365 days of counters (requests, read units, warm latency), and what the stream windows cost
to write (transactions and write units per window of clicks). Figures only; nothing asserts."""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import UTC, datetime, timedelta

from harness import measure, metered_dynamodb
from partnerpoints.dal.counter_store import CounterStore
from partnerpoints.dal.order_store import OrderStore
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.dal.statement_files import StatementBucket
from partnerpoints.logic.activity_counters import ActivityCounters, Source, StreamChange
from partnerpoints.logic.partner_reports import PartnerReports
from partnerpoints.logic.partners import PartnerDirectory
from partnerpoints.models.counters import WindowId, WindowState, day_key, link_key
from partnerpoints.models.partner_reports import Granularity
from partnerpoints.models.partners import NewPartner
from partnerpoints.settings import Settings
from partnerpoints.signing import ClickKeys
from partnerpoints_infra.provision import Endpoints, provision
from partnerpoints_infra.template import PROJECT_ROOT

KEYS = ClickKeys.from_secret("b" * 64)

RANGES = (7, 30, 90, 365)
LINKS = 5
CLICKS_PER_WINDOW = 500


def _seed_year(store: CounterStore, partner_id: str, today: datetime) -> None:
    """A year of one partner's days: a day item and LINKS link items each, written as windows would."""
    deltas = {}
    for back in range(366):
        day = (today - timedelta(days=back)).date()
        figures = Counter({"clicks.total": 120, "clicks.unique": 100, "orders.new": 3, "sales.EUR": 25_000})
        deltas[day_key(partner_id, day)] = figures
        for link in range(LINKS):
            deltas[link_key(partner_id, day, f"link-{link}")] = Counter(
                {"clicks.total": 24, "clicks.unique": 20}
            )
    store.add_window(WindowId("bench/stream/seed", "shard-0", today.isoformat(), "1"), deltas)


def _click_window(partner_id: str, number: int, today: datetime) -> list[StreamChange]:
    stamp = today.strftime("%Y-%m-%dT%H:%M:%S.000000+0000")
    return [
        StreamChange(
            Source.CLICKS,
            f"{number:06d}{i:06d}",
            None,
            {
                "partner_id": partner_id,
                "link_id": f"link-{i % LINKS}",
                "clicked_at": stamp,
                "clicks": 1,
                "unique": True,
                "bot": False,
                "sub_ids": {"sub1": f"campaign-{i % 8}"},
            },
        )
        for i in range(CLICKS_PER_WINDOW)
    ]


def reporting_figures(endpoint: str, runs: int) -> dict[str, dict[str, float]]:
    stack = provision(Endpoints(dynamodb=endpoint), stack_name="bench-reporting")
    os.environ.update(stack.runtime_environment("PartnerReportingFunction"))
    settings = Settings.from_environment()
    partner = json.loads(
        json.loads((PROJECT_ROOT / "events/AdminApiFunction/post-partner.json").read_text())["body"]
    )
    PartnerDirectory(PartnerStore(settings), lambda: KEYS).create_partner(
        NewPartner.model_validate({**partner, "partner_id": "bench-shop"})
    )
    today = datetime.now(UTC)
    store = CounterStore(settings)
    _seed_year(store, "bench-shop", today)
    figures: dict[str, dict[str, float]] = {}
    with metered_dynamodb() as meter:
        # Stores made inside the meter, so their clients are metered.
        store = CounterStore(settings)
        reports = PartnerReports(
            StatementBucket(settings), PartnerStore(settings), OrderStore(settings), store
        )
        for days in RANGES:

            def summary(_: int, days: int = days) -> None:
                first = (today - timedelta(days=days - 1)).date()
                reports.summary("bench-shop", first=first, last=today.date(), granularity=Granularity.DAY)

            summary(0)  # warm
            figures[f"summary, {days} days"] = measure(meter, runs, summary)
        first = (today - timedelta(days=29)).date()
        figures["links, 30 days"] = measure(
            meter, runs, lambda _: reports.links("bench-shop", first=first, last=today.date())
        )
        counters = ActivityCounters(store)
        windows = max(runs // 10, 3)

        def close_window(number: int) -> None:
            state, _ = counters.fold(WindowState(), _click_window("bench-shop", number, today))
            counters.close(WindowId("bench/stream/clicks", "shard-1", today.isoformat(), str(number)), state)

        close_window(-1)  # the sub id values take their own counters once
        figures[f"window of {CLICKS_PER_WINDOW} clicks written"] = measure(meter, windows, close_window)
    return figures
