"""What a member sees and sends: balance, activity, spends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from partnerpoints.models.ledger import Account, Balance, LedgerEntry, Reference
from partnerpoints.models.partners import PartnerId

# Chosen by the member's app per spend attempt (a UUID), so a retried request spends once.
IdempotencyKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")]


class MainAccount(BaseModel):
    available: int
    pending: int
    lifetime: int  # points ever released to available


class PromoAccount(BaseModel):
    available: int


class Accounts(BaseModel):
    main: MainAccount
    promo: PromoAccount


class MemberBalance(BaseModel):
    member_id: str
    tier: str
    accounts: Accounts


class OrderRef(BaseModel):
    partner_id: str
    order_id: str
    status: str | None  # the order's current status; None if the order is no longer stored


class ActivityEntry(LedgerEntry):
    order: OrderRef | None = None


class ActivityPage(BaseModel):
    entries: list[ActivityEntry]
    next_cursor: str | None = None


class MemberOrder(BaseModel):
    """One of the member's orders as the member sees it: where, what it is worth and what it earned."""

    partner_id: str
    order_id: str
    status: str | None = Field(description="the order's current status; null if no longer stored")
    currency: str | None = None
    amount: str | None = Field(default=None, description="in the currency's units, refunds not deducted")
    refunded_amount: str | None = None
    points_pending: int = Field(description="earned, waiting for the return window to end")
    points_available: int = Field(description="released to the main account, less what a refund took back")
    release_at: datetime | None = Field(default=None, description="when the pending points become available")
    updated_at: datetime


class MemberOrdersPage(BaseModel):
    member_id: str
    orders: list[MemberOrder] = Field(description="the latest change first")
    next_cursor: str | None = None


class SpendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    partner_id: PartnerId
    points: int = Field(ge=1, le=10**9)
    account: Account = Account.MAIN
    reference: Reference  # the partner's voucher or basket the points pay for


class AccountBalance(BaseModel):
    account: Account
    available: int
    pending: int
    lifetime: int

    @classmethod
    def of(cls, balance: Balance) -> AccountBalance:
        """What a member is shown of one account's stored balance."""
        return cls(
            account=balance.account,
            available=balance.available,
            pending=balance.pending,
            lifetime=balance.lifetime_earned,
        )


class SpendReceipt(BaseModel):
    entry_id: str
    duplicate: bool = False
    balance: AccountBalance


class RefundReceipt(BaseModel):
    entry_id: str
    refunded_entry_id: str
    points: int
    duplicate: bool


class MemberClickView(BaseModel):
    """One of the member's clicks: where it went, when, and whether an order followed."""

    partner_id: str
    link_id: str | None
    click_id: str
    clicked_at: datetime
    repeats: int = Field(description="requests folded into this click within its 60-second window, less one")
    counted: bool = Field(description="neither a bot nor a refused referrer: it can earn points")
    order_followed: bool
    order_ids: list[str] = Field(description="the orders attributed to this click")


class MemberClicksPage(BaseModel):
    member_id: str
    first_day: date
    last_day: date
    clicks: list[MemberClickView] = Field(description="the latest first")
    next_cursor: str | None = None


@dataclass(frozen=True)
class MemberClick:
    """A member's click as its stream record has it."""

    member_id: str
    click_id: str
    partner_id: str
    link_id: str
    clicked_at: datetime
    clicks: int
    bot: bool
    blocked: bool


@dataclass(frozen=True)
class OrderFollowed:
    """An order attributed to a member's click."""

    member_id: str
    click_id: str
    clicked_at: datetime
    partner_id: str
    link_id: str | None
    order_id: str
