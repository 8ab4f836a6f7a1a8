"""What a partner reads of its own numbers (the /partner routes, and the operator's mirror of them)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from partnerpoints.models.partners import PartnerId
from partnerpoints.models.periods import Period


def _period_label(label: str) -> str:
    Period.parse(label)  # ValueError names what is wrong
    return label


# A day (2026-11-22) or a month (2026-11).
PeriodLabel = Annotated[
    str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$"), AfterValidator(_period_label)
]


class StatementFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


class PartnerStatementEntry(BaseModel):
    period: str
    kind: Literal["day", "month"]
    first_day: date
    last_day: date
    formats: list[StatementFormat]


class PartnerStatementList(BaseModel):
    partner_id: PartnerId
    statements: list[PartnerStatementEntry] = Field(description="newest first")
    next_cursor: str | None = Field(default=None, description="pass as `cursor` for the next page")


class StatementLink(BaseModel):
    partner_id: PartnerId
    period: str
    format: StatementFormat
    url: str = Field(description="reads the statement directly from storage until expires_at")
    expires_at: datetime
