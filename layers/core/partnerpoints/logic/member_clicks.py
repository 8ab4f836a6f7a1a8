"""A member's own clicks (GET /members/{member_id}/clicks): each click of theirs, and whether an order
followed it, kept from the Clicks and Orders streams by the partner counters function. The click itself
stays one write on the shopper's path; this is written moments later, off it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from pydantic import ValidationError

from partnerpoints.dal.member_click_store import MemberClickStore
from partnerpoints.logic.activity_counters import Source, StreamChange, clicked_at_of
from partnerpoints.models.members import MemberClick, MemberClicksPage, OrderFollowed
from partnerpoints.models.orders import Order
from partnerpoints.models.partner_reports import DayRange
from partnerpoints.settings import Settings


def member_click_of(image: Mapping[str, Any] | None) -> MemberClick | None:
    """The click of a Clicks record's new image, if a member made it."""
    if image is None or not image.get("member_id") or "partner_id" not in image:
        return None
    return MemberClick(
        member_id=str(image["member_id"]),
        click_id=str(image["click_id"]),
        partner_id=str(image["partner_id"]),
        link_id=str(image["link_id"]),
        clicked_at=clicked_at_of(image),
        clicks=int(image.get("clicks", 1)),
        bot=bool(image.get("bot")),
        blocked=bool(image.get("blocked")),
    )


def order_followed_of(old: Order | None, new: Order | None) -> OrderFollowed | None:
    """The member's click an order was attributed to, when this change attributed it."""
    if new is None:
        return None
    attribution = new.attribution
    if attribution.member_id is None or new.click_id is None or attribution.clicked_at is None:
        return None
    if old is not None and (old.attribution.member_id, old.click_id) == (attribution.member_id, new.click_id):
        return None  # marked by the change that attributed it
    return OrderFollowed(
        member_id=attribution.member_id,
        click_id=new.click_id,
        clicked_at=attribution.clicked_at,
        partner_id=new.partner_id,
        link_id=attribution.link_id,
        order_id=new.order_id,
    )


class MemberClicks:
    def __init__(
        self, store: MemberClickStore, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._store = store
        self._clock = clock

    def record(self, changes: Iterable[StreamChange]) -> int:
        """Write what the changes say of members' clicks; how many rows were written. Idempotent:
        records come at least once and in any order."""
        written = 0
        for change in changes:
            try:
                click, followed = self._facts(change)
            except (ValidationError, KeyError, ValueError):
                continue  # no click or order: the counters log and count it (ActivityCounters.fold)
            if click is not None:
                self._store.put_click(click)
            if followed is not None:
                self._store.mark_order(followed)
            written += int(click is not None) + int(followed is not None)
        return written

    @staticmethod
    def _facts(change: StreamChange) -> tuple[MemberClick | None, OrderFollowed | None]:
        if change.source is Source.CLICKS:
            return member_click_of(change.new), None
        if change.source is Source.ORDERS and change.new is not None:
            old = Order.model_validate(change.old) if change.old is not None else None
            return None, order_followed_of(old, Order.model_validate(change.new))
        return None, None

    def clicks(
        self,
        member_id: str,
        *,
        first: date | None,
        last: date | None,
        partner_id: str | None,
        limit: int,
        cursor: str | None,
    ) -> MemberClicksPage:
        days = DayRange.of(first, last, self._clock().date())
        clicks, next_cursor = self._store.clicks(member_id, days, partner_id, limit, cursor)
        return MemberClicksPage(
            member_id=member_id,
            first_day=days.first,
            last_day=days.last,
            clicks=clicks,
            next_cursor=next_cursor,
        )


@cache
def get_member_clicks() -> MemberClicks:
    return MemberClicks(MemberClickStore(Settings.from_environment()))
