"""The partner configuration tables: conditional creates and replaces, typed reads. Translates
PynamoDB's errors into domain exceptions; nothing above the dal sees them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from partnerpoints.dal.partner_tables import LinkItem, PartnerItem
from partnerpoints.dal.tables import bind_tables
from partnerpoints.exceptions import AlreadyExists, LinkNotFound, PartnerNotFound, PartnerPointsError
from partnerpoints.models.partners import Link, NewPartner, Partner
from partnerpoints.settings import Settings


def _save(item: Model, condition: Condition, refusal: PartnerPointsError) -> None:
    """A conditional put; `refusal` is raised when the condition (exists / does not exist) fails."""
    try:
        item.save(condition=condition)
    except PutError as error:
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise refusal from error
        raise


def _partner_item(partner: Partner) -> PartnerItem:
    data: dict[str, Any] = partner.model_dump(mode="json")
    return PartnerItem(
        **{**data, "created_at": partner.created_at, "updated_at": partner.updated_at},
    )


def _to_partner(item: PartnerItem) -> Partner:
    return Partner(
        partner_id=item.partner_id,
        name=item.name,
        currency=item.currency,
        allowed_domains=list(item.allowed_domains),
        points_percent=Decimal(item.points_percent),
        category_points_percent={
            key: Decimal(value) for key, value in item.category_points_percent.as_dict().items()
        },
        commission_percent=Decimal(item.commission_percent),
        category_commission_percent={
            key: Decimal(value) for key, value in item.category_commission_percent.as_dict().items()
        },
        hold_days=int(item.hold_days),
        attribution_window_days=int(item.attribution_window_days),
        fallback_url=item.fallback_url,
        blocked_referrer_domains=list(item.blocked_referrer_domains or []),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _to_link(item: LinkItem) -> Link:
    return Link.model_validate(item.attribute_values)


class PartnerStore:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)

    def create_partner(self, partner: NewPartner, now: datetime | None = None) -> Partner:
        now = now or datetime.now(UTC)
        stored = Partner(**partner.model_dump(), created_at=now, updated_at=now)
        refusal = AlreadyExists(f"partner {partner.partner_id} already exists")
        _save(_partner_item(stored), PartnerItem.partner_id.does_not_exist(), refusal)
        return stored

    def replace_partner(self, partner: NewPartner, now: datetime | None = None) -> Partner:
        current = self.get_partner(partner.partner_id)
        stored = Partner(
            **partner.model_dump(), created_at=current.created_at, updated_at=now or datetime.now(UTC)
        )
        _save(
            _partner_item(stored),
            PartnerItem.partner_id.exists(),
            PartnerNotFound(f"no partner {partner.partner_id}"),
        )
        return stored

    def get_partner(self, partner_id: str) -> Partner:
        try:
            return _to_partner(PartnerItem.get(partner_id, consistent_read=True))
        except DoesNotExist as error:
            raise PartnerNotFound(f"no partner {partner_id}") from error

    def create_link(self, link: Link) -> Link:
        refusal = AlreadyExists(f"link {link.link_id} already exists")
        _save(LinkItem(**link.model_dump()), LinkItem.link_id.does_not_exist(), refusal)
        return link

    def replace_link(self, link: Link) -> Link:
        _save(
            LinkItem(**link.model_dump()), LinkItem.link_id.exists(), LinkNotFound(f"no link {link.link_id}")
        )
        return link

    def get_link(self, link_id: str) -> Link:
        try:
            return _to_link(LinkItem.get(link_id, consistent_read=True))
        except DoesNotExist as error:
            raise LinkNotFound(f"no link {link_id}") from error
