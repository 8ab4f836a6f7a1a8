"""A partner's customer analytics: the nightly RFM run, and the reading of it and of returns.

Nightly (NightlyStatements, a day's shard): each partner with activity that day is analysed over its
trailing window (logic.rfm_analysis) from one Query of its orders by last change: the work grows with
the partner's orders of the year, never with the program's members. The documents go to the
statements bucket:

    analytics/<partner_id>/<day>/rfm.json              the segments per currency
    analytics/<partner_id>/<day>/standing-out.json     members whose refunds stand out
    analytics/<partner_id>/<day>/segments/<seg>.csv    the members of one segment, for the partner's
                                                       own campaigns
    analytics/<partner_id>/latest.json                 which day is the latest (never moved back)

A partner without activity on a day keeps its last analysis (the answer says its day): with nothing new,
ranks do not move, and neither do the scores.

Returns are read live from the activity counters (by category and by link, for any range) with the
standouts of the latest analysis.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache

from partnerpoints.dal.counter_store import CounterRow, CounterStore
from partnerpoints.dal.order_store import OrderStore
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.dal.statement_files import LINK_LIFETIME, StatementBucket, canonical_json
from partnerpoints.exceptions import AnalysisNotFound
from partnerpoints.logic.partner_figures import ReportDays, currencies_of, total, totals_by_key
from partnerpoints.logic.rfm_analysis import CSV_HEADER, STANDOUT_RULE, PartnerRfm, analyse, window_start
from partnerpoints.logic.statements import rate
from partnerpoints.models.orders import from_minor_units
from partnerpoints.models.partner_analytics import (
    MemberReturns,
    MembersStandingOut,
    MoneyReturns,
    ReturnsAnalysis,
    ReturnsRow,
    RfmAnalysis,
    Segment,
    SegmentMembersLink,
)
from partnerpoints.models.partner_reports import ReportTimeZone
from partnerpoints.models.periods import Period
from partnerpoints.settings import Settings

ANALYTICS = "analytics/"


def analysis_key(partner_id: str, day: date, name: str) -> str:
    return f"{ANALYTICS}{partner_id}/{day.isoformat()}/{name}"


def latest_key(partner_id: str) -> str:
    return f"{ANALYTICS}{partner_id}/latest.json"


def segment_csv(result: PartnerRfm, segment: Segment) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(score.csv_row() for score in result.scores if score.segment is segment)
    return out.getvalue().encode()


class PartnerAnalytics:
    def __init__(
        self,
        bucket: StatementBucket,
        orders: OrderStore,
        partners: PartnerStore | None = None,
        counters: CounterStore | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._bucket = bucket
        self._orders = orders
        self._partners = partners
        self._counters = counters
        self._clock = clock

    # ------------------------------------------------------------------ nightly
    def analyse(self, partner_id: str, day: date) -> PartnerRfm:
        """Analyse the partner at the end of `day` and store the documents."""
        since = Period.day(window_start(day)).start
        result = analyse(partner_id, self._orders.member_purchases(partner_id, since), day)
        counts = Counter(score.segment for score in result.scores)
        for segment in Segment:
            key = analysis_key(partner_id, day, f"segments/{segment}.csv")
            self._bucket.put(key, segment_csv(result, segment), "text/csv; charset=utf-8")
        standing_out = {
            "as_of": day.isoformat(),
            "members": [row.model_dump(mode="json") for row in result.standing_out],
        }
        self._bucket.put(
            analysis_key(partner_id, day, "standing-out.json"),
            canonical_json(standing_out),
            "application/json",
        )
        self._bucket.put(
            analysis_key(partner_id, day, "rfm.json"),
            canonical_json(result.analysis.model_dump(mode="json")),
            "application/json",
        )
        latest = self._bucket.get_json(latest_key(partner_id))
        if latest is None or str(latest.get("as_of", "")) <= day.isoformat():
            pointer = {"as_of": day.isoformat(), "segments": {str(s): counts[s] for s in Segment}}
            self._bucket.put(latest_key(partner_id), canonical_json(pointer), "application/json")
        return result

    # ------------------------------------------------------------------ reading
    def _latest(self, partner_id: str) -> dict[str, object] | None:
        latest = self._bucket.get_json(latest_key(partner_id))
        if latest is None and self._partners is not None:
            self._partners.get_partner(partner_id)  # PartnerNotFound, for an operator's typo
        return latest

    def rfm(self, partner_id: str) -> RfmAnalysis:
        latest = self._latest(partner_id)
        document = (
            self._bucket.get_json(
                analysis_key(partner_id, date.fromisoformat(str(latest["as_of"])), "rfm.json")
            )
            if latest
            else None
        )
        if document is None:
            raise AnalysisNotFound(f"partner {partner_id} has no analysis yet: it is made by the nightly run")
        return RfmAnalysis.model_validate(document)

    def segment_members(self, partner_id: str, segment: Segment) -> SegmentMembersLink:
        latest = self._latest(partner_id)
        if latest is None:
            raise AnalysisNotFound(f"partner {partner_id} has no analysis yet: it is made by the nightly run")
        as_of = date.fromisoformat(str(latest["as_of"]))
        counts = latest.get("segments")
        members = int(counts.get(str(segment), 0)) if isinstance(counts, dict) else 0
        key = analysis_key(partner_id, as_of, f"segments/{segment}.csv")
        return SegmentMembersLink(
            partner_id=partner_id,
            as_of=as_of,
            segment=segment,
            members=members,
            url=self._bucket.presigned_get(key, int(LINK_LIFETIME.total_seconds())),
            expires_at=self._clock() + LINK_LIFETIME,
        )

    def returns(
        self,
        partner_id: str,
        *,
        first: date | None,
        last: date | None,
        time_zone: ReportTimeZone = ReportTimeZone.UTC,
    ) -> ReturnsAnalysis:
        if self._counters is None or self._partners is None:
            raise RuntimeError("returns are read with the activity counters and the partner")
        partners = self._partners
        report = ReportDays.of(
            lambda: partners.get_partner(partner_id), first, last, time_zone, self._clock()
        )
        days, zone = report.days, report.zone
        latest = self._bucket.get_json(latest_key(partner_id))
        as_of = date.fromisoformat(str(latest["as_of"])) if latest else None
        standing_out: list[MemberReturns] = []
        if as_of is not None:
            document = self._bucket.get_json(analysis_key(partner_id, as_of, "standing-out.json")) or {}
            standing_out = [MemberReturns.model_validate(row) for row in document.get("members", [])]
        by_category = _returns_rows(self._counters.categories(partner_id, days.first, days.last, zone))
        by_link = _returns_rows(self._counters.links(partner_id, days.first, days.last, zone))
        totals = total(row.counters for row in self._counters.days(partner_id, days.first, days.last, zone))
        return ReturnsAnalysis(
            partner_id=partner_id,
            **report.describe(),
            totals=_money_returns(totals),
            by_category=by_category,
            by_link=by_link,
            members_standing_out=MembersStandingOut(as_of=as_of, rule=STANDOUT_RULE, members=standing_out),
        )


def _money_returns(counters: Counter[str]) -> list[MoneyReturns]:
    return [
        MoneyReturns(
            currency=currency,
            gross_sales=from_minor_units(counters[f"sales.{currency}"], currency),
            refunded=from_minor_units(counters[f"refunded.{currency}"], currency),
            refund_rate=rate(Decimal(counters[f"refunded.{currency}"]), counters[f"sales.{currency}"]),
        )
        for currency in currencies_of(counters, "sales")
    ]


def _returns_rows(rows: list[CounterRow]) -> list[ReturnsRow]:
    """Counter rows keyed "<day>#<what>" summed per <what>, the most refunded orders first."""
    summed = [
        ReturnsRow(
            key=key,
            new_orders=counters["orders.new"],
            refunds=counters["orders.refunds"],
            money=_money_returns(counters),
        )
        for key, counters in totals_by_key(rows).items()
        if counters["orders.new"]
        or counters["orders.refunds"]
        or any(n.startswith("sales.") for n in counters)
    ]
    return sorted(summed, key=lambda row: (-row.refunds, -row.new_orders, row.key))


@cache
def get_partner_analytics() -> PartnerAnalytics:
    # Its own read of the environment: the reporting function's bucket and tables.
    settings = Settings.from_environment()
    return PartnerAnalytics(
        StatementBucket(settings), OrderStore(settings), PartnerStore(settings), CounterStore(settings)
    )
