"""Schedules, locally: AWS::Scheduler::Schedule (SAM ScheduleV2) and AWS::Events::Rule (SAM Schedule)
targets fire at the times their expressions give (rate, cron in the schedule's time zone, at), with the
target's Input, retry policy and dead-letter queue. Any of them can also be fired on demand.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from partnerpoints_infra.local.background import BackgroundLoop
from partnerpoints_infra.local.function_pool import FunctionPool, Printer
from partnerpoints_infra.local.stream_pump import AwsClients
from partnerpoints_infra.provision import LOCAL_ACCOUNT_ID, LocalStack
from partnerpoints_infra.template import resources_of_type

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_SCHEDULER_DEFAULT_RETRIES = 185  # EventBridge Scheduler's default MaximumRetryAttempts


class UnsupportedSchedule(ValueError):
    """An expression this emulator cannot evaluate."""


def _aws_cron_to_croniter(fields: str) -> str:
    """AWS cron has six fields (minutes hours day-of-month month day-of-week year) and counts weekdays
    1-7 from Sunday; croniter has five and counts 0-6 from Sunday."""
    parts = fields.split()
    if len(parts) != 6:
        raise UnsupportedSchedule(f"cron({fields}) needs six fields")
    minute, hour, day, month, weekday, year = parts
    if year not in ("*", "?"):
        raise UnsupportedSchedule(f"cron({fields}): a year restriction is not emulated")
    weekday = re.sub(r"\d+", lambda number: str(int(number.group()) - 1), weekday)
    return " ".join(part.replace("?", "*") for part in (minute, hour, day, month, weekday))


def next_fire(expression: str, after: datetime, timezone: str = "UTC") -> datetime | None:
    """When `expression` next fires strictly after `after` (None: never again)."""
    if rate := _RATE.match(expression):
        unit = rate.group(2).rstrip("s")
        return after + timedelta(seconds=int(rate.group(1)) * _UNIT_SECONDS[unit])
    zone = ZoneInfo(timezone)
    if cron := _CRON.match(expression):
        following: datetime = croniter(_aws_cron_to_croniter(cron.group(1)), after.astimezone(zone)).get_next(
            datetime
        )
        return following.astimezone(UTC)
    if at := _AT.match(expression):
        moment = datetime.fromisoformat(at.group(1)).replace(tzinfo=zone).astimezone(UTC)
        return moment if moment > after else None
    raise UnsupportedSchedule(f"unsupported schedule expression {expression!r}")


@dataclass(frozen=True)
class Schedule:
    name: str
    function: str
    expression: str
    timezone: str = "UTC"
    input: str | None = None
    maximum_retry_attempts: int = 0
    dead_letter_arn: str | None = None
    scheduler: bool = True  # EventBridge Scheduler (ScheduleV2) or an EventBridge rule (Schedule)

    def event(self, now: datetime) -> Any:
        if self.input is not None:
            return json.loads(self.input)
        if self.scheduler:
            return {}
        # An EventBridge rule without Input sends its scheduled event.
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": LOCAL_ACCOUNT_ID,
            "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "us-east-1",
            "resources": [f"arn:aws:events:us-east-1:{LOCAL_ACCOUNT_ID}:rule/{self.name}"],
            "detail": {},
        }


def schedules_of(stack: LocalStack) -> list[Schedule]:
    found = []
    for name, resource in resources_of_type(stack.template, "AWS::Scheduler::Schedule").items():
        properties = resource["Properties"]
        if properties.get("State", "ENABLED") != "ENABLED":
            continue
        target = properties["Target"]
        dead_letter = target.get("DeadLetterConfig", {}).get("Arn")
        found.append(
            Schedule(
                name=name,
                function=stack.resolve(target["Arn"]).rsplit(":", 1)[-1],
                expression=properties["ScheduleExpression"],
                timezone=properties.get("ScheduleExpressionTimezone", "UTC"),
                input=target.get("Input"),
                maximum_retry_attempts=int(
                    target.get("RetryPolicy", {}).get("MaximumRetryAttempts", _SCHEDULER_DEFAULT_RETRIES)
                ),
                dead_letter_arn=stack.resolve(dead_letter) if dead_letter else None,
            )
        )
    for name, resource in resources_of_type(stack.template, "AWS::Events::Rule").items():
        properties = resource["Properties"]
        if "ScheduleExpression" not in properties or properties.get("State", "ENABLED") != "ENABLED":
            continue
        for target in properties.get("Targets", []):
            found.append(
                Schedule(
                    name=name,
                    function=stack.resolve(target["Arn"]).rsplit(":", 1)[-1],
                    expression=properties["ScheduleExpression"],
                    input=target.get("Input"),
                    maximum_retry_attempts=int(
                        target.get("RetryPolicy", {}).get("MaximumRetryAttempts", 185)
                    ),
                    scheduler=False,
                )
            )
    return found


class Scheduler(BackgroundLoop):
    """Fires every schedule at its times, in a thread of its own."""

    def __init__(
        self,
        schedules: list[Schedule],
        pool: FunctionPool,
        clients: AwsClients,
        printer: Printer,
    ) -> None:
        self.schedules = schedules
        self._pool = pool
        self._sqs = clients.sqs
        self._queue_urls = clients.queue_urls
        self._printer = printer
        super().__init__("scheduler")

    def _run(self) -> None:
        now = datetime.now(UTC)
        due = {
            schedule: next_fire(schedule.expression, now, schedule.timezone) for schedule in self.schedules
        }
        while not self._stop.is_set():
            now = datetime.now(UTC)
            for schedule, moment in list(due.items()):
                if moment is not None and moment <= now:
                    threading.Thread(target=self.fire, args=(schedule,), daemon=True).start()
                    due[schedule] = next_fire(schedule.expression, now, schedule.timezone)
            upcoming = [moment for moment in due.values() if moment is not None]
            wait = min(((moment - now).total_seconds() for moment in upcoming), default=60.0)
            self._stop.wait(max(0.05, min(wait, 60.0)))

    def fire(self, schedule: Schedule) -> bool:
        """Invoke the schedule's target now, with its retries; True when an attempt succeeded."""
        event = schedule.event(datetime.now(UTC))
        attempts = 0
        while True:
            result = self._pool.invoke(schedule.function, event)
            attempts += 1
            if result.ok:
                return True
            if attempts > schedule.maximum_retry_attempts or self._stop.is_set():
                break
            self._stop.wait(min(attempts, 5))
        queue_url = self._queue_urls.get(schedule.dead_letter_arn or "")
        if queue_url is not None:
            error = result.payload if isinstance(result.payload, dict) else {}
            self._sqs.send_message(
                QueueUrl=queue_url,
                MessageBody=json.dumps(event),
                MessageAttributes={
                    "ERROR_CODE": {
                        "DataType": "String",
                        "StringValue": str(error.get("errorType", "Unhandled")),
                    },
                    "ERROR_MESSAGE": {
                        "DataType": "String",
                        "StringValue": str(error.get("errorMessage", ""))[:256],
                    },
                    "EXECUTION_ID": {"DataType": "String", "StringValue": result.request_id},
                    "TARGET_ARN": {"DataType": "String", "StringValue": self._pool.arn(schedule.function)},
                },
            )
        self._printer(schedule.function, f"schedule {schedule.name} failed after {attempts} attempts")
        return False
