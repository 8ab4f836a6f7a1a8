"""The program's earning rules: points per currency unit, tiers and their multipliers.

They come from the template parameter `EarningRules` (JSON, in the EARNING_RULES environment
variable), are checked once at start-up, and are the same for every function.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from partnerpoints.models.orders import from_minor_units
from partnerpoints.models.partners import Currency

TierName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
Positive = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=6)]


class CurrencyRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Points for one whole unit of the currency spent at a 100 % rate (a partner's rate scales it).
    points_per_unit: Positive
    # One unit of this currency in the reference currency: how spend counts towards tiers.
    reference_rate: Positive


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: TierName
    # Approved spend over the trailing 365 days, in whole units of the reference currency.
    threshold: Annotated[Decimal, Field(ge=0, max_digits=15, decimal_places=2)]
    multiplier: Annotated[Decimal, Field(ge=1, le=10, max_digits=6, decimal_places=4)]


class EarningRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reference_currency: Currency
    currencies: dict[Currency, CurrencyRule] = Field(min_length=1)
    tiers: list[Tier] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _tiers_climb_from_zero(self) -> Self:
        if self.reference_currency not in self.currencies:
            raise ValueError(f"the reference currency {self.reference_currency} needs a currency rule")
        thresholds = [tier.threshold for tier in self.tiers]
        if thresholds[0] != 0:
            raise ValueError("the first tier must start at a threshold of 0")
        if any(later <= earlier for earlier, later in itertools.pairwise(thresholds)):
            raise ValueError("tier thresholds must strictly increase")
        if len({tier.name for tier in self.tiers}) != len(self.tiers):
            raise ValueError("tier names must be unique")
        return self

    def tier_for(self, spend_reference_minor: int) -> Tier:
        """The highest tier whose threshold the spend (reference minor units) reaches."""
        spend = Decimal(from_minor_units(spend_reference_minor, self.reference_currency))
        reached = [tier for tier in self.tiers if spend >= tier.threshold]
        return reached[-1]
