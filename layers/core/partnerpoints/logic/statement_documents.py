"""A statement as files: canonical JSON (sorted keys), CSV of its lines, and for members a page they can
read. Each is a pure function of the statement, so the same statement is always the same bytes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from html import escape
from typing import Any

from partnerpoints.dal.statement_files import canonical_json

MEMBER_CSV_COLUMNS = (
    "account",
    "entry_id",
    "posted_at",
    "occurred_at",
    "kind",
    "points",
    "reference",
    "description",
    "partner_id",
    "order_id",
)
PARTNER_CSV_COLUMNS = (
    "record",
    "id",
    "status",
    "currency",
    "amount",
    "refunded",
    "commission_due",
    "reason",
    "total",
    "unique",
    "bot",
    "blocked",
)


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def member_files(statement: dict[str, Any]) -> dict[str, tuple[bytes, str]]:
    """Suffix -> (body, content type)."""
    rows = [entry for account in statement["accounts"] for entry in account["entries"]]
    return {
        "json": (canonical_json(statement), "application/json"),
        "csv": (_csv(MEMBER_CSV_COLUMNS, rows), "text/csv; charset=utf-8"),
        "html": (member_page(statement).encode(), "text/html; charset=utf-8"),
    }


def partner_files(statement: dict[str, Any]) -> dict[str, tuple[bytes, str]]:
    rows = [{"record": "link", "id": link["link_id"], **link} for link in statement["clicks"]["links"]]
    rows += [{"record": "order", "id": order["order_id"], **order} for order in statement["orders"]["orders"]]
    rows += [
        {"record": "unreferred_order", "id": order["order_id"], **order}
        for order in statement["unreferred"]["orders"]
    ]
    return {
        "json": (canonical_json(statement), "application/json"),
        "csv": (_csv(PARTNER_CSV_COLUMNS, rows), "text/csv; charset=utf-8"),
    }


# What a member reads for each kind of entry: never the program's codes.
KIND_LABELS = {
    "accrual_pending": "Points for a purchase (pending)",
    "accrual_release": "Points now available",
    "accrual_void": "Pending points cancelled",
    "clawback": "Points taken back after a refund",
    "promo_credit": "Promo code redeemed",
    "promo_revoke": "Promo points withdrawn",
    "spend": "Points spent",
    "spend_refund": "Points spent, given back",
    "expiry": "Points expired",
    "adjustment": "Adjustment by the program",
}
ACCOUNT_LABELS = {"main": "Points account", "promo": "Promo points account"}
_MEMBER_STYLE = (
    "body{font-family:system-ui,sans-serif;color:#1f2937;max-width:56em;margin:2em auto;padding:0 1em;"
    "line-height:1.45}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.5em}"
    ".glance{display:flex;flex-wrap:wrap;gap:1em;padding:0;list-style:none}"
    ".glance li{border:1px solid #d1d5db;border-radius:8px;padding:.75em 1em;min-width:12em}"
    ".glance strong{display:block;font-size:1.4em}"
    "table{border-collapse:collapse;margin:.5em 0 1em;width:100%}"
    "td,th{border-bottom:1px solid #d1d5db;padding:.3em .5em;text-align:left}"
    ".num{text-align:right;font-variant-numeric:tabular-nums}.note{color:#4b5563}"
    "@media print{body{margin:0;max-width:none}.glance li,tr{break-inside:avoid}}"
)


def _day(text: str | None) -> str:
    """ "2026-11-30" as "30 November 2026" (a calendar day: no zone to convert)."""
    if not text:
        return ""
    day = date.fromisoformat(text[:10])
    return f"{day.day} {day.strftime('%B %Y')}"


def _moment(text: str) -> str:
    """A stored instant as "30 November 2026, 14:05 UTC": minutes, not microseconds."""
    moment = datetime.fromisoformat(text).astimezone(UTC)
    return f"{_day(moment.date().isoformat())}, {moment:%H:%M} UTC"


def _points(value: int) -> str:
    return f"{value:+,}" if value else "0"


def _what(entry: dict[str, Any]) -> str:
    """An entry's line for the member: its description, else the purchase it is for."""
    if entry.get("description"):
        return str(entry["description"])
    if entry.get("partner_id") and entry.get("order_id"):
        return f"purchase {entry['order_id']} at {entry['partner_id']}"
    return ""


def _table(headings: list[tuple[str, bool]], rows: list[list[Any]]) -> str:
    head = "".join(
        f'<th scope="col"{" class=num" if numeric else ""}>{escape(text)}</th>' for text, numeric in headings
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=num' if headings[index][1] else ''}>{escape('' if cell is None else str(cell))}"
            "</td>"
            for index, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _glance(statement: dict[str, Any]) -> str:
    """The summary first: what the member can spend, what is on its way and when, what expires soon."""
    closing = {account["account"]: account["closing"] for account in statement["accounts"]}
    main = closing.get("main", {"available": 0, "pending": 0})
    items = [f"<li>Available now<strong>{main['available']:,} points</strong></li>"]
    if "promo" in closing:
        items.append(f"<li>Promo points<strong>{closing['promo']['available']:,} points</strong></li>")
    release_days = sorted(item["release_on"] for item in statement["pending"] if item["release_on"])
    pending_note = f"first available on {_day(release_days[0])}" if release_days else "after approval"
    items.append(
        f"<li>Pending<strong>{main['pending']:,} points</strong>"
        + (escape(pending_note) if main["pending"] else "nothing pending")
        + "</li>"
    )
    expiring = statement["expiring"]
    if expiring:
        on = escape(_day(expiring["on"]))
        items.append(f"<li>Expiring soon<strong>{expiring['points']:,} points</strong>on {on}</li>")
    return '<ul class="glance">' + "".join(items) + "</ul>"


def member_page(statement: dict[str, Any]) -> str:
    """The member's statement as a page for people: the summary first, then what happened, with labels
    and dates instead of the program's codes and timestamps, and nothing of who operated it."""
    period = statement["period"]
    tier = statement["tier"]
    first, last = _day(period["from"]), _day(period["to"])
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Your points statement, {escape(first if first == last else f'{first} to {last}')}</title>",
        f"<style>{_MEMBER_STYLE}</style></head><body>",
        "<h1>Your points statement</h1>",
        f"<p>{escape(first if first == last else f'{first} to {last}')} &middot; statement for "
        f"{escape(statement['member_id'])} &middot; tier <strong>{escape(tier['tier'].capitalize())}</strong>"
        + (f" (was {escape(tier['previous'].capitalize())})" if tier["changed"] else "")
        + "</p>",
        "<h2>At a glance</h2>",
        _glance(statement),
    ]
    if statement["pending"]:
        parts.append("<h2>Points on their way</h2>")
        rows = [
            [
                f"{item['order_id']} at {item['partner_id']}",
                f"{item['points']:,}",
                _day(item["release_on"]) or "after approval",
            ]
            for item in statement["pending"]
        ]
        parts.append(_table([("Purchase", False), ("Points", True), ("Available on", False)], rows))
    for account in statement["accounts"]:
        opening, closing = account["opening"], account["closing"]
        parts.append(f"<h2>{escape(ACCOUNT_LABELS.get(account['account'], account['account']))}</h2>")
        parts.append(
            _table(
                [("", False), ("Available", True), ("Pending", True)],
                [
                    ["At the start", f"{opening['available']:,}", f"{opening['pending']:,}"],
                    ["At the end", f"{closing['available']:,}", f"{closing['pending']:,}"],
                ],
            )
        )
        rows = [
            [
                _moment(entry["posted_at"]),
                KIND_LABELS.get(entry["kind"], "Other"),
                _points(entry["points"]),
                _what(entry),
            ]
            for entry in account["entries"]
        ]
        parts.append(_table([("When", False), ("What", False), ("Points", True), ("Details", False)], rows))
    parts.append(
        '<p class="note">Times are in UTC. Keep this statement: it is the record of your points.</p>'
    )
    parts.append("</body></html>\n")
    return "\n".join(parts)
