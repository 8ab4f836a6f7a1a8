"""An operator's manual adjustment of a member account (goodwill credit, correction)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from partnerpoints.models.ledger import Account

# Chosen by the operator's tool (a ticket number, a UUID) so that a retried request posts once.
AdjustmentId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")]


class AdjustmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    adjustment_id: AdjustmentId
    account: Account
    points: int = Field(
        ge=-(10**9),
        le=10**9,
        description="signed, never 0: a credit is positive, a debit negative",
        json_schema_extra={"not": {"const": 0}},
    )
    reason: str = Field(min_length=3, max_length=500)

    @field_validator("points")
    @classmethod
    def _moves_points(cls, points: int) -> int:
        # Found by the schema fuzz: a zero adjustment reached the ledger, which refuses empty entries.
        if points == 0:
            raise ValueError("an adjustment moves points: give a positive credit or a negative debit")
        return points
