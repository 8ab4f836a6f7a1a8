"""RFM scores and segments of a partner's buying members, and the members whose refunds stand out.

Pure: given the purchases of one partner's trailing window, it answers what the nightly run stores.
The rules, as docs/partner-reporting.md states them:

- The window is the 365 UTC days ending with the day analysed. A purchase is an order the network
  attributed to a member, not rejected; it is *kept* while some of it is not refunded.
- Each currency is scored on its own. A member with a kept purchase gets recency (days since the last
  kept purchase), frequency (kept purchases) and monetary (net sales: bought less refunded).
- Scores are quintiles by rank, 1..5, 5 the best (most recent, most frequent, most spent): members
  sorted by the value, a member's score is 1 + 5 x (the middle of the places its value holds) / members,
  floored. Distinct values fall in fifths; equal values share one score, that of the middle of their
  group: when every member bought on the same day, recency ranks nobody above anybody and all score 3.
- The segment is read from R and FM = (F + M) / 2 rounded up, on SEGMENT_GRID.
- A member's refunds stand out with at least 2 purchases in the window and a refund rate (refunded /
  bought, wholly refunded purchases included) of at least one half and at least twice the partner's own
  rate in that currency.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from partnerpoints.logic.statements import rate
from partnerpoints.models.orders import from_minor_units
from partnerpoints.models.partner_analytics import (
    CurrencyRfm,
    MemberReturns,
    Purchase,
    RfmAnalysis,
    Segment,
    SegmentFigures,
)

WINDOW_DAYS = 365
SCORES = 5
STANDOUT_MIN_ORDERS = 2
STANDOUT_MIN_RATE = Fraction(1, 2)
STANDOUT_FACTOR = 2
STANDOUT_LIMIT = 100
STANDOUT_RULE = (
    f"at least {STANDOUT_MIN_ORDERS} orders in the {WINDOW_DAYS} days, and refunded at least half of what "
    f"they bought and at least {STANDOUT_FACTOR}x the partner's own refund rate in that currency"
)
_TWO_PLACES = Decimal("0.01")


def window_start(as_of: date) -> date:
    return as_of - timedelta(days=WINDOW_DAYS - 1)


def quintile_scores(values: Mapping[str, int]) -> dict[str, int]:
    """1..5 by rank, the highest values best; equal values score alike (see the module's rules)."""
    ordered = sorted(values.values())
    first_position: dict[int, int] = {}
    for position, value in enumerate(ordered):
        first_position.setdefault(value, position)
    tied = Counter(ordered)
    count = len(ordered)
    # The middle of the places a value holds, 2 x (first + tied / 2), over 2 x count: integers only.
    return {
        member: 1 + SCORES * (2 * first_position[value] + tied[value]) // (2 * count)
        for member, value in values.items()
    }


_S = Segment
# The segment by recency score (rows, 5 first) and FM score (columns, 1..5).
SEGMENT_GRID = {
    5: (_S.NEW, _S.POTENTIAL_LOYALISTS, _S.POTENTIAL_LOYALISTS, _S.CHAMPIONS, _S.CHAMPIONS),
    4: (_S.PROMISING, _S.POTENTIAL_LOYALISTS, _S.POTENTIAL_LOYALISTS, _S.LOYAL, _S.LOYAL),
    3: (_S.ABOUT_TO_SLEEP, _S.ABOUT_TO_SLEEP, _S.NEED_ATTENTION, _S.LOYAL, _S.LOYAL),
    2: (_S.HIBERNATING, _S.HIBERNATING, _S.AT_RISK, _S.AT_RISK, _S.CANNOT_LOSE),
    1: (_S.HIBERNATING, _S.HIBERNATING, _S.AT_RISK, _S.AT_RISK, _S.CANNOT_LOSE),
}


def segment_of(recency: int, frequency: int, monetary: int) -> Segment:
    return SEGMENT_GRID[recency][(frequency + monetary + 1) // 2 - 1]


@dataclass(frozen=True)
class MemberScore:
    member_id: str
    currency: str
    recency_days: int
    orders: int
    net_minor: int
    r: int
    f: int
    m: int
    segment: Segment

    def csv_row(self) -> list[str]:
        return [
            self.member_id,
            self.currency,
            str(self.recency_days),
            str(self.orders),
            from_minor_units(self.net_minor, self.currency),
            str(self.r),
            str(self.f),
            str(self.m),
        ]


CSV_HEADER = ["member_id", "currency", "recency_days", "orders", "net_sales", "r", "f", "m"]


@dataclass
class _Buyer:
    orders: int = 0
    kept: int = 0
    refunded_orders: int = 0
    bought_minor: int = 0
    refunded_minor: int = 0
    last_kept: date | None = None


@dataclass(frozen=True)
class PartnerRfm:
    analysis: RfmAnalysis
    scores: list[MemberScore]
    standing_out: list[MemberReturns]


def _buyers(purchases: Iterable[Purchase], first: date, as_of: date) -> dict[str, dict[str, _Buyer]]:
    by_currency: dict[str, dict[str, _Buyer]] = defaultdict(lambda: defaultdict(_Buyer))
    for purchase in purchases:
        day = purchase.occurred_at.date()
        if not first <= day <= as_of:
            continue
        buyer = by_currency[purchase.currency][purchase.member_id]
        buyer.orders += 1
        buyer.bought_minor += purchase.amount_minor
        buyer.refunded_minor += purchase.refunded_minor
        buyer.refunded_orders += int(purchase.refunded_minor > 0)
        if purchase.amount_minor > purchase.refunded_minor:
            buyer.kept += 1
            buyer.last_kept = max(buyer.last_kept or day, day)
    return by_currency


def _scores(currency: str, buyers: dict[str, _Buyer], as_of: date) -> list[MemberScore]:
    kept = {member: buyer for member, buyer in buyers.items() if buyer.last_kept is not None}
    if not kept:
        return []
    recency = {member: (as_of - buyer.last_kept).days for member, buyer in kept.items() if buyer.last_kept}
    r = quintile_scores({member: -days for member, days in recency.items()})
    f = quintile_scores({member: buyer.kept for member, buyer in kept.items()})
    net = {member: buyer.bought_minor - buyer.refunded_minor for member, buyer in kept.items()}
    m = quintile_scores(net)
    return [
        MemberScore(
            member_id=member,
            currency=currency,
            recency_days=recency[member],
            orders=kept[member].kept,
            net_minor=net[member],
            r=r[member],
            f=f[member],
            m=m[member],
            segment=segment_of(r[member], f[member], m[member]),
        )
        for member in sorted(kept)
    ]


def _average(total: int, count: int) -> str:
    return str((Decimal(total) / count).quantize(_TWO_PLACES)) if count else "0.00"


def _currency_rfm(currency: str, scores: list[MemberScore]) -> CurrencyRfm:
    segments = []
    for segment in Segment:
        members = [score for score in scores if score.segment is segment]
        segments.append(
            SegmentFigures(
                segment=segment,
                members=len(members),
                share=rate(Decimal(len(members)), len(scores)) or "0",
                net_sales=from_minor_units(sum(score.net_minor for score in members), currency),
                average_recency_days=_average(sum(score.recency_days for score in members), len(members)),
                average_orders=_average(sum(score.orders for score in members), len(members)),
            )
        )
    return CurrencyRfm(
        currency=currency,
        members=len(scores),
        net_sales=from_minor_units(sum(score.net_minor for score in scores), currency),
        segments=segments,
    )


def _standing_out(currency: str, buyers: dict[str, _Buyer]) -> list[MemberReturns]:
    bought = sum(buyer.bought_minor for buyer in buyers.values())
    overall = (
        Fraction(sum(buyer.refunded_minor for buyer in buyers.values()), bought) if bought else Fraction(0)
    )
    threshold = max(STANDOUT_MIN_RATE, STANDOUT_FACTOR * overall)
    return [
        MemberReturns(
            member_id=member,
            currency=currency,
            orders=buyer.orders,
            refunded_orders=buyer.refunded_orders,
            bought=from_minor_units(buyer.bought_minor, currency),
            refunded=from_minor_units(buyer.refunded_minor, currency),
            refund_rate=rate(Decimal(buyer.refunded_minor), buyer.bought_minor) or "0",
        )
        for member, buyer in buyers.items()
        if buyer.orders >= STANDOUT_MIN_ORDERS
        and buyer.bought_minor > 0
        and Fraction(buyer.refunded_minor, buyer.bought_minor) >= threshold
    ]


def analyse(partner_id: str, purchases: Iterable[Purchase], as_of: date) -> PartnerRfm:
    """The partner's RFM analysis at the end of `as_of`, the scores behind it and the standouts."""
    first = window_start(as_of)
    by_currency = _buyers(purchases, first, as_of)
    scores: list[MemberScore] = []
    currencies, standing_out = [], []
    for currency in sorted(by_currency):
        currency_scores = _scores(currency, by_currency[currency], as_of)
        scores += currency_scores
        currencies.append(_currency_rfm(currency, currency_scores))
        standing_out += _standing_out(currency, by_currency[currency])
    standing_out.sort(key=lambda row: (row.currency, -Decimal(row.refunded), row.member_id))
    analysis = RfmAnalysis(
        partner_id=partner_id, as_of=as_of, window_days=WINDOW_DAYS, first_day=first, currencies=currencies
    )
    return PartnerRfm(analysis, scores, standing_out[:STANDOUT_LIMIT])
