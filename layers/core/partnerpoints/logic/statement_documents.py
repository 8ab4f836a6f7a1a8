"""A statement as files: canonical JSON (sorted keys), CSV of its lines, and for members a page they can
read. Each is a pure function of the statement, so the same statement is always the same bytes."""

from __future__ import annotations

import csv
import io
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


def _table(headings: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(str(heading))}</th>" for heading in headings)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if cell is None else str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def member_page(statement: dict[str, Any]) -> str:
    period = statement["period"]
    tier = statement["tier"]
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Points statement {escape(period['label'])}</title>",
        "<style>body{font-family:sans-serif;max-width:56em;margin:2em auto}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .5em}"
        "td:nth-child(n+2){text-align:right}</style></head><body>",
        f"<h1>Your points statement, {escape(period['from'])} to {escape(period['to'])}</h1>",
        f"<p>Member {escape(statement['member_id'])} &middot; tier <strong>{escape(tier['tier'])}</strong>"
        + (f" (was {escape(tier['previous'])})" if tier["changed"] else "")
        + "</p>",
    ]
    for account in statement["accounts"]:
        opening, closing = account["opening"], account["closing"]
        parts.append(f"<h2>{escape(account['account'].capitalize())} account</h2>")
        parts.append(
            _table(
                ["", "available", "pending"],
                [
                    ["Opening", opening["available"], opening["pending"]],
                    ["Closing", closing["available"], closing["pending"]],
                ],
            )
        )
        moves = [[kind, points, ""] for kind, points in account["credits"].items()]
        moves += [[kind, "", points] for kind, points in account["debits"].items()]
        parts.append(_table(["kind", "credits", "debits"], moves))
        parts.append(
            _table(
                ["posted", "kind", "points", "what"],
                [
                    [
                        entry["posted_at"],
                        entry["kind"],
                        entry["points"],
                        entry["description"] or entry["reference"],
                    ]
                    for entry in account["entries"]
                ],
            )
        )
    if statement["pending"]:
        parts.append("<h2>Pending points</h2>")
        parts.append(
            _table(
                ["partner", "order", "points", "available on"],
                [
                    [
                        item["partner_id"],
                        item["order_id"],
                        item["points"],
                        item["release_on"] or "after approval",
                    ]
                    for item in statement["pending"]
                ],
            )
        )
    expiring = statement["expiring"]
    if expiring:
        parts.append(
            f"<p><strong>{expiring['points']} points expire on {escape(expiring['on'])}</strong> unless you "
            "earn, redeem or spend points before then.</p>"
        )
    parts.append("</body></html>\n")
    return "\n".join(parts)
