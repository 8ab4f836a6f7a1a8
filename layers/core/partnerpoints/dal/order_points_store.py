"""The order points table, written together with the ledger: an order's postings and its new points
item go in one transaction, conditional on the item's revision that was read, so a redelivered or
concurrent stream record can never post twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from partnerpoints.dal.cursors import PageQuery
from partnerpoints.dal.ledger_store import stage_postings
from partnerpoints.dal.order_points_tables import OrderPointsItem
from partnerpoints.dal.order_store import plain
from partnerpoints.dal.tables import bind_tables
from partnerpoints.dal.transactions import (
    MAX_ATTEMPTS,
    back_off,
    failed_condition,
    is_retryable,
    is_stored,
)
from partnerpoints.exceptions import ConflictingEntry, LedgerBusy
from partnerpoints.models.ledger import Posting
from partnerpoints.models.order_points import OrderPoints, Terms
from partnerpoints.observability import logger
from partnerpoints.settings import Settings


def _item(points: OrderPoints) -> OrderPointsItem:
    return OrderPointsItem(
        partner_id=points.partner_id,
        order_id=points.order_id,
        member_id=points.member_id,
        currency=points.currency,
        terms=points.terms.model_dump(mode="json"),
        applied_version=points.applied_version,
        revision=points.revision,
        status=points.status,
        pending=points.pending,
        released=points.released,
        clawed_back=points.clawed_back,
        approved_at=points.approved_at,
        spend_reference_minor=points.spend_reference_minor,
        release_at=points.release_at,
        release_day=points.release_day.isoformat() if points.release_day else None,
        updated_at=points.updated_at,
    )


def _to_points(item: OrderPointsItem) -> OrderPoints:
    return OrderPoints(
        partner_id=item.partner_id,
        order_id=item.order_id,
        member_id=item.member_id,
        currency=item.currency,
        terms=Terms.model_validate(plain(item.terms)),
        applied_version=int(item.applied_version),
        revision=int(item.revision),
        status=item.status,
        pending=int(item.pending),
        released=int(item.released),
        clawed_back=int(item.clawed_back),
        approved_at=item.approved_at,
        spend_reference_minor=int(item.spend_reference_minor),
        release_at=item.release_at,
        release_day=date.fromisoformat(item.release_day) if item.release_day else None,
        updated_at=item.updated_at,
    )


_MEMBER_CURSOR_KEYS = frozenset({"member_id", "partner_id", "order_id", "updated_at"})


@dataclass(frozen=True)
class MemberOrderPoints:
    partner_id: str
    order_id: str
    status: str
    pending: int
    available: int  # released, less what a refund took back
    release_at: datetime | None
    updated_at: datetime


class OrderPointsStore:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)
        self._connection = Connection(region=settings.region, host=settings.dynamodb_endpoint_url)

    def get(self, partner_id: str, order_id: str) -> OrderPoints | None:
        try:
            return _to_points(OrderPointsItem.get(partner_id, order_id, consistent_read=True))
        except OrderPointsItem.DoesNotExist:
            return None

    def member_orders(
        self, member_id: str, limit: int, cursor: str | None
    ) -> tuple[list[MemberOrderPoints], str | None]:
        """The member's attributed orders, the latest change first (the index trails by moments)."""
        pages = PageQuery[OrderPointsItem](
            run=lambda start, count: OrderPointsItem.member_orders.query(
                member_id, scan_index_forward=False, limit=count, last_evaluated_key=start
            ),
            key_of=lambda last: {
                "member_id": member_id,
                "partner_id": last.partner_id,
                "order_id": last.order_id,
                "updated_at": OrderPointsItem.updated_at.serialize(last.updated_at),
            },
            attributes=_MEMBER_CURSOR_KEYS,
            bound_to=("member_id", member_id),
            what="these orders",
        )
        page, next_cursor = pages.page(limit, cursor)
        return [
            MemberOrderPoints(
                partner_id=item.partner_id,
                order_id=item.order_id,
                status=item.status,
                pending=int(item.pending),
                available=int(item.released),  # already less what refunds clawed back
                release_at=item.release_at,
                updated_at=item.updated_at,
            )
            for item in page
        ], next_cursor

    def spend_between(self, member_id: str, start: datetime, end: datetime, exclude: str) -> int:
        """A member's approved spend (reference minor units) of orders approved in [start, end), except
        the order keyed `exclude` ("partner/order"). The index is eventually consistent."""
        total = 0
        for item in OrderPointsItem.member_spend.query(
            member_id, OrderPointsItem.approved_at.between(start, end)
        ):
            if item.approved_at < end and f"{item.partner_id}/{item.order_id}" != exclude:
                total += int(item.spend_reference_minor)
        return total

    def due_on(self, day: date, as_of: datetime) -> list[tuple[str, str]]:
        """(partner, order) of the orders indexed under `day` whose release_at is at or before as_of."""
        return [
            (item.partner_id, item.order_id)
            for item in OrderPointsItem.releases_due.query(
                day.isoformat(), OrderPointsItem.release_at <= as_of
            )
        ]

    def record(self, points: OrderPoints, postings: list[Posting], expected_revision: int | None) -> bool:
        """Write the order's new points item and its postings at once. False when the item is no longer
        at `expected_revision` (another record or a release moved it first: read again and redo)."""
        condition: Condition = (
            OrderPointsItem.partner_id.does_not_exist()
            if expected_revision is None
            else OrderPointsItem.revision == expected_revision
        )
        if not postings:
            try:
                _item(points).save(condition=condition)
            except PutError as error:
                if error.cause_response_code == "ConditionalCheckFailedException":
                    return is_stored(_item(points))  # our own write, whose answer was lost, or another's
                raise
            return True
        for attempt in range(MAX_ATTEMPTS):
            try:
                with TransactWrite(connection=self._connection) as transaction:
                    transaction.save(_item(points), condition=condition)
                    stage_postings(transaction, postings, points.updated_at)
            except TransactWriteError as error:
                reasons = error.cancellation_reasons or []
                if reasons and failed_condition(reasons[0]):
                    return is_stored(
                        _item(points)
                    )  # our own transaction, whose answer was lost, or another's
                if is_retryable(reasons):
                    back_off(attempt)
                    continue
                if any(failed_condition(reason) for reason in reasons[1 : 1 + len(postings)]):
                    # The entries exist though the item is at the revision read: never post over them.
                    raise ConflictingEntry(
                        f"order {points.partner_id}/{points.order_id}: an entry of version "
                        f"{points.applied_version} exists but the order's points do not record it"
                    ) from error
                raise
            return True
        logger.warning("order points busy", partner_id=points.partner_id, order_id=points.order_id)
        raise LedgerBusy(f"order {points.partner_id}/{points.order_id} kept changing; retry later")
