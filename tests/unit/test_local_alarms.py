"""The local stack's alarm watcher reads the functions' EMF lines as CloudWatch would: by namespace,
metric name and exact dimension set, summed over the alarm's period."""

from __future__ import annotations

import json

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from partnerpoints_infra.local.alarms import (
    ALARM_SOURCE,
    AlarmWatcher,
    LocalAlarm,
    MetricKey,
    insights_metric,
)


def emf_line(name: str, value: int, partner_id: str | None = None) -> str:
    """A metric as Powertools prints it from a function."""
    metrics = Metrics(namespace="PartnerPoints", service="partnerpoints")
    if partner_id is not None:
        metrics.add_dimension(name="partner_id", value=partner_id)
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    line = json.dumps(metrics.serialize_metric_set())
    metrics.clear_metrics()
    return line


def watcher_of(alarm: LocalAlarm, printed: list[str]) -> AlarmWatcher:
    return AlarmWatcher([alarm], [], lambda _: 0, lambda name, line: printed.append(f"{name} {line}"))


def test_a_metric_alarm_sums_its_dimension_set_and_says_when_it_changes_state() -> None:
    printed: list[str] = []
    alarm = LocalAlarm(
        "StatementMismatchesAlarm",
        1,
        lambda value, threshold: value >= threshold,
        3600,
        metric=MetricKey(
            "PartnerPoints",
            "StatementMismatches",
            frozenset({"service"}),
            frozenset({("service", "partnerpoints")}),
        ),
    )
    watcher = watcher_of(alarm, printed)
    watcher.observe(emf_line("StatementMismatches", 0))
    watcher.observe(emf_line("StatementMismatches", 2, partner_id="shop-a"))  # another dimension set
    watcher.observe("an ordinary log line")
    watcher.evaluate()
    assert printed == []
    watcher.observe(emf_line("StatementMismatches", 1))
    watcher.evaluate()
    assert printed == [f"{ALARM_SOURCE} ALARM StatementMismatchesAlarm (value 1, threshold 1)"]


def test_a_metrics_insights_sum_reads_every_partner() -> None:
    metric = insights_metric("SELECT SUM(UnrecordedClicks) FROM SCHEMA(PartnerPoints, partner_id, service)")
    assert metric == MetricKey("PartnerPoints", "UnrecordedClicks", frozenset({"partner_id", "service"}))
    printed: list[str] = []
    alarm = LocalAlarm(
        "UnrecordedClicksAlarm", 1, lambda value, threshold: value >= threshold, 300, metric=metric
    )
    watcher = watcher_of(alarm, printed)
    watcher.observe(emf_line("UnrecordedClicks", 1, partner_id="shop-a"))
    watcher.observe(emf_line("UnrecordedClicks", 1, partner_id="shop-b"))
    watcher.evaluate()
    assert printed == [f"{ALARM_SOURCE} ALARM UnrecordedClicksAlarm (value 2, threshold 1)"]
    assert insights_metric("SELECT AVG(Latency) FROM SCHEMA(PartnerPoints)") is None


def test_a_queue_alarm_reads_the_depth_and_returns_to_ok() -> None:
    printed: list[str] = []
    depth = [1]
    alarm = LocalAlarm(
        "DeadLetterQueueAlarm", 1, lambda value, threshold: value >= threshold, 0, queue_url="q"
    )
    watcher = AlarmWatcher([alarm], [], lambda _: depth[0], lambda name, line: printed.append(line))
    watcher.evaluate()
    depth[0] = 0
    watcher.evaluate()
    assert printed == [
        "ALARM DeadLetterQueueAlarm (value 1, threshold 1)",
        "OK DeadLetterQueueAlarm (value 0, threshold 1)",
    ]
