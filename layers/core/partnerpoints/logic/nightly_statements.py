"""The nightly close: settle the day's matured points, then, one shard of the activity index at a time,
expire dormant points, re-tier, write member and partner statements and reconcile every account they
touch with the ledger; the manifest is written when the last shard is done.

Every step is idempotent: entries have deterministic ids (`expiry#{member}#{day}`), objects have
deterministic keys and bytes, and records that carry timings keep the first run's (dal.statement_files).
Entries the close posts are dated the end of the day they close, so they belong to that day. Today
may be closed too, provisionally (the demo does): its entries are dated now, and the next night's run
closes the day for good, rewriting its objects.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from partnerpoints.activity import SHARDS
from partnerpoints.dal.activity_store import ActivityStore, ClickCount, PartnerEntry
from partnerpoints.dal.ledger_store import LedgerStore
from partnerpoints.dal.order_points_store import OrderPointsStore
from partnerpoints.dal.order_store import OrderStore
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.dal.statement_files import StatementFiles
from partnerpoints.dal.webhook_event_store import WebhookEventStore
from partnerpoints.exceptions import InsufficientPoints
from partnerpoints.logic.accrual import Accrual
from partnerpoints.logic.earning import get_earning_rules
from partnerpoints.logic.partner_analytics import PartnerAnalytics
from partnerpoints.logic.statement_documents import member_files, partner_files
from partnerpoints.logic.statement_runs import prefix, run_progress
from partnerpoints.logic.statements import (
    EXPIRY_NOTICE_DAYS,
    QUALIFYING_KINDS,
    AccountPeriod,
    figures,
    partner_figures,
    pending_by_order,
)
from partnerpoints.logic.webhook_events import WebhookEventRecorder, statement_ready, tier_changed
from partnerpoints.models.ledger import Account, EntryKind, Posting
from partnerpoints.models.periods import Period, add_months, dormancy_days, end_of_day
from partnerpoints.models.webhooks import WebhookEvent
from partnerpoints.observability import logger
from partnerpoints.settings import Settings

RECONCILE_ATTEMPTS = 3  # the history index trails a posting by moments: re-read before reporting
RECONCILE_PAUSE_SECONDS = 0.5


PARTNER_INDEX = "statements/by-partner/"  # an empty object per partner statement: one listing finds them


def partner_statement_key(partner_id: str, period: Period, suffix: str) -> str:
    return f"{prefix(period)}partners/{partner_id}.{suffix}"


def partner_index_key(partner_id: str, period: Period) -> str:
    return f"{PARTNER_INDEX}{partner_id}/{period.label}"


def default_day(now: datetime) -> date:
    """The day a run closes when none is given: yesterday in UTC."""
    return now.astimezone(UTC).date() - timedelta(days=1)


@dataclass
class _Timer:
    timings_ms: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings_ms[name] = round((time.perf_counter() - started) * 1000, 1)


@dataclass(frozen=True)
class ShardOutcome:
    period: str
    shard: int
    members: int
    partners: int
    mismatches: list[dict[str, Any]]
    # The mismatches this run is the first to see tonight (what the StatementMismatches alarm counts):
    # a month's roll-up re-checks the accounts its last day's run checked, and reports those once.
    first_seen: int
    manifest_written: bool


class NightlyStatements:
    def __init__(
        self,
        *,
        ledger: LedgerStore,
        activity: ActivityStore,
        orders: OrderStore,
        order_points: OrderPointsStore,
        files: StatementFiles,
        accrual_at: Callable[[datetime], Accrual],
        expiry_months: int,
        analytics: PartnerAnalytics | None = None,
        events: WebhookEventRecorder | None = None,
        shards: int = SHARDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ledger = ledger
        self._activity = activity
        self._orders = orders
        self._order_points = order_points
        self._files = files
        self._accrual_at = accrual_at  # an Accrual whose clock reads the given moment
        self._expiry_months = expiry_months
        self._analytics = analytics
        self._events = events
        self._shards = shards
        self._clock = clock

    def _closing_moment(self, day: date) -> datetime:
        """When the close's own entries are posted: the end of the day closed, or now for today's
        provisional close (never a time still to come)."""
        return min(end_of_day(day), self._clock())

    # ------------------------------------------------------------------ the scheduled invocation
    def close(self, day: date) -> dict[str, Any]:
        """Settle the day, then queue its shards (and the month's, on a month's last day)."""
        period = Period.day(day)
        timer = _Timer()
        moment = self._closing_moment(day)
        with timer.step("settle"):
            report = self._accrual_at(moment).release_matured(as_of=moment)
        settle = {"orders_released": report.orders_released, "points_released": report.points_released}
        # The first close of a day is the record; a re-run's settle releases nothing new.
        self._files.put_once(
            f"{prefix(period)}close.json",
            {"period": period.describe(), "settle": settle, "timings_ms": timer.timings_ms},
        )
        periods = [period]
        if (day + timedelta(days=1)).day == 1:
            periods.append(Period.month(day.year, day.month))
        queued = self._files.enqueue(
            {"period": queued.label, "shard": shard} for queued in periods for shard in range(self._shards)
        )
        logger.info("statement run queued", day=day.isoformat(), shards=queued, settle=settle)
        return {
            "date": day.isoformat(),
            "periods": [p.label for p in periods],
            "tasks": queued,
            "settle": settle,
        }

    def status(self, period: Period) -> dict[str, Any]:
        done, manifest = run_progress(self._files, period)
        return {"period": period.label, "shards_done": done, "shards": self._shards, "manifest": manifest}

    # ------------------------------------------------------------------ one queued shard
    def run_shard(self, period: Period, shard: int) -> ShardOutcome:
        timer = _Timer()
        if period.is_day:
            with timer.step("expire"):
                self._expire(period.first, shard)
        with timer.step("member_statements"):
            members = self._active_members(period, shard)
            summaries = [self._member_statement(member_id, period) for member_id in members]
        with timer.step("partner_statements"):
            partner_ids = self._partner_statements(period, shard)
        if period.is_day and self._analytics is not None:
            with timer.step("partner_analytics"):
                for partner_id in partner_ids:
                    self._analytics.analyse(partner_id, period.first)
        if self._events is not None:
            with timer.step("webhook_events"):
                self._events.record(self._statement_events(period, summaries, partner_ids))
        partners = len(partner_ids)
        mismatches = [mismatch for summary in summaries for mismatch in summary["mismatches"]]
        first_seen = sum(summary["first_seen"] for summary in summaries)
        for mismatch in mismatches:
            logger.error("statement does not reconcile with the ledger", period=period.label, **mismatch)
        totals: Counter[str] = Counter()
        closing: dict[str, Counter[str]] = {str(account): Counter() for account in Account}
        for summary in summaries:
            totals.update(summary["by_kind"])
            for account, balance in summary["closing"].items():
                closing[account].update(balance)
        record = {
            "period": period.describe(),
            "shard": shard,
            "members": len(members),
            "accounts": sum(len(summary["closing"]) for summary in summaries),
            "partners": partners,
            "expired_members": sum(1 for summary in summaries if summary["by_kind"].get(EntryKind.EXPIRY)),
            "tier_changes": sum(1 for summary in summaries if summary["tier_changed"]),
            "points_by_kind": dict(sorted(totals.items())),
            "closing": {account: dict(sorted(sums.items())) for account, sums in closing.items()},
            "mismatches": mismatches,
            "timings_ms": timer.timings_ms,
        }
        self._files.put_record(f"{prefix(period)}shards/{shard:02d}.json", record)
        return ShardOutcome(
            period.label,
            shard,
            len(members),
            partners,
            mismatches,
            first_seen,
            self._write_manifest_if_done(period),
        )

    def _statement_events(
        self, period: Period, summaries: list[dict[str, Any]], partner_ids: list[str]
    ) -> list[WebhookEvent]:
        """Told once the files are written: each statement ready, and on a day's run the tiers moved."""
        at = self._closing_moment(period.last)
        events = [
            statement_ready("member", summary["member_id"], period.label, ["json", "csv", "html"], at)
            for summary in summaries
        ]
        events += [
            statement_ready("partner", partner_id, period.label, ["json", "csv"], at)
            for partner_id in partner_ids
        ]
        if period.is_day:
            events += [
                tier_changed(
                    summary["member_id"], summary["tier"], summary["previous_tier"], period.first, at
                )
                for summary in summaries
                if summary["tier_changed"]
            ]
        return events

    def _active_members(self, period: Period, shard: int) -> list[str]:
        return sorted(
            {
                activity.member_id
                for day in period.days()
                for activity in self._activity.member_entries(day, shard)
            }
        )

    # ------------------------------------------------------------------ expiry
    def _expire(self, day: date, shard: int) -> None:
        """Available main points of members whose last qualifying activity was `expiry_months` ago."""
        candidates = {
            activity.member_id
            for dormant_day in dormancy_days(day, self._expiry_months)
            for activity in self._activity.member_entries(dormant_day, shard)
            if activity.kind in QUALIFYING_KINDS
        }
        for member_id in sorted(candidates):
            last = self._ledger.last_entry_of(member_id, QUALIFYING_KINDS)
            if last is None or add_months(last.posted_at.date(), self._expiry_months) != day:
                continue  # active since
            available = self._ledger.get_balances(member_id)[Account.MAIN].available
            if available <= 0:
                continue
            posting = Posting(
                entry_id=f"expiry#{member_id}#main#{day.isoformat()}",
                member_id=member_id,
                account=Account.MAIN,
                kind=EntryKind.EXPIRY,
                points=-available,
                reference=f"no activity since {last.posted_at.date().isoformat()}",
                description=f"{self._expiry_months} months without earning, redeeming or spending points",
                occurred_at=self._closing_moment(day),
            )
            try:
                self._ledger.post(posting, now=self._closing_moment(day))
            except InsufficientPoints:
                logger.warning("expiry skipped: the balance moved", member_id=member_id)

    # ------------------------------------------------------------------ members
    def _member_statement(self, member_id: str, period: Period) -> dict[str, Any]:
        accounts, mismatches = self._reconciled_accounts(member_id, period)
        touched = [account for account in accounts if account.entries]
        # The day's run checks exactly the accounts that moved on the day it closes.
        checked_tonight = {
            str(account.account) for account in touched if not period.is_day and account.moved_on(period.last)
        }
        main = next(account for account in accounts if account.account is Account.MAIN)
        tier = self._accrual_at(period.end).tier_at(member_id, period.end).name
        previous = (
            self._accrual_at(period.start).tier_at(member_id, period.start - timedelta(microseconds=1)).name
        )
        statement = {
            "statement": "member",
            "member_id": member_id,
            "period": period.describe(),
            "tier": {"tier": tier, "previous": previous, "changed": tier != previous},
            "accounts": [account.section() for account in touched],
            "pending": self._pending(main),
            "expiring": self._expiring(member_id, main, period),
        }
        for suffix, (body, content_type) in member_files(statement).items():
            self._files.put(f"{prefix(period)}members/{member_id}.{suffix}", body, content_type)
        by_kind: Counter[str] = Counter()
        for account in touched:
            for entry in account.entries:
                by_kind[str(entry.kind)] += entry.points
        return {
            "member_id": member_id,
            "by_kind": by_kind,
            "closing": {str(account.account): figures(account.closing) for account in touched},
            "tier": tier,
            "previous_tier": previous,
            "tier_changed": tier != previous,
            "mismatches": mismatches,
            "first_seen": sum(1 for mismatch in mismatches if mismatch["account"] not in checked_tonight),
        }

    def _reconciled_accounts(
        self, member_id: str, period: Period
    ) -> tuple[list[AccountPeriod], list[dict[str, Any]]]:
        """Both accounts over the period, and where the stored balance is not the sum of the entries."""
        for attempt in range(RECONCILE_ATTEMPTS):
            stored = self._ledger.get_balances(member_id)
            accounts = [
                AccountPeriod.of(member_id, account, self._ledger.all_entries(member_id, account), period)
                for account in Account
            ]
            mismatches = [
                account.mismatch(stored[account.account])
                for account in accounts
                if account.entries and not account.reconciles_with(stored[account.account])
            ]
            if not mismatches:
                return accounts, []
            if attempt + 1 < RECONCILE_ATTEMPTS:
                time.sleep(RECONCILE_PAUSE_SECONDS)
        return accounts, mismatches

    def _pending(self, main: AccountPeriod) -> list[dict[str, Any]]:
        pending = []
        for (partner_id, order_id), points in pending_by_order([*main.earlier, *main.entries]).items():
            order_points = self._order_points.get(partner_id, order_id)
            release_at = order_points.release_at if order_points is not None else None
            pending.append(
                {
                    "partner_id": partner_id,
                    "order_id": order_id,
                    "points": points,
                    "release_on": release_at.date().isoformat() if release_at else None,
                }
            )
        return pending

    def _expiring(self, member_id: str, main: AccountPeriod, period: Period) -> dict[str, Any] | None:
        if main.closing.available <= 0:
            return None
        last = self._ledger.last_entry_of(member_id, QUALIFYING_KINDS)
        if last is None:
            return None
        on = add_months(last.posted_at.date(), self._expiry_months)
        if not period.last < on <= period.last + timedelta(days=EXPIRY_NOTICE_DAYS):
            return None
        return {"points": main.closing.available, "on": on.isoformat()}

    # ------------------------------------------------------------------ partners
    def _partner_statements(self, period: Period, shard: int) -> list[str]:
        clicks: dict[str, list[ClickCount]] = {}
        entries: dict[str, list[PartnerEntry]] = {}
        changed: dict[str, set[str]] = {}
        for day in period.days():
            for click in self._activity.clicks(day, shard):
                clicks.setdefault(click.partner_id, []).append(click)
            for entry in self._activity.partner_entries(day, shard):
                entries.setdefault(entry.partner_id, []).append(entry)
            for partner_id, order_id in self._activity.changed_orders(day, shard):
                changed.setdefault(partner_id, set()).add(order_id)
        partners = sorted({*clicks, *entries, *changed})
        for partner_id in partners:
            orders = [
                order
                for order_id in sorted(changed.get(partner_id, ()))
                if (order := self._orders.get_order(partner_id, order_id)) is not None
            ]
            statement = {
                "statement": "partner",
                "partner_id": partner_id,
                "period": period.describe(),
                **partner_figures(orders, clicks.get(partner_id, []), entries.get(partner_id, []), period),
            }
            for suffix, (body, content_type) in partner_files(statement).items():
                self._files.put(partner_statement_key(partner_id, period, suffix), body, content_type)
            self._files.put(partner_index_key(partner_id, period), b"", "text/plain")
        return partners

    # ------------------------------------------------------------------ the manifest
    def _write_manifest_if_done(self, period: Period) -> bool:
        keys = self._files.keys(f"{prefix(period)}shards/")
        if len(keys) < self._shards:
            return False
        records = [record for key in sorted(keys) if (record := self._files.get_json(key)) is not None]
        close = self._files.get_json(f"{prefix(period)}close.json") if period.is_day else None
        totals: Counter[str] = Counter()
        closing: dict[str, Counter[str]] = {str(account): Counter() for account in Account}
        timings: Counter[str] = Counter(close["timings_ms"] if close else {})
        mismatches: list[dict[str, Any]] = []
        for record in records:
            totals.update(record["points_by_kind"])
            for account, sums in record["closing"].items():
                closing[account].update(sums)
            timings.update(record["timings_ms"])
            mismatches.extend(record["mismatches"])
        accounts = sum(record["accounts"] for record in records)
        manifest = {
            "period": period.describe(),
            "shards": len(records),
            "settle": close["settle"] if close else None,
            "members": sum(record["members"] for record in records),
            "accounts": accounts,
            "partners": sum(record["partners"] for record in records),
            "expired_members": sum(record["expired_members"] for record in records),
            "tier_changes": sum(record["tier_changes"] for record in records),
            "points_by_kind": dict(sorted(totals.items())),
            "closing": {account: dict(sorted(sums.items())) for account, sums in closing.items()},
            "reconciliation": {
                "accounts_checked": accounts,
                "mismatches": sorted(mismatches, key=lambda item: (item["member_id"], item["account"])),
                "clean": not mismatches,
            },
            "timings_ms": {name: round(value, 1) for name, value in sorted(timings.items())},
        }
        written = self._files.put_record(f"{prefix(period)}manifest.json", manifest)
        logger.info(
            "statement manifest",
            period=period.label,
            written=written,
            members=manifest["members"],
            partners=manifest["partners"],
            mismatches=len(mismatches),
        )
        return True


def nightly_statements(settings: Settings) -> NightlyStatements:
    partners = PartnerStore(settings)
    rules = get_earning_rules()
    order_points = OrderPointsStore(settings)
    orders = OrderStore(settings)
    files = StatementFiles(settings)
    return NightlyStatements(
        ledger=LedgerStore(settings),
        activity=ActivityStore(settings),
        orders=orders,
        order_points=order_points,
        files=files,
        accrual_at=lambda moment: Accrual(order_points, partners, rules, clock=lambda: moment),
        expiry_months=settings.expiry_months,
        analytics=PartnerAnalytics(files, orders),
        events=WebhookEventRecorder(WebhookEventStore(settings)),
    )


@cache
def get_nightly_statements() -> NightlyStatements:
    # Its own read of the environment: the bucket, queue and expiry are this function's settings alone.
    return nightly_statements(Settings.from_environment())
