"""A partner's orders of a range of days as one CSV document (GET /partner/exports/orders.csv): the
same rows as /partner/orders, the latest change first, read page by page from the partner_orders
index. A range is at most EXPORT_MAX_ORDERS orders, so the document stays well inside a Lambda answer
(6 MB); a busier range is refused with the parameter to narrow named."""

from __future__ import annotations

import csv
import io

from partnerpoints.models.partner_reports import PartnerOrder

EXPORT_MAX_ORDERS = 10_000
EXPORT_PAGE = 500
COLUMNS = tuple(PartnerOrder.model_fields)
# Text a partner chose (order ids) or the program wrote (reasons, link ids) that a spreadsheet would
# take for a formula is written with a leading apostrophe; numbers and times never start this way.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_TEXT_COLUMNS = frozenset({"order_id", "reason", "link_id"})


def _cell(column: str, value: object) -> object:
    if column in _TEXT_COLUMNS and isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def orders_csv(orders: list[PartnerOrder]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for order in orders:
        row = order.model_dump(mode="json")
        writer.writerow([_cell(column, row[column]) for column in COLUMNS])
    return out.getvalue()
