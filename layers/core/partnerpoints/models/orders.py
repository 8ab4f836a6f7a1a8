"""Orders as partners report them (postbacks) and as the program keeps them (one versioned item each).

Amounts travel as decimal strings in the order's currency ("84.90" EUR) and are kept as integer minor
units (8490); a string with more decimals than the currency has is refused, never rounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from partnerpoints.models.currencies import MINOR_UNITS
from partnerpoints.models.ledger import MemberId
from partnerpoints.models.partners import CategoryKey, Currency, MoneyAmount
from partnerpoints.models.periods import Moment

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


class StampPrecision(StrEnum):
    """How finely a partner's platform stamped `occurred_at`: the order happened somewhere in its span."""

    SECOND = "second"  # or finer: the moment itself
    MINUTE = "minute"  # 2026-11-30T10:15Z: some second of that minute
    DAY = "day"  # 2026-11-30: some moment of that calendar day, in whatever zone the partner keeps


# A day without a zone is that date somewhere on Earth: from its start at UTC+14 to its end at UTC-12.
_SPANS = {
    StampPrecision.SECOND: (timedelta(0), timedelta(0)),
    StampPrecision.MINUTE: (timedelta(0), timedelta(minutes=1)),
    StampPrecision.DAY: (timedelta(hours=-14), timedelta(days=1, hours=12)),
}
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TO_THE_MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?:Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)


def stamp_span(stamp: datetime, precision: StampPrecision) -> tuple[datetime, datetime]:
    """The earliest and latest moment an order stamped `stamp` at `precision` may have happened."""
    before, after = _SPANS[precision]
    return stamp + before, stamp + after


def precision_of(text: str) -> StampPrecision:
    if _DATE_ONLY.match(text):
        return StampPrecision.DAY
    if _TO_THE_MINUTE.match(text):
        return StampPrecision.MINUTE
    return StampPrecision.SECOND


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
    """ "12.34" for 1234 EUR cents; a negative amount (a period's net commission) as "-0.50"."""
    exponent = MINOR_UNITS[currency]
    if exponent == 0:
        return str(minor)
    sign, size = ("-" if minor < 0 else ""), abs(minor)
    return f"{sign}{size // 10**exponent}.{size % 10**exponent:0{exponent}d}"


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
    # With a time zone, to the second or the minute, or a date alone ("2026-11-30": midnight UTC is kept
    # as the stamp, and the order may have happened at any moment of that date anywhere).
    occurred_at: Moment
    # Read from occurred_at's own text, never from the body.
    occurred_precision: StampPrecision = StampPrecision.SECOND
    items: list[PostbackLine] = Field(default_factory=list, max_length=MAX_ITEMS)

    @model_validator(mode="before")
    @classmethod
    def _read_precision(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {key: value for key, value in data.items() if key != "occurred_precision"}
        text = data.get("occurred_at")
        if isinstance(text, str):
            precision = precision_of(text.strip())
            data["occurred_precision"] = precision
            if precision is StampPrecision.DAY:
                data["occurred_at"] = f"{text.strip()}T00:00:00+00:00"
        return data


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
    occurred_precision: StampPrecision = StampPrecision.SECOND


def _with_referral(data: Any) -> Any:
    """Orders and answers stored before referral and points were two questions: every attributed order
    and every order on an anonymous click was referred, and attributed meant earns points."""
    if isinstance(data, dict) and "referred" not in data:
        attributed = bool(data.get("attributed"))
        anonymous = data.get("reason") == "click_without_member"
        data = {**data, "referred": attributed or anonymous, "earns_points": attributed}
    return data


class Attribution(BaseModel):
    """Two questions about an order. Referred: the network brought the sale (a valid, human click of this
    partner, the order inside its window): the partner owes commission. Earns points (`attributed`, its
    name since the first release): referred on a click that carries a member."""

    model_config = ConfigDict(frozen=True)

    attributed: bool  # earns points
    referred: bool = False
    reason: str | None = None  # why it earns no points: why it is not referred, or click_without_member
    member_id: MemberId | None = None
    link_id: str | None = None
    clicked_at: datetime | None = None
    # When the order counts as placed for attribution: its stamp, or its click's when stamped a little
    # before the click (clock skew, a coarse stamp).
    attributed_at: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _referred_of_older_orders(cls, data: Any) -> Any:
        return _with_referral(data)

    @property
    def earns_points(self) -> bool:
        return self.attributed


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
    # Set where the order's referral is decided (its first report, the operator's decision): whether it
    # was referred from then on, and why not. Statements read them to bill an order as it stood.
    referred: bool | None = None
    reason: str | None = None


class _OrderRecord(BaseModel):
    """What the program keeps of an order and shows its operators, but its lines."""

    model_config = ConfigDict(frozen=True)

    partner_id: str
    order_id: str
    version: int
    status: OrderStatus
    currency: str
    amount_minor: int
    refunded_minor: int
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
    # The partner's reporting zone when the order last changed: its local days are counted in it.
    time_zone: str | None = None


class Order(_OrderRecord):
    items: list[Line] = Field(default_factory=list)

    @property
    def attention(self) -> Attention | None:
        # A referred order on an anonymous click is an ordinary sale: commission, no points, no question.
        if not self.attribution.referred and self.review is None:
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

    def view(self) -> OrderView:
        """The operator's view: amounts back as decimal strings."""
        return OrderView(
            **self.model_dump(exclude={"items"}),
            attention=self.attention,
            counts=self.counts,
            amount=from_minor_units(self.amount_minor, self.currency),
            refunded_amount=from_minor_units(self.refunded_minor, self.currency),
            commission=from_minor_units(self.commission_minor, self.currency),
            commission_reversed=from_minor_units(self.commission_reversed_minor, self.currency),
            items=[
                OrderLineView(
                    sku=line.sku,
                    category=line.category,
                    amount=from_minor_units(line.amount_minor, self.currency),
                    quantity=line.quantity,
                )
                for line in self.items
            ],
        )


class OrderLineView(BaseModel):
    sku: str
    category: str | None
    amount: str
    quantity: int


class OrderView(_OrderRecord):
    attention: Attention | None = Field(description="which operator queue the order waits in, if any")
    counts: bool = Field(description="whether the order earns points")
    amount: str
    refunded_amount: str
    commission: str
    commission_reversed: str
    items: list[OrderLineView]


class OrdersPage(BaseModel):
    orders: list[OrderView]
    next_cursor: str | None


class PostbackAnswer(BaseModel):
    """What a partner gets back: 202 for a new change, 200 with duplicate=true for a repeat. `attributed`
    is `earns_points` under its first name, kept for platforms that read it."""

    order_id: str
    status: OrderStatus
    referred: bool = False
    earns_points: bool = False
    attributed: bool
    member_id: str | None = None
    reason: str | None = None
    in_review: bool = False
    version: int
    duplicate: bool = False

    @model_validator(mode="before")
    @classmethod
    def _answers_stored_before_referral(cls, data: Any) -> Any:
        return _with_referral(data)


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
    blocked: bool = False


@dataclass(frozen=True)
class PartnerCredentials:
    """Active postback secrets: Standard Webhooks secrets (whsec_...) and SHA-256 digests of tokens.
    A rotated-out credential carries its expiry; the current one has none."""

    partner_id: str
    webhook_secrets: tuple[tuple[str, datetime | None], ...] = ()
    token_digests: tuple[tuple[str, datetime | None], ...] = ()
    revision: int = 0
