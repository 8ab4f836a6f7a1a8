"""The template's CloudWatch alarms, evaluated on what the local stack has, with a console line when one
changes state.

What can be evaluated here: a queue's depth (AWS/SQS ApproximateNumberOfMessagesVisible, read from the
queue) and the program's own metrics, taken from the Embedded Metric Format lines the functions log
(a metric by namespace, name and dimensions, or a Metrics Insights `SELECT SUM(metric) FROM
SCHEMA(namespace, dimensions...)` query). AWS's own service metrics (Lambda errors, API Gateway 5xx,
stream iterator age) do not exist locally; those alarms are listed as not evaluated.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import resources_of_type

ALARM_SOURCE = "CloudWatch"  # the name alarm lines are printed under
_INSIGHTS = re.compile(r"^\s*SELECT\s+SUM\((\w+)\)\s+FROM\s+SCHEMA\(([^)]*)\)\s*$", re.IGNORECASE)
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}


@dataclass(frozen=True)
class MetricKey:
    namespace: str
    name: str
    dimensions: frozenset[str]  # dimension names, as a Metrics Insights SCHEMA names them
    values: frozenset[tuple[str, str]] = frozenset()  # dimension values an alarm requires


@dataclass
class LocalAlarm:
    name: str
    threshold: float
    compare: Callable[[float, float], bool]
    period_seconds: int
    queue_url: str | None = None
    metric: MetricKey | None = None
    state: str = "OK"


@dataclass
class AlarmWatcher:
    """Keeps the metric data points functions emit and evaluates every alarm once a second."""

    alarms: list[LocalAlarm]
    skipped: list[str]
    queue_depth: Callable[[str], int]
    printer: Callable[[str, str], None]
    points: deque[tuple[float, str, str, dict[str, str], float]] = field(default_factory=deque)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def observe(self, line: str) -> None:
        """A function's log line: the data points of an EMF document, nothing otherwise."""
        if '"_aws"' not in line:
            return
        try:
            document = json.loads(line)
            directives = document["_aws"]["CloudWatchMetrics"]
        except (ValueError, KeyError, TypeError):
            return
        now = time.monotonic()
        with self._lock:
            for directive in directives:
                for dimension_set in directive.get("Dimensions", [[]]):
                    dimensions = {name: str(document.get(name, "")) for name in dimension_set}
                    for metric in directive.get("Metrics", []):
                        value = document.get(metric["Name"])
                        for number in value if isinstance(value, list) else [value]:
                            if isinstance(number, int | float):
                                entry = (
                                    now,
                                    directive["Namespace"],
                                    metric["Name"],
                                    dimensions,
                                    float(number),
                                )
                                self.points.append(entry)

    def tapping(self, printer: Callable[[str, str], None]) -> Callable[[str, str], None]:
        """A printer for the functions' logs that lets the watcher read them first."""

        def observing(name: str, line: str) -> None:
            self.observe(line)
            printer(name, line)

        return observing

    def _metric_sum(self, key: MetricKey, since: float) -> float:
        with self._lock:
            return sum(
                value
                for at, namespace, name, dimensions, value in self.points
                if at >= since
                and (namespace, name) == (key.namespace, key.name)
                and set(dimensions) == key.dimensions
                and key.values <= set(dimensions.items())
            )

    def evaluate(self) -> None:
        now = time.monotonic()
        for alarm in self.alarms:
            if alarm.queue_url is not None:
                value = float(self.queue_depth(alarm.queue_url))
            else:
                assert alarm.metric is not None
                value = self._metric_sum(alarm.metric, now - alarm.period_seconds)
            state = "ALARM" if alarm.compare(value, alarm.threshold) else "OK"
            if state != alarm.state:
                alarm.state = state
                self.printer(
                    ALARM_SOURCE, f"{state} {alarm.name} (value {value:g}, threshold {alarm.threshold:g})"
                )
        with self._lock:  # nothing is kept longer than the longest period
            horizon = now - max((alarm.period_seconds for alarm in self.alarms), default=0)
            while self.points and self.points[0][0] < horizon:
                self.points.popleft()

    def start(self) -> None:
        for name in self.skipped:
            self.printer(ALARM_SOURCE, f"not evaluated locally (AWS service metrics): {name}")
        threading.Thread(target=self._run, name="alarms", daemon=True).start()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.evaluate()
            except Exception as error:
                self.printer(ALARM_SOURCE, f"could not evaluate the alarms: {error}")

    def stop(self) -> None:
        self._stop.set()


def insights_metric(expression: str) -> MetricKey | None:
    match = _INSIGHTS.match(expression)
    if match is None:
        return None
    namespace, *dimensions = [part.strip().strip('"') for part in match.group(2).split(",")]
    return MetricKey(namespace, match.group(1), frozenset(dimensions))


def local_alarms(
    stack: LocalStack, queue_depth: Callable[[str], int], printer: Callable[[str, str], None]
) -> AlarmWatcher:
    """An AlarmWatcher for every alarm of the template it can evaluate; the others are named."""
    alarms, skipped = [], []
    for name, resource in sorted(resources_of_type(stack.template, "AWS::CloudWatch::Alarm").items()):
        properties: dict[str, Any] = resource["Properties"]
        compare = _COMPARE.get(properties["ComparisonOperator"])
        alarm = LocalAlarm(
            name, float(properties["Threshold"]), compare or _COMPARE["GreaterThanThreshold"], 0
        )
        namespace = properties.get("Namespace", "")
        if compare is None:
            skipped.append(name)
        elif namespace == "AWS/SQS" and properties["MetricName"] == "ApproximateNumberOfMessagesVisible":
            queue = properties["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
            alarm.queue_url = stack.resources[queue].ref
            alarms.append(alarm)
        elif namespace and not namespace.startswith("AWS/"):
            dimensions = {item["Name"]: str(item["Value"]) for item in properties.get("Dimensions", [])}
            alarm.metric = MetricKey(
                namespace, properties["MetricName"], frozenset(dimensions), frozenset(dimensions.items())
            )
            alarm.period_seconds = int(properties["Period"])
            alarms.append(alarm)
        elif len(properties.get("Metrics", [])) == 1 and "Expression" in properties["Metrics"][0]:
            metric = insights_metric(properties["Metrics"][0]["Expression"])
            if metric is None:
                skipped.append(name)
                continue
            alarm.metric = metric
            alarm.period_seconds = int(properties["Metrics"][0]["Period"])
            alarms.append(alarm)
        else:
            skipped.append(name)
    return AlarmWatcher(alarms, skipped, queue_depth, printer)
