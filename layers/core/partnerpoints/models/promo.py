"""Promo campaigns, their codes, and what a member's redemption of one records."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from partnerpoints.models.members import AccountBalance
from partnerpoints.models.partners import PartnerId
from partnerpoints.models.periods import Moment

CampaignId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
# As an operator types a shared code; stored normalized (upper case, no spaces or dashes).
SharedCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]{2,39}$")]
CodePrefix = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,8}$")]
# "{campaign_id}:{member_id}:{n}": the member's n-th redemption in the campaign.
RedemptionId = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}:[A-Za-z0-9._-]{1,64}:[0-9]{1,6}$")
]

MAX_BATCH_COUNT = 100_000
MAX_POINTS_PER_CODE = 1_000_000


class CampaignStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class CampaignTerms(BaseModel):
    """What an operator sets (create and replace)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    points: int = Field(ge=1, le=MAX_POINTS_PER_CODE)
    valid_from: Moment
    valid_until: Moment
    per_member_limit: int = Field(default=1, ge=1, le=1000)
    max_redemptions_total: int | None = Field(default=None, ge=1, le=10**9)
    # Where the points may be spent; empty: at any partner.
    partner_ids: list[PartnerId] = Field(default_factory=list, max_length=100)
    status: CampaignStatus = CampaignStatus.ACTIVE

    @model_validator(mode="after")
    def _window_and_partners(self) -> Self:
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        if len(set(self.partner_ids)) != len(self.partner_ids):
            raise ValueError("partner_ids must not repeat")
        return self


class NewCampaign(CampaignTerms):
    campaign_id: CampaignId


class Campaign(NewCampaign):
    """A stored campaign: its terms, how often it was redeemed, and its version (bumped on each change)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    redemptions: int = 0
    version: int = 1
    created_at: datetime
    updated_at: datetime

    def spendable_at(self, partner_id: str) -> bool:
        return not self.partner_ids or partner_id in self.partner_ids


class NewCodes(BaseModel):
    """Either one shared code (`code`) or a batch of `count` unique generated codes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: SharedCode | None = None
    count: int | None = Field(default=None, ge=1, le=MAX_BATCH_COUNT)
    prefix: CodePrefix | None = None
    # Uses per code; None (shared codes only): limited by the campaign alone.
    max_redemptions: int | None = Field(default=None, ge=1, le=10**9)

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.code is None) == (self.count is None):
            raise ValueError("give either code (one shared code) or count (a batch of unique codes)")
        if self.code is not None and self.prefix is not None:
            raise ValueError("prefix applies to generated batches, not to a shared code")
        return self


class PromoCode(BaseModel):
    code: str  # as printed, e.g. WIN-7K3P-9XQM
    campaign_id: str
    max_redemptions: int | None
    redemptions: int = 0
    batch_id: str | None = None
    created_at: datetime


class BatchStatus(StrEnum):
    GENERATING = "generating"
    COMPLETE = "complete"


class CodeBatch(BaseModel):
    batch_id: str
    campaign_id: str
    count: int
    prefix: str | None
    max_redemptions: int
    generated: int = 0
    status: BatchStatus = BatchStatus.GENERATING
    created_at: datetime
    completed_at: datetime | None = None


class CodePage(BaseModel):
    """A batch's codes in generation order; pass `next_cursor` back for more (None: no more)."""

    batch_id: str
    codes: list[str]
    next_cursor: str | None = None


class RedemptionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1, max_length=64)


class RedemptionStatus(StrEnum):
    REDEEMED = "redeemed"
    REVOKED = "revoked"


class Redemption(BaseModel):
    redemption_id: str
    member_id: str
    campaign_id: str
    code: str
    points: int
    entry_id: str
    status: RedemptionStatus = RedemptionStatus.REDEEMED
    redeemed_at: datetime
    revoked_at: datetime | None = None
    revoke_reason: str | None = None


class RedemptionReceipt(BaseModel):
    redemption_id: str
    code: str
    campaign_id: str
    points: int
    balance: AccountBalance


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(min_length=3, max_length=500)


class RevokeReceipt(BaseModel):
    redemption: Redemption
    entry_id: str
    duplicate: bool
