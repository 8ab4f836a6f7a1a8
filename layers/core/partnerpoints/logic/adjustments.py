"""Manual adjustments: an operator's credit or debit, posted once per adjustment id."""

from __future__ import annotations

from partnerpoints.exceptions import InvalidField
from partnerpoints.logic.ledger import Ledger
from partnerpoints.models.adjustments import AdjustmentRequest
from partnerpoints.models.ledger import Account, EntryKind, Posting, PostResult
from partnerpoints.observability import logger


def adjust_account(ledger: Ledger, member_id: str, request: AdjustmentRequest, operator: str) -> PostResult:
    """Post the adjustment; a debit may not take available points below zero. The operator is recorded
    in the entry's description, so the append-only ledger says who moved the points."""
    if request.account is Account.PROMO:
        # Promo points are held per campaign (where they may be spent); only a campaign gives them.
        raise InvalidField(
            "promo points come from promo campaigns: create a campaign and a code instead",
            [{"path": "body.account", "message": "adjustments apply to the main account"}],
        )
    entry_id = f"adjustment#{request.adjustment_id}"
    posting = Posting(
        entry_id=entry_id,
        member_id=member_id,
        account=request.account,
        kind=EntryKind.ADJUSTMENT,
        points=request.points,
        reference=entry_id,
        description=request.reason,
        operator=operator,
    )
    result = ledger.post(posting)
    logger.info(
        "adjustment posted",
        entry_id=entry_id,
        member_id=member_id,
        points=request.points,
        operator=operator,
        duplicate=result.duplicate,
    )
    return result
