"""What an order has earned: the terms it earns under and where its points are (one item per order)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class Terms(BaseModel):
    """The partner's rates, the program's points per unit and the member's tier when the order first
    earned: fixed for the order's whole life, so a later rate change never rewrites its points."""

    model_config = ConfigDict(frozen=True)

    points_percent: Decimal
    category_points_percent: dict[str, Decimal]
    max_points_per_order: int | None = None
    hold_days: int
    points_per_unit: Decimal
    tier: str
    multiplier: Decimal


class OrderPoints(BaseModel):
    """An order's points as posted so far. `pending` and `released` are the order's share of the
    member's pending and available points; their sum is what the order currently holds."""

    model_config = ConfigDict(frozen=True)

    partner_id: str
    order_id: str
    member_id: str
    currency: str
    terms: Terms
    applied_version: int  # the newest order version turned into postings
    revision: int  # bumped on every write: accrual and release race on it
    status: str
    pending: int = 0
    released: int = 0
    clawed_back: int = 0
    approved_at: datetime | None = None
    # Approved spend in minor units of the reference currency (net of refunds): climbs tiers.
    spend_reference_minor: int = 0
    release_at: datetime | None = None
    release_day: date | None = None  # set while approved points wait for release_at
    updated_at: datetime

    @property
    def holds(self) -> int:
        return self.pending + self.released


@dataclass(frozen=True)
class ReleaseReport:
    as_of: datetime
    days_queried: int
    orders_released: int
    points_released: int
    orders_skipped: int  # found due but already released, or changed under the run
