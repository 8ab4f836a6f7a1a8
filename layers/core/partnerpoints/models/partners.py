"""Partners (merchants) and their tracking links, as the operator configures them.

Every host a shopper can be sent to is checked here: partner domains are normalised hostnames, link
destinations are https URL templates whose scheme and host hold no macro, and a destination's or
fallback's host must be one of the partner's allowed domains or a subdomain of one.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    StringConstraints,
    model_validator,
)

from partnerpoints.destinations import destination_host, host_allowed, https_host, normalize_hostname
from partnerpoints.models.currencies import MINOR_UNITS, is_currency
from partnerpoints.models.ledger import MemberId
from partnerpoints.models.periods import TimeZoneName

PartnerId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
LinkId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{4,64}$")]
CategoryKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
# Non-negative money as a decimal string, no sign, exponent or separators: "500", "499.99". Whether
# its decimals fit the currency is checked where the currency is known.
MoneyAmount = Annotated[str, StringConstraints(pattern=r"^(0|[1-9][0-9]{0,14})(\.[0-9]{1,4})?$")]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=3)]


def _currency(code: str) -> str:
    if not is_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


Hostname = Annotated[str, AfterValidator(normalize_hostname)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), AfterValidator(_currency)]


class PartnerSettings(BaseModel):
    """What the operator sets for a partner; PUT replaces all of it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    currency: Currency
    allowed_domains: list[Hostname] = Field(min_length=1, max_length=50)
    points_percent: Percent
    category_points_percent: dict[CategoryKey, Percent] = Field(default_factory=dict, max_length=200)
    commission_percent: Percent
    category_commission_percent: dict[CategoryKey, Percent] = Field(default_factory=dict, max_length=200)
    hold_days: int = Field(default=30, ge=0, le=365)
    attribution_window_days: int = Field(default=30, ge=1, le=365)
    fallback_url: str | None = Field(default=None, max_length=2048)
    blocked_referrer_domains: list[Hostname] = Field(default_factory=list, max_length=200)
    # Postbacks: where they may come from, whether the unsigned GET form is accepted, fraud review.
    postback_ip_allowlist: list[IPvAnyNetwork] = Field(default_factory=list, max_length=100)
    signed_postbacks_only: bool = False
    min_seconds_to_order: int = Field(default=10, ge=0, le=86_400)
    review_amount: MoneyAmount | None = None
    # Accrual: no order earns more points than this (before refunds); None: no cap.
    max_points_per_order: int | None = Field(default=None, ge=1, le=10**9)
    # Reporting: the partner's days in its own zone as well as in UTC; None: UTC only.
    time_zone: TimeZoneName | None = Field(
        default=None, description="IANA name (Europe/Berlin): reports can count the partner's local days"
    )

    @model_validator(mode="after")
    def _fallback_on_an_allowed_domain(self) -> Self:
        if self.fallback_url is not None:
            host = https_host(self.fallback_url, "fallback_url")
            if not host_allowed(host, self.allowed_domains):
                raise ValueError(f"fallback_url host {host} is not one of the partner's allowed domains")
        return self

    @model_validator(mode="after")
    def _review_amount_in_the_partners_currency(self) -> Self:
        if self.review_amount is not None and "." in self.review_amount:
            decimals = len(self.review_amount.partition(".")[2])
            if decimals > MINOR_UNITS[self.currency]:
                raise ValueError(
                    f"review_amount has {decimals} decimals; {self.currency} has {MINOR_UNITS[self.currency]}"
                )
        return self


class NewPartner(PartnerSettings):
    partner_id: PartnerId


class Partner(NewPartner):
    created_at: datetime
    updated_at: datetime
    time_zone_since: datetime | None = Field(
        default=None,
        description="when time_zone was last set: activity before it is counted in UTC days only",
    )


class PartnerPage(BaseModel):
    """A page of partners (sorted by id within the page; pages follow the table's own order)."""

    partners: list[Partner]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null: the last page")


class LinkStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


def _destination(template: str) -> str:
    destination_host(template)
    return template


Destination = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_destination)]


class LinkSettings(BaseModel):
    """What may change on a link (PUT replaces both); its partner never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    destination: Destination
    status: LinkStatus = LinkStatus.ACTIVE


class NewLink(LinkSettings):
    partner_id: PartnerId
    link_id: LinkId | None = None


class Link(LinkSettings):
    link_id: LinkId
    partner_id: PartnerId
    created_at: datetime
    updated_at: datetime


class NewMemberLink(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    member_id: MemberId
    link_id: LinkId


class MemberLink(NewMemberLink):
    """`token` goes in the click URL's `m` parameter; it is not a secret, only unforgeable."""

    token: str


# Answers of the operator's routes.


class IssuedSecrets(BaseModel):
    """The partner's postback credentials, in the only answers that carry them: nothing logs them and no
    read returns them again."""

    webhook_secret: str = Field(description="whsec_...: signs POST postbacks (Standard Webhooks)")
    postback_token: str = Field(description="the `token` of GET postbacks")


class CreatedPartner(Partner, IssuedSecrets):
    pass


class RotatedSecrets(IssuedSecrets):
    partner_id: PartnerId
    previous_valid_until: datetime = Field(description="until when the previous credentials still work")


class LinkView(Link):
    url: str = Field(description="the tracking URL to publish: {base}/c/{link_id}")


class MemberLinkView(MemberLink):
    url: str = Field(description="the member's personal click URL: the link with the member's token in `m`")
