"""The partner configuration tables: conditional creates and replaces, typed reads. Translates
PynamoDB's errors into domain exceptions; nothing above the dal sees them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, PynamoDBException, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from partnerpoints.dal.cursors import PageQuery
from partnerpoints.dal.partner_tables import Credential, LinkItem, PartnerCredentialsItem, PartnerItem
from partnerpoints.dal.tables import bind_tables
from partnerpoints.dal.transactions import create_once, failed_condition
from partnerpoints.exceptions import (
    AlreadyExists,
    ConcurrentChange,
    LinkNotFound,
    PartnerNotFound,
    PartnerPointsError,
    StorageUnavailable,
)
from partnerpoints.models.orders import PartnerCredentials
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
        **{
            **data,
            "created_at": partner.created_at,
            "updated_at": partner.updated_at,
            "time_zone_since": partner.time_zone_since,
        },
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
        postback_ip_allowlist=list(item.postback_ip_allowlist or []),
        signed_postbacks_only=bool(item.signed_postbacks_only),
        min_seconds_to_order=int(item.min_seconds_to_order if item.min_seconds_to_order is not None else 10),
        review_amount=item.review_amount,
        max_points_per_order=int(item.max_points_per_order)
        if item.max_points_per_order is not None
        else None,
        time_zone=item.time_zone,
        time_zone_since=item.time_zone_since,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _credential_list(
    values: tuple[tuple[str, datetime | None], ...], issued_at: datetime
) -> list[Credential]:
    return [Credential(value=value, issued_at=issued_at, expires_at=expires) for value, expires in values]


def _credentials_item(credentials: PartnerCredentials, now: datetime) -> PartnerCredentialsItem:
    return PartnerCredentialsItem(
        partner_id=credentials.partner_id,
        webhook_secrets=_credential_list(credentials.webhook_secrets, now),
        token_digests=_credential_list(credentials.token_digests, now),
        revision=credentials.revision,
        updated_at=now,
    )


def _to_credentials(item: PartnerCredentialsItem) -> PartnerCredentials:
    return PartnerCredentials(
        partner_id=item.partner_id,
        webhook_secrets=tuple((entry.value, entry.expires_at) for entry in item.webhook_secrets),
        token_digests=tuple((entry.value, entry.expires_at) for entry in item.token_digests),
        revision=int(item.revision),
    )


def _to_link(item: LinkItem) -> Link:
    return Link.model_validate(item.attribute_values)


class PartnerStore:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)
        self._connection = Connection(region=settings.region, host=settings.dynamodb_endpoint_url)

    def create_partner(
        self, partner: NewPartner, credentials: PartnerCredentials, now: datetime | None = None
    ) -> Partner:
        """The partner and its first postback credentials, both or neither."""
        now = now or datetime.now(UTC)
        since = now if partner.time_zone is not None else None
        stored = Partner(**partner.model_dump(), created_at=now, updated_at=now, time_zone_since=since)
        try:
            with TransactWrite(connection=self._connection) as transaction:
                transaction.save(_partner_item(stored), condition=PartnerItem.partner_id.does_not_exist())
                transaction.save(
                    _credentials_item(credentials, now),
                    condition=PartnerCredentialsItem.partner_id.does_not_exist(),
                )
        except TransactWriteError as error:
            if any(failed_condition(reason) for reason in error.cancellation_reasons or []):
                if self._holds(stored, credentials):
                    return stored  # our own write, whose answer was lost and which the SDK sent again
                raise AlreadyExists(f"partner {partner.partner_id} already exists") from error
            raise
        return stored

    def _holds(self, partner: Partner, credentials: PartnerCredentials) -> bool:
        """Whether this very partner and these credentials (their secrets are random) are stored."""
        try:
            return self.get_partner(partner.partner_id) == partner and (
                self.get_credentials(partner.partner_id) == credentials
            )
        except PartnerNotFound:
            return False

    def get_credentials(self, partner_id: str) -> PartnerCredentials | None:
        try:
            return _to_credentials(PartnerCredentialsItem.get(partner_id, consistent_read=True))
        except DoesNotExist:
            return None

    def replace_credentials(
        self, credentials: PartnerCredentials, expected_revision: int | None, now: datetime
    ) -> None:
        """Conditional on the revision that was read: two rotations at once cannot both win."""
        condition = (
            PartnerCredentialsItem.partner_id.does_not_exist()
            if expected_revision is None
            else PartnerCredentialsItem.revision == expected_revision
        )
        _save(
            _credentials_item(credentials, now),
            condition,
            ConcurrentChange(f"partner {credentials.partner_id}'s credentials were rotated meanwhile; retry"),
        )

    def replace_partner(self, partner: NewPartner, now: datetime | None = None) -> Partner:
        current = self.get_partner(partner.partner_id)
        now = now or datetime.now(UTC)
        since = current.time_zone_since if partner.time_zone == current.time_zone else now
        stored = Partner(
            **partner.model_dump(),
            created_at=current.created_at,
            updated_at=now,
            time_zone_since=since if partner.time_zone is not None else None,
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
        create_once(LinkItem(**link.model_dump()), LinkItem.link_id.does_not_exist(), refusal)
        return link

    def replace_link(self, link: Link) -> Link:
        _save(
            LinkItem(**link.model_dump()), LinkItem.link_id.exists(), LinkNotFound(f"no link {link.link_id}")
        )
        return link

    def list_partners(self, limit: int, cursor: str | None) -> tuple[list[Partner], str | None]:
        """A page of every partner, in the table's own order (a scan: the program has a few hundred
        partners, not millions), and the cursor of the next page."""
        pages = PageQuery[PartnerItem](
            run=lambda start, count: PartnerItem.scan(limit=count, last_evaluated_key=start),
            key_of=lambda last: {"partner_id": last.partner_id},
            attributes=frozenset({"partner_id"}),
            bound_to=None,
            what="the partners",
        )
        try:
            items, next_cursor = pages.page(limit, cursor)
        except PynamoDBException as error:
            raise StorageUnavailable("the partners could not be listed") from error
        return [_to_partner(item) for item in items], next_cursor

    def time_zones(self, partner_ids: Collection[str]) -> dict[str, str | None]:
        """Each existing partner's reporting time zone (None: it has none), in one batch read."""
        try:
            return {
                item.partner_id: item.time_zone
                for item in PartnerItem.batch_get(
                    sorted(partner_ids), consistent_read=True, attributes_to_get=["partner_id", "time_zone"]
                )
            }
        except PynamoDBException as error:
            raise StorageUnavailable("the partners' time zones could not be read") from error

    def get_link(self, link_id: str) -> Link:
        try:
            return _to_link(LinkItem.get(link_id, consistent_read=True))
        except DoesNotExist as error:
            raise LinkNotFound(f"no link {link_id}") from error
