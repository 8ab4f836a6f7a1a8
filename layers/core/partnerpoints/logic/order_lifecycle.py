"""The order state machine, attribution and fraud review: pure functions of the order, the delivery and
the partner, so that every rule can be tested without storage.

    pending ──▶ approved ──▶ refunded (partial refunds accumulate; fully refunded is terminal)
       │  └──────────────────▲
       └──▶ rejected (terminal)

Deliveries arrive late and out of order. A delivery of a state the order has already moved past (a
`pending` after `approved`, a smaller cumulative refund after a larger one) is acknowledged as a
duplicate; a move the machine does not have (approved → rejected, anything after rejected) or the same
status with other amounts is a conflict.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from partnerpoints.exceptions import InvalidField, OrderConflict
from partnerpoints.models.orders import (
    MAX_TRANSITIONS,
    Attention,
    Attribution,
    ClickFacts,
    Line,
    Order,
    OrderChange,
    OrderStatus,
    Review,
    ReviewDecision,
    ReviewRequest,
    StampPrecision,
    Transition,
    stamp_span,
    to_minor_units,
)
from partnerpoints.models.partners import Partner

# Along the main line; rejected is a branch off pending.
_RANK = {OrderStatus.PENDING: 0, OrderStatus.APPROVED: 1, OrderStatus.REFUNDED: 2}


class Verdict(StrEnum):
    CREATE = "create"
    CHANGE = "change"
    DUPLICATE = "duplicate"


class UnattributedReason(StrEnum):
    """Why an order earns no points. All but ANONYMOUS_CLICK also say why it is not referred (no
    commission); an order on an anonymous click is referred."""

    NO_CLICK_ID = "no_click_id"
    UNKNOWN_CLICK = "unknown_click"
    CLICK_OF_ANOTHER_PARTNER = "click_of_another_partner"
    BOT_CLICK = "bot_click"
    BLOCKED_CLICK = "blocked_click"
    ORDER_BEFORE_CLICK = "order_before_click"
    OUTSIDE_WINDOW = "outside_attribution_window"
    ANONYMOUS_CLICK = "click_without_member"


class ReviewReason(StrEnum):
    TOO_FAST = "too_fast_after_click"
    LARGE_AMOUNT = "amount_over_review_threshold"
    ORDER_VELOCITY = "too_many_orders_per_hour"


def _same_amounts(order: Order, change: OrderChange) -> bool:
    return (order.amount_minor, order.refunded_minor, tuple(order.items)) == (
        change.amount_minor,
        change.refunded_minor,
        change.items,
    )


def _impossible(order: Order, change: OrderChange) -> OrderConflict:
    return OrderConflict(
        f"order {order.order_id} is {order.status}; it cannot become {change.status}",
        [{"path": "body.status", "message": f"{order.status} -> {change.status} is not a transition"}],
        code="impossible_transition",
    )


def _amounts_differ(order: Order, change: OrderChange, why: str) -> OrderConflict:
    return OrderConflict(
        f"order {order.order_id} is already {order.status} with other amounts; {why}",
        [{"path": "body.amount", "message": why}],
        code="amounts_differ",
    )


def decide(order: Order | None, change: OrderChange) -> Verdict:
    """What a delivery does to the order as stored; raises OrderConflict for what it cannot do."""
    if order is None:
        return Verdict.CREATE
    if change.currency != order.currency:
        raise _amounts_differ(order, change, f"the order is in {order.currency}, not {change.currency}")
    if change.click_id != order.click_id:
        raise OrderConflict(
            f"order {order.order_id} was reported with another click_id",
            [{"path": "body.click_id", "message": "an order's click_id cannot change"}],
        )
    if OrderStatus.REJECTED in (order.status, change.status):
        return _rejection(order, change)
    if change.status is order.status:
        return _same_status(order, change)
    if _RANK[change.status] < _RANK[order.status]:
        return Verdict.DUPLICATE  # a late delivery of a state the order has left
    if order.status is not OrderStatus.PENDING and change.amount_minor != order.amount_minor:
        raise _amounts_differ(order, change, f"an {order.status} order's amount cannot be restated")
    return _forward(order)


def _rejection(order: Order, change: OrderChange) -> Verdict:
    """Rejected is a branch off pending and a dead end."""
    if order.status is change.status:
        if _same_amounts(order, change):
            return Verdict.DUPLICATE
        raise _amounts_differ(order, change, "a rejected order's amounts cannot change")
    if change.status is OrderStatus.PENDING:
        return Verdict.DUPLICATE  # a late pending of an order rejected since
    if order.status is OrderStatus.PENDING:
        return _forward(order)
    raise _impossible(order, change)


def _same_status(order: Order, change: OrderChange) -> Verdict:
    if change.status is OrderStatus.REFUNDED:
        if change.amount_minor != order.amount_minor:
            raise _amounts_differ(order, change, "a refund must report the order's amount")
        if change.refunded_minor > order.refunded_minor:
            return _forward(order)  # another partial refund
        return Verdict.DUPLICATE  # the same or an earlier cumulative refund
    if _same_amounts(order, change):
        return Verdict.DUPLICATE
    raise _amounts_differ(order, change, f"the same {change.status} delivery was accepted with other amounts")


def _forward(order: Order) -> Verdict:
    if len(order.history) >= MAX_TRANSITIONS:
        raise OrderConflict(
            f"order {order.order_id} has {MAX_TRANSITIONS} changes already; contact the program",
            code="too_many_changes",
        )
    return Verdict.CHANGE


def commission_minor(partner: Partner, amount_minor: int, items: tuple[Line, ...]) -> int:
    """What the partner owes on an order: each item at its category's rate (the partner's rate when the
    category has none), the rest of the amount at the partner's rate; rounded half-even once."""
    itemised = sum(line.amount_minor for line in items)
    exact = Decimal(amount_minor - itemised) * partner.commission_percent
    for line in items:
        rate = partner.category_commission_percent.get(line.category or "", partner.commission_percent)
        exact += Decimal(line.amount_minor) * rate
    return int((exact / 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def commission_reversed_minor(commission: int, amount_minor: int, refunded_minor: int) -> int:
    """The commission given back on refunds, in proportion, rounded half-even."""
    if amount_minor == 0:
        return 0
    exact = Decimal(commission) * refunded_minor / amount_minor
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def attribute(  # noqa: PLR0911 -- one guard clause per rule, in the order they are documented
    partner: Partner,
    click_id: str | None,
    click: ClickFacts | None,
    stamp: datetime,
    precision: StampPrecision,
    *,
    tolerance: timedelta,
) -> Attribution:
    """Referred: the click is this partner's and human, and the order falls inside the partner's window
    after it. The order may have happened anywhere in its stamp's span (a minute, a date), and clocks
    disagree by up to `tolerance`: an order whose span reaches to within `tolerance` of the click is
    this click's (placed, for attribution, when the click was), and one whose span starts within
    `tolerance` after the window's end still falls in it. Earns points: referred, on a member's click."""

    def not_referred(reason: str) -> Attribution:
        return Attribution(attributed=False, referred=False, reason=reason)

    if click_id is None:
        return not_referred(UnattributedReason.NO_CLICK_ID)
    if click is None:
        return not_referred(UnattributedReason.UNKNOWN_CLICK)
    if click.partner_id != partner.partner_id:
        return not_referred(UnattributedReason.CLICK_OF_ANOTHER_PARTNER)
    if click.bot:
        return not_referred(UnattributedReason.BOT_CLICK)
    if click.blocked:
        return not_referred(UnattributedReason.BLOCKED_CLICK)
    earliest, latest = stamp_span(stamp, precision)
    if latest + tolerance < click.clicked_at:
        return not_referred(UnattributedReason.ORDER_BEFORE_CLICK)
    if earliest - tolerance > click.clicked_at + timedelta(days=partner.attribution_window_days):
        return not_referred(UnattributedReason.OUTSIDE_WINDOW)
    return Attribution(
        attributed=click.member_id is not None,
        referred=True,
        reason=None if click.member_id else UnattributedReason.ANONYMOUS_CLICK,
        member_id=click.member_id,
        link_id=click.link_id,
        clicked_at=click.clicked_at,
        attributed_at=max(stamp, click.clicked_at),
    )


def review_reasons(
    partner: Partner,
    attribution: Attribution,
    change: OrderChange,
    member_orders_last_hour: int,
    max_orders_per_hour: int,
) -> list[str]:
    """Why an order that earns points should wait for the operator instead of counting (empty: it
    counts)."""
    if not attribution.attributed or attribution.clicked_at is None:
        return []
    reasons = []
    # A stamp before the click (skew, a coarse stamp) says nothing about speed; the postback's arrival
    # bounds it from above: the order was placed before its postback was sent.
    placed = change.occurred_at if change.occurred_at >= attribution.clicked_at else change.received_at
    if (placed - attribution.clicked_at).total_seconds() < partner.min_seconds_to_order:
        reasons.append(ReviewReason.TOO_FAST)
    if partner.review_amount is not None and change.amount_minor > to_minor_units(
        partner.review_amount, partner.currency
    ):
        reasons.append(ReviewReason.LARGE_AMOUNT)
    if member_orders_last_hour + 1 > max_orders_per_hour:
        reasons.append(ReviewReason.ORDER_VELOCITY)
    return [str(reason) for reason in reasons]


def _transition(version: int, change: OrderChange, attribution: Attribution | None = None) -> Transition:
    return Transition(
        version=version,
        at=change.received_at,
        event=str(change.status),
        status=change.status,
        amount_minor=change.amount_minor,
        refunded_minor=change.refunded_minor,
        occurred_at=change.occurred_at,
        delivery_id=change.delivery_id,
        referred=attribution.referred if attribution else None,
        reason=attribution.reason if attribution and not attribution.referred else None,
    )


def create(partner: Partner, change: OrderChange, attribution: Attribution, reasons: list[str]) -> Order:
    """A new order. Commission is owed, and so stored, only when the network referred the sale."""
    commission = commission_minor(partner, change.amount_minor, change.items) if attribution.referred else 0
    return Order(
        partner_id=change.partner_id,
        order_id=change.order_id,
        version=1,
        status=change.status,
        currency=change.currency,
        amount_minor=change.amount_minor,
        refunded_minor=change.refunded_minor,
        items=list(change.items),
        click_id=change.click_id,
        attribution=attribution,
        review=Review(reasons=reasons) if reasons else None,
        commission_minor=commission,
        commission_reversed_minor=commission_reversed_minor(
            commission, change.amount_minor, change.refunded_minor
        ),
        occurred_at=change.occurred_at,
        status_at=change.occurred_at,
        created_at=change.received_at,
        updated_at=change.received_at,
        history=[_transition(1, change, attribution)],
        time_zone=partner.time_zone,
    )


def apply(partner: Partner, order: Order, change: OrderChange) -> Order:
    """The order after a change `decide` accepted."""
    restated = order.status is OrderStatus.PENDING
    amount = change.amount_minor if restated else order.amount_minor
    items = list(change.items) if restated else order.items
    commission = order.commission_minor
    if restated and order.attribution.referred:
        commission = commission_minor(partner, amount, tuple(items))
    version = order.version + 1
    return order.model_copy(
        update={
            "version": version,
            "status": change.status,
            "amount_minor": amount,
            "refunded_minor": change.refunded_minor,
            "items": items,
            "commission_minor": commission,
            "commission_reversed_minor": commission_reversed_minor(commission, amount, change.refunded_minor),
            "status_at": change.occurred_at,
            "updated_at": change.received_at,
            "history": [*order.history, _transition(version, change)],
            "time_zone": partner.time_zone,
        }
    )


def resolve(partner: Partner, order: Order, request: ReviewRequest, now: datetime) -> Order | None:
    """The operator's decision on an order in review or unattributed; None when the same decision was
    already taken (a repeat is harmless), OrderConflict when there is nothing to decide. Approving an
    unattributed order makes it referred (commission at the partner's rates) and credits the member."""
    attention = order.attention
    if attention is None:
        if order.review is not None and order.review.decision is request.decision:
            return None
        raise OrderConflict(
            f"order {order.order_id} is not waiting for a decision", code="not_awaiting_decision"
        )
    attribution, reasons = order.attribution, order.review.reasons if order.review else []
    commission = order.commission_minor
    referral: bool | None = None
    if attention is Attention.UNATTRIBUTED:
        reasons = [f"unattributed:{order.attribution.reason}"]
        if request.decision is ReviewDecision.APPROVE:
            if request.member_id is None:
                raise InvalidField(
                    "approving an unattributed order credits a member: name one",
                    [{"path": "body.member_id", "message": "required to approve an unattributed order"}],
                )
            attribution = Attribution(
                attributed=True, referred=True, member_id=request.member_id, attributed_at=now
            )
            commission = commission_minor(partner, order.amount_minor, tuple(order.items))
            referral = True
    elif request.member_id is not None:
        raise InvalidField(
            "the order is attributed already",
            [{"path": "body.member_id", "message": "only for unattributed orders"}],
        )
    version = order.version + 1
    return order.model_copy(
        update={
            "version": version,
            "attribution": attribution,
            "commission_minor": commission,
            "commission_reversed_minor": commission_reversed_minor(
                commission, order.amount_minor, order.refunded_minor
            ),
            "review": Review(reasons=reasons, decision=request.decision, note=request.note, decided_at=now),
            "updated_at": now,
            "time_zone": partner.time_zone,
            "history": [
                *order.history,
                Transition(
                    version=version,
                    at=now,
                    event=f"review_{request.decision}",
                    status=order.status,
                    amount_minor=order.amount_minor,
                    refunded_minor=order.refunded_minor,
                    referred=referral,
                ),
            ],
        }
    )
