"""A member's clicks for their own account (MemberClicksTable). Written from the streams, at least once
and in any order, so every write is idempotent: a click's row never goes back to fewer repeats, and an
order is added to a set."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from partnerpoints.dal.click_tables import MemberClickItem
from partnerpoints.dal.cursors import PageQuery
from partnerpoints.dal.tables import bind_tables
from partnerpoints.models.members import MemberClick, MemberClickView, OrderFollowed
from partnerpoints.models.partner_reports import DayRange
from partnerpoints.settings import Settings

RETENTION = timedelta(days=400)  # as long as a reporting range reaches back
_CURSOR_KEYS = frozenset({"member_id", "click_key"})


def click_key(clicked_at: datetime, click_id: str) -> str:
    return f"{MemberClickItem.clicked_at.serialize(clicked_at)}#{click_id}"


def _condition_failed(error: UpdateError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


class MemberClickStore:
    def __init__(self, settings: Settings) -> None:
        bind_tables(settings)

    def put_click(self, click: MemberClick) -> None:
        """The click as its latest image has it; an older image arriving late changes nothing."""
        item = MemberClickItem(click.member_id, click_key(click.clicked_at, click.click_id))
        try:
            item.update(
                actions=[
                    MemberClickItem.click_id.set(click.click_id),
                    MemberClickItem.partner_id.set(click.partner_id),
                    MemberClickItem.link_id.set(click.link_id),
                    MemberClickItem.clicked_at.set(click.clicked_at),
                    MemberClickItem.clicks.set(click.clicks),
                    MemberClickItem.bot.set(click.bot),
                    MemberClickItem.blocked.set(click.blocked),
                    MemberClickItem.expires_at.set(click.clicked_at + RETENTION),
                ],
                condition=MemberClickItem.clicks.does_not_exist() | (MemberClickItem.clicks <= click.clicks),
            )
        except UpdateError as error:
            if not _condition_failed(error):
                raise

    def mark_order(self, followed: OrderFollowed) -> None:
        """The order added to its click's row (made here if the click's own record comes later)."""
        item = MemberClickItem(followed.member_id, click_key(followed.clicked_at, followed.click_id))
        actions: list[Action] = [
            MemberClickItem.order_ids.add({followed.order_id}),
            MemberClickItem.click_id.set(followed.click_id),
            MemberClickItem.partner_id.set(followed.partner_id),
            MemberClickItem.clicked_at.set(followed.clicked_at),
            MemberClickItem.expires_at.set(MemberClickItem.expires_at | (followed.clicked_at + RETENTION)),
        ]
        if followed.link_id:
            actions.append(MemberClickItem.link_id.set(MemberClickItem.link_id | followed.link_id))
        item.update(actions=actions)

    def clicks(
        self, member_id: str, days: DayRange, partner_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[MemberClickView], str | None]:
        """The member's clicks of the range, the latest first."""
        low = MemberClickItem.clicked_at.serialize(days.start)
        high = MemberClickItem.clicked_at.serialize(days.end) + "~"
        pages = PageQuery[MemberClickItem](
            run=lambda start, count: MemberClickItem.query(
                member_id,
                MemberClickItem.click_key.between(low, high),
                filter_condition=(MemberClickItem.partner_id == partner_id) if partner_id else None,
                scan_index_forward=False,
                limit=count,
                last_evaluated_key=start,
            ),
            key_of=lambda last: {"member_id": member_id, "click_key": last.click_key},
            attributes=_CURSOR_KEYS,
            bound_to=("member_id", member_id),
            what="these clicks",
        )
        page, next_cursor = pages.page(limit, cursor)
        return [
            MemberClickView(
                partner_id=item.partner_id,
                link_id=item.link_id,
                click_id=item.click_id,
                clicked_at=item.clicked_at,
                repeats=max(int(item.clicks or 1) - 1, 0),
                counted=not item.bot and not item.blocked,
                order_followed=bool(item.order_ids),
                order_ids=sorted(item.order_ids or ()),
            )
            for item in page
        ], next_cursor
