"""Orders as partners report them (postbacks) and as the program keeps them (one versioned item each).

Amounts travel as decimal strings in the order's currency ("84.90" EUR) and are kept as integer minor
units (8490); a string with more decimals than the currency has is refused, never rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from partnerpoints.models.currencies import MINOR_UNITS
from partnerpoints.models.ledger import MemberId
from partnerpoints.models.partners import CategoryKey, Currency, MoneyAmount

OrderId = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,128}$")]
ClickIdText = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,128}$")]
Sku = Annotated[str, StringConstraints(pattern=r"^[\x20-\x7e]{1,128}$")]

MAX_ITEMS = 500
MAX_TRANSITIONS = 100  # an order's history; past it further changes are refused (409)


class OrderStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REFUNDED = "refunded"


class ReviewDecision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class Attention(StrEnum):
    """Why an order waits for the operator (the sparse index `orders_needing_attention`)."""

    REVIEW = "review"
    UNATTRIBUTED = "unattributed"


def to_minor_units(amount: str, currency: str) -> int:
    """'12.5' EUR -> 1250. The caller has checked the shape and that the decimals fit the currency."""
    whole, _, fraction = amount.partition(".")
    exponent = MINOR_UNITS[currency]
    scaled: int = int(whole) * 10**exponent + int((fraction or "0").ljust(exponent, "0") or "0")
    return scaled


def from_minor_units(minor: int, currency: str) -> str:
    exponent = MINOR_UNITS[currency]
    if exponent == 0:
        return str(minor)
    return f"{minor // 10**exponent}.{minor % 10**exponent:0{exponent}d}"


def decimals_of(amount: str) -> int:
    return len(amount.partition(".")[2])


class PostbackLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: Sku
    category: CategoryKey | None = None
    amount: MoneyAmount  # the line's total, quantity included
    quantity: int = Field(default=1, ge=1, le=1_000_000)


class OrderPostback(BaseModel):
    """A partner's report of one order's state. Unknown fields are ignored: platforms add their own."""

    model_config = ConfigDict(frozen=True)

    order_id: OrderId
    click_id: ClickIdText | None = None
    status: OrderStatus
    amount: MoneyAmount
    currency: Currency
    refunded_amount: MoneyAmount | None = None
    occurred_at: AwareDatetime
    items: list[PostbackLine] = Field(default_factory=list, max_length=MAX_ITEMS)


@dataclass(frozen=True)
class Line:
    sku: str
    amount_minor: int
    quantity: int = 1
    category: str | None = None


@dataclass(frozen=True)
class OrderChange:
    """One accepted-for-processing delivery, amounts in minor units."""

    partner_id: str
    order_id: str
    click_id: str | None
    status: OrderStatus
    currency: str
    amount_minor: int
    refunded_minor: int
    occurred_at: datetime
    items: tuple[Line, ...]
    delivery_id: str  # webhook-id, or the request id of an unsigned (GET) delivery
    received_at: datetime
    body_sha256: str
    signed: bool


class Attribution(BaseModel):
    model_config = ConfigDict(frozen=True)

    attributed: bool
    reason: str | None = None  # why not, when not
    member_id: MemberId | None = None
    link_id: str | None = None
    clicked_at: datetime | None = None


class Review(BaseModel):
    model_config = ConfigDict(frozen=True)

    reasons: list[str] = Field(default_factory=list)
    decision: ReviewDecision | None = None
    note: str | None = None
    decided_at: datetime | None = None


class Transition(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: int
    at: datetime  # when the program accepted it
    event: str  # a partner status, or review_approve / review_reject
    status: OrderStatus
    amount_minor: int
    refunded_minor: int
    occurred_at: datetime | None = None
    delivery_id: str | None = None


class Order(BaseModel):
    model_config = ConfigDict(frozen=True)

    partner_id: str
    order_id: str
    version: int
    status: OrderStatus
    currency: str
    amount_minor: int
    refunded_minor: int
    items: list[Line] = Field(default_factory=list)
    click_id: str | None = None
    attribution: Attribution
    review: Review | None = None
    commission_minor: int
    commission_reversed_minor: int
    occurred_at: datetime  # of the first delivery the program accepted
    status_at: datetime  # of the delivery that set the current status
    created_at: datetime
    updated_at: datetime
    history: list[Transition]

    @property
    def attention(self) -> Attention | None:
        if not self.attribution.attributed and self.review is None:
            return Attention.UNATTRIBUTED
        if self.review is not None and self.review.decision is None:
            return Attention.REVIEW
        return None

    @property
    def counts(self) -> bool:
        """Whether the order earns points: attributed and not held or rejected by review."""
        if not self.attribution.attributed:
            return False
        return self.review is None or self.review.decision is ReviewDecision.APPROVE

    def view(self) -> dict[str, Any]:
        """The operator's view: amounts back as decimal strings."""
        data = self.model_dump(mode="json", exclude={"items"})
        data["attention"] = self.attention
        data["counts"] = self.counts
        data["amount"] = from_minor_units(self.amount_minor, self.currency)
        data["refunded_amount"] = from_minor_units(self.refunded_minor, self.currency)
        data["commission"] = from_minor_units(self.commission_minor, self.currency)
        data["commission_reversed"] = from_minor_units(self.commission_reversed_minor, self.currency)
        data["items"] = [
            {
                "sku": line.sku,
                "category": line.category,
                "amount": from_minor_units(line.amount_minor, self.currency),
                "quantity": line.quantity,
            }
            for line in self.items
        ]
        return data


class PostbackAnswer(BaseModel):
    """What a partner gets back: 202 for a new change, 200 with duplicate=true for a repeat."""

    order_id: str
    status: OrderStatus
    attributed: bool
    member_id: str | None = None
    reason: str | None = None
    in_review: bool = False
    version: int
    duplicate: bool = False


@dataclass(frozen=True)
class Receipt:
    status_code: int
    answer: PostbackAnswer


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    decision: ReviewDecision
    note: str = Field(min_length=1, max_length=1000)
    # Only for an unattributed order the operator approves: the member it is credited to.
    member_id: MemberId | None = None


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    next_cursor: str | None = None


@dataclass(frozen=True)
class StoredDelivery:
    body_sha256: str
    answer: PostbackAnswer


@dataclass(frozen=True)
class ClickFacts:
    """What attribution needs of a stored click."""

    click_id: str
    partner_id: str
    link_id: str
    member_id: str | None
    bot: bool
    clicked_at: datetime


@dataclass(frozen=True)
class PartnerCredentials:
    """Active postback secrets: Standard Webhooks secrets (whsec_...) and SHA-256 digests of tokens.
    A rotated-out credential carries its expiry; the current one has none."""

    partner_id: str
    webhook_secrets: tuple[tuple[str, datetime | None], ...] = ()
    token_digests: tuple[tuple[str, datetime | None], ...] = ()
    revision: int = 0
