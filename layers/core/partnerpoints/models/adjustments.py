"""An operator's manual adjustment of a member account (goodwill credit, correction)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from partnerpoints.models.ledger import Account

# Chosen by the operator's tool (a ticket number, a UUID) so that a retried request posts once.
AdjustmentId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")]


class AdjustmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    adjustment_id: AdjustmentId
    account: Account
    points: int = Field(ge=-(10**9), le=10**9, description="signed: a credit is positive, a debit negative")
    reason: str = Field(min_length=3, max_length=500)
