"""What a partner reads of its customers: RFM segments (nightly) and returns (live counters, and the
members whose refunds stand out, nightly)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from partnerpoints.models.partner_reports import ZonedRange
from partnerpoints.models.partners import PartnerId


class Segment(StrEnum):
    """Where a member's recency (R) and frequency-and-money (FM) scores put them (logic.rfm_analysis)."""

    CHAMPIONS = "champions"
    LOYAL = "loyal"
    POTENTIAL_LOYALISTS = "potential_loyalists"
    NEW = "new"
    PROMISING = "promising"
    NEED_ATTENTION = "need_attention"
    ABOUT_TO_SLEEP = "about_to_sleep"
    AT_RISK = "at_risk"
    CANNOT_LOSE = "cannot_lose"
    HIBERNATING = "hibernating"


@dataclass(frozen=True)
class Purchase:
    """One order a member placed at the partner, as the nightly analysis reads it."""

    member_id: str
    order_id: str
    occurred_at: datetime
    currency: str
    amount_minor: int
    refunded_minor: int


class SegmentFigures(BaseModel):
    segment: Segment
    members: int
    share: str = Field(description="of the currency's scored members, 0..1")
    net_sales: str = Field(description="what the segment's members bought, less refunds, in the window")
    average_recency_days: str
    average_orders: str


class CurrencyRfm(BaseModel):
    currency: str
    members: int = Field(description="members with a purchase kept (not wholly refunded) in the window")
    net_sales: str
    segments: list[SegmentFigures] = Field(description="every segment, in the order of the Segment list")


class RfmAnalysis(BaseModel):
    partner_id: PartnerId
    as_of: date = Field(description="the UTC day the analysis was made at the end of")
    window_days: int
    first_day: date
    currencies: list[CurrencyRfm]


class SegmentMembersLink(BaseModel):
    partner_id: PartnerId
    as_of: date
    segment: Segment
    members: int = Field(description="rows of the CSV (every currency)")
    url: str = Field(
        description="reads the segment's CSV (member_id, currency, recency_days, orders, net_sales, r, f, m) "
        "until expires_at"
    )
    expires_at: datetime


class MoneyReturns(BaseModel):
    currency: str
    gross_sales: str
    refunded: str
    refund_rate: str | None = Field(description="refunded / gross sales")


class ReturnsRow(BaseModel):
    key: str = Field(description="the category (~none: lines without one) or the link id")
    new_orders: int
    refunds: int = Field(description="orders that became refunded in the range")
    money: list[MoneyReturns]


class MemberReturns(BaseModel):
    member_id: str
    currency: str
    orders: int
    refunded_orders: int = Field(description="orders with any refund")
    bought: str
    refunded: str
    refund_rate: str


class MembersStandingOut(BaseModel):
    as_of: date | None = Field(description="the nightly analysis they come from (None: none yet)")
    rule: str = Field(description="what makes a member's refunds stand out")
    members: list[MemberReturns] = Field(description="by currency, most refunded first, at most 100")


class ReturnsAnalysis(ZonedRange):
    partner_id: PartnerId
    totals: list[MoneyReturns]
    by_category: list[ReturnsRow] = Field(description="most refunded first; sales and refunds shared by line")
    by_link: list[ReturnsRow] = Field(description="most refunded first")
    members_standing_out: MembersStandingOut
