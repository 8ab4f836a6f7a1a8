"""Domain exceptions. The dal raises them; `partnerpoints.http_errors` alone turns them into HTTP answers."""

from __future__ import annotations

from typing import Any


class PartnerPointsError(Exception):
    """Base: a stable snake_case `code`, a sentence for humans, and optional structured details."""

    code = "partnerpoints_error"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class InsufficientPoints(PartnerPointsError):
    """A debit would take a guarded balance (available, or pending for releases and voids) below zero."""

    code = "insufficient_points"


class ConflictingEntry(PartnerPointsError):
    """An entry id already exists with different contents: a caller bug, never a silent success."""

    code = "conflicting_entry"


class InvalidCursor(PartnerPointsError):
    """A history cursor that this service did not issue for that account."""

    code = "invalid_cursor"


class LedgerBusy(PartnerPointsError):
    """Concurrent transactions kept colliding on one account; the caller may retry."""

    code = "ledger_busy"


class NotYourAccount(PartnerPointsError):
    """A member token asked for another member's accounts."""

    code = "forbidden"
