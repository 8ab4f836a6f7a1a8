"""Typed shapes of the points ledger: what a caller posts, what is stored, what is read back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from partnerpoints.models.periods import Moment

MemberId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
# Deterministic ids chosen by the caller, e.g. "order#shop-a#A-1001#approved"; printable, no spaces.
EntryId = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,256}$")]
Reference = Annotated[str, StringConstraints(pattern=r"^[\x20-\x7e]{1,256}$")]


class Account(StrEnum):
    MAIN = "main"  # points from purchases
    PROMO = "promo"  # points from promo codes, spendable on promotional offers


class EntryKind(StrEnum):
    ACCRUAL_PENDING = "accrual_pending"
    ACCRUAL_RELEASE = "accrual_release"
    ACCRUAL_VOID = "accrual_void"
    CLAWBACK = "clawback"
    PROMO_CREDIT = "promo_credit"
    PROMO_REVOKE = "promo_revoke"
    SPEND = "spend"
    SPEND_REFUND = "spend_refund"
    EXPIRY = "expiry"
    ADJUSTMENT = "adjustment"


class Bucket(StrEnum):
    AVAILABLE = "available"
    PENDING = "pending"


class Effect(BaseModel):
    """How one entry moves its account's balances; `guard` names a bucket it may not take below zero."""

    model_config = ConfigDict(frozen=True)

    available: int = 0
    pending: int = 0
    lifetime_earned: int = 0
    guard: Bucket | None = None


@dataclass(frozen=True)
class KindRule:
    """Where a kind may be posted, its sign, and what each point does to (available, pending, lifetime)."""

    accounts: frozenset[Account]
    sign: int  # +1 credit only, -1 debit only, 0 either
    coefficients: tuple[int, int, int]
    guard: Bucket | None = None


_MAIN = frozenset({Account.MAIN})
_PROMO = frozenset({Account.PROMO})
_ANY = frozenset(Account)
_AVAILABLE = (1, 0, 0)

# The ledger's definition. Clawbacks and promo revocations may take available below zero (the points
# were already spent; the debt is recorded and shown); every other debit is guarded.
KIND_RULES: dict[EntryKind, KindRule] = {
    EntryKind.ACCRUAL_PENDING: KindRule(_MAIN, +1, (0, 1, 0)),
    EntryKind.ACCRUAL_RELEASE: KindRule(_MAIN, +1, (1, -1, 1), guard=Bucket.PENDING),
    EntryKind.ACCRUAL_VOID: KindRule(_MAIN, -1, (0, 1, 0), guard=Bucket.PENDING),
    EntryKind.CLAWBACK: KindRule(_MAIN, -1, _AVAILABLE),
    EntryKind.PROMO_CREDIT: KindRule(_PROMO, +1, _AVAILABLE),
    EntryKind.PROMO_REVOKE: KindRule(_PROMO, -1, _AVAILABLE),
    EntryKind.SPEND: KindRule(_ANY, -1, _AVAILABLE, guard=Bucket.AVAILABLE),
    EntryKind.SPEND_REFUND: KindRule(_ANY, +1, _AVAILABLE),
    EntryKind.EXPIRY: KindRule(_ANY, -1, _AVAILABLE, guard=Bucket.AVAILABLE),
    EntryKind.ADJUSTMENT: KindRule(_ANY, 0, _AVAILABLE, guard=Bucket.AVAILABLE),
}


def effect_of(kind: EntryKind, points: int) -> Effect:
    """What `points` of `kind` do to an account, by the rule table above."""
    rule = KIND_RULES[kind]
    available, pending, lifetime = (coefficient * points for coefficient in rule.coefficients)
    deltas = {Bucket.AVAILABLE: available, Bucket.PENDING: pending}
    # A guard only matters when this entry lowers the guarded bucket.
    guard = rule.guard if rule.guard is not None and deltas[rule.guard] < 0 else None
    return Effect(available=available, pending=pending, lifetime_earned=lifetime, guard=guard)


MAX_DESCRIPTION = 500


def _shortened(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_DESCRIPTION:
        return text
    return text[: MAX_DESCRIPTION - 1] + "…"


class Posting(BaseModel):
    """One business event to post. `points` is signed: credits positive, debits negative."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entry_id: EntryId
    member_id: MemberId
    account: Account
    kind: EntryKind
    points: int = Field(ge=-(10**12), le=10**12)
    reference: Reference
    # Shortened, never refused: it is composed from what callers send (a 500-character reason with a
    # prefix), and an entry must not fail for its description.
    description: Annotated[str | None, BeforeValidator(_shortened)] = Field(default=None, max_length=500)
    occurred_at: Moment | None = None
    # An entry an order caused names it, and the tier whose multiplier applied.
    partner_id: str | None = None
    order_id: str | None = None
    tier: str | None = None
    # A promo-account entry's points split by the campaigns they come from or go back to.
    allocations: dict[str, int] | None = None
    # Who posted it by hand (an operator's IAM ARN): kept with the entry for audit, never shown to members.
    operator: str | None = Field(default=None, max_length=2048)

    @model_validator(mode="after")
    def _kind_fits_account_and_sign(self) -> Self:
        rule = KIND_RULES[self.kind]
        if self.account not in rule.accounts:
            allowed = ", ".join(sorted(rule.accounts))
            raise ValueError(f"{self.kind} entries belong on the {allowed} account, not {self.account}")
        if self.points == 0:
            raise ValueError("points must not be zero")
        if rule.sign * self.points < 0:
            direction = "positive (a credit)" if rule.sign > 0 else "negative (a debit)"
            raise ValueError(f"{self.kind} points must be {direction}, got {self.points}")
        if self.allocations is not None and sum(self.allocations.values()) != self.points:
            raise ValueError("allocations must add up to the entry's points")
        return self

    def effect(self) -> Effect:
        return effect_of(self.kind, self.points)

    def same_event_as(self, entry: LedgerEntry) -> bool:
        """Whether a stored entry records this very event (what a retry must match to be a duplicate)."""
        return (self.member_id, self.account, self.kind, self.points, self.reference) == (
            entry.member_id,
            entry.account,
            entry.kind,
            entry.points,
            entry.reference,
        )


class LedgerEntry(BaseModel):
    """A stored, immutable entry."""

    model_config = ConfigDict(frozen=True)

    entry_id: str
    member_id: str
    account: Account
    kind: EntryKind
    points: int
    reference: str
    description: str | None = None
    partner_id: str | None = None
    order_id: str | None = None
    tier: str | None = None
    allocations: dict[str, int] | None = None
    occurred_at: datetime
    posted_at: datetime


class PostResult(BaseModel):
    """The entry as first posted; `duplicate` says this call found it already there and changed nothing."""

    model_config = ConfigDict(frozen=True)

    entry: LedgerEntry
    duplicate: bool


class Balance(BaseModel):
    model_config = ConfigDict(frozen=True)

    member_id: str
    account: Account
    available: int = 0
    pending: int = 0
    lifetime_earned: int = 0
    updated_at: datetime | None = None


class HistoryPage(BaseModel):
    """Entries newest first; pass `next_cursor` back for the following page (None: no more)."""

    model_config = ConfigDict(frozen=True)

    entries: list[LedgerEntry]
    next_cursor: str | None = None
