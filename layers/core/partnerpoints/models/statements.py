"""What the nightly statements function is asked: a run for a day (the schedule, an operator), the
state of a period's run, or one shard of a period (a message of its queue)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, ConfigDict, Field, Json, field_validator

from partnerpoints.activity import SHARDS
from partnerpoints.models.periods import Period


class StatementRun(BaseModel):
    """`{}` closes yesterday (UTC); `{"date": "2026-11-22"}` closes or re-runs that day;
    `{"action": "status", "period": "2026-11"}` reads a period's progress and manifest."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["run", "status"] = "run"
    date: dt.date | None = None
    period: str | None = None

    @field_validator("period")
    @classmethod
    def _a_day_or_a_month(cls, value: str | None) -> str | None:
        if value is not None:
            Period.parse(value)
        return value


class ShardTask(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str
    shard: int = Field(ge=0, lt=SHARDS)

    @field_validator("period")
    @classmethod
    def _a_day_or_a_month(cls, value: str) -> str:
        Period.parse(value)
        return value


class ShardTaskRecord(SqsRecordModel):
    body: Json[ShardTask]  # the parsed task, not the raw string
