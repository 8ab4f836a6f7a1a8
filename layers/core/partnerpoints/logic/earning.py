"""Earning rules as arithmetic: what an order version earns and which postings bring its points there.

Exact fractions throughout, one floor per order (never per item), so the same order always earns the
same points whatever the order of its lines.
"""

from __future__ import annotations

import math
from datetime import datetime
from fractions import Fraction
from functools import cache

from pydantic import ValidationError

from partnerpoints.models.currencies import MINOR_UNITS
from partnerpoints.models.earning import EarningRules, Tier
from partnerpoints.models.ledger import Account, EntryKind, Posting
from partnerpoints.models.order_points import OrderPoints, Terms
from partnerpoints.models.orders import Order, OrderStatus, from_minor_units
from partnerpoints.models.partners import Partner
from partnerpoints.settings import Requirements, SettingsError, get_settings


def parse_earning_rules(raw: str) -> EarningRules:
    """The program's rules from EARNING_RULES; a bad value is a deployment mistake, named."""
    try:
        return EarningRules.model_validate_json(raw)
    except ValidationError as error:
        raise SettingsError(f"invalid settings: EARNING_RULES is not valid earning rules: {error}") from error


def check_with_earning_rules(requirements: Requirements) -> EarningRules:
    """A function's init when it earns or shows points: its requirements, and EARNING_RULES parsed now,
    so that a malformed value stops the init instead of the first order."""
    if "EARNING_RULES" not in requirements.variables:
        raise ValueError("a function that reads the earning rules lists EARNING_RULES in its requirements")
    return parse_earning_rules(requirements.check().earning_rules_json)


@cache
def get_earning_rules() -> EarningRules:
    return parse_earning_rules(get_settings().earning_rules_json)


def terms_for(partner: Partner, rules: EarningRules, tier: Tier) -> Terms:
    currency = rules.currencies.get(partner.currency)
    if currency is None:
        # Partners are refused at creation when their currency has no rule; this is the last guard.
        raise SettingsError(f"the earning rules have no points_per_unit for {partner.currency}")
    return Terms(
        points_percent=partner.points_percent,
        category_points_percent=dict(partner.category_points_percent),
        max_points_per_order=partner.max_points_per_order,
        hold_days=partner.hold_days,
        points_per_unit=currency.points_per_unit,
        tier=tier.name,
        multiplier=tier.multiplier,
    )


def gross_points(order: Order, terms: Terms) -> Fraction:
    """Points for the order's whole amount, unrounded: each item at its category's rate (the partner's
    rate when it has none), the rest of the amount at the partner's rate, times points per unit and
    the tier's multiplier, capped at the partner's max_points_per_order."""
    itemised = sum(line.amount_minor for line in order.items)
    percent_minor = Fraction(order.amount_minor - itemised) * Fraction(terms.points_percent)
    for line in order.items:
        rate = terms.category_points_percent.get(line.category or "", terms.points_percent)
        percent_minor += Fraction(line.amount_minor) * Fraction(rate)
    units = percent_minor / 100 / 10 ** MINOR_UNITS[order.currency]
    points = units * Fraction(terms.points_per_unit) * Fraction(terms.multiplier)
    if terms.max_points_per_order is not None:
        points = min(points, Fraction(terms.max_points_per_order))
    result: Fraction = points
    return result


def target_points(order: Order, terms: Terms) -> int:
    """What the order holds at this version: nothing unless it counts (attributed, not held or
    rejected by review) and is not rejected; refunds keep the unrefunded share. Floored once."""
    if not order.counts or order.status is OrderStatus.REJECTED or order.amount_minor == 0:
        return 0
    kept = Fraction(order.amount_minor - order.refunded_minor, order.amount_minor)
    points: int = math.floor(gross_points(order, terms) * kept)
    return points


def approved_at(order: Order) -> datetime | None:
    """When the program learnt the order was approved: its first transition to approved, or to
    refunded when the partner never sent approved (a refund says the sale happened)."""
    for transition in order.history:
        if transition.status in (OrderStatus.APPROVED, OrderStatus.REFUNDED):
            return transition.at
    return None


def spend_reference_minor(order: Order, rules: EarningRules) -> int:
    """The order's approved net spend in minor units of the reference currency (floored), for tiers."""
    if not order.counts or approved_at(order) is None or order.status is OrderStatus.REJECTED:
        return 0
    rate = rules.currencies[order.currency].reference_rate
    net = Fraction(order.amount_minor - order.refunded_minor, 10 ** MINOR_UNITS[order.currency])
    spend: int = math.floor(net * Fraction(rate) * 10 ** MINOR_UNITS[rules.reference_currency])
    return spend


def entry_id(order: Order | OrderPoints, version: int, kind: EntryKind) -> str:
    return f"order#{order.partner_id}#{order.order_id}#v{version}#{kind}"


def order_postings(order: Order, points: OrderPoints | None, member_id: str, terms: Terms) -> list[Posting]:
    """The postings that move what the order holds to its target: more points go to pending; fewer
    come first out of what is still pending (a void), then out of available (a clawback, which may
    take available below zero: the points were already released)."""
    held_pending = points.pending if points else 0
    held = points.holds if points else 0
    change = target_points(order, terms) - held
    if change == 0:
        return []
    amount = from_minor_units(order.amount_minor, order.currency)

    def posting(kind: EntryKind, points: int, description: str) -> Posting:
        return Posting(
            entry_id=entry_id(order, order.version, kind),
            member_id=member_id,
            account=Account.MAIN,
            kind=kind,
            points=points,
            reference=f"order {order.partner_id}/{order.order_id} v{order.version}",
            description=description,
            partner_id=order.partner_id,
            order_id=order.order_id,
            tier=terms.tier,
            occurred_at=order.status_at,
        )

    if change > 0:
        earned = (
            f"{order.status} order of {amount} {order.currency} at {order.partner_id} "
            f"({terms.tier} tier, x{terms.multiplier})"
        )
        return [posting(EntryKind.ACCRUAL_PENDING, change, earned)]
    reason = "refund" if order.status is OrderStatus.REFUNDED else str(order.status)
    voided = min(-change, held_pending)
    clawed = -change - voided
    reversals = [
        (EntryKind.ACCRUAL_VOID, voided, "pending points reversed"),
        (EntryKind.CLAWBACK, clawed, "released points taken back"),
    ]
    return [
        posting(kind, -points, f"{reason} of the order at {order.partner_id}: {what}")
        for kind, points, what in reversals
        if points
    ]
