"""A member redeems a promo code into the promo account: at most as often as the code, the campaign and
the member's limit allow under any concurrency, and never more than ten failed guesses an hour."""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache, partial

from partnerpoints.dal.ledger_store import LedgerStore
from partnerpoints.dal.promo_redemption_store import PromoRedemptionStore
from partnerpoints.dal.promo_store import PromoStore
from partnerpoints.dal.transactions import MAX_ATTEMPTS, back_off
from partnerpoints.exceptions import (
    LedgerBusy,
    PartnerPointsError,
    PromoCodeNotFound,
    PromoCodeOutsideWindow,
    PromoCodeUnavailable,
    TooManyFailedAttempts,
)
from partnerpoints.logic.promo_codes import normalize_code
from partnerpoints.models.ledger import Account, EntryKind, Posting
from partnerpoints.models.members import AccountBalance
from partnerpoints.models.promo import Campaign, CampaignStatus, PromoCode, Redemption, RedemptionReceipt
from partnerpoints.observability import logger, metrics
from partnerpoints.settings import get_settings

FAILURE_LIMIT = 10  # failed attempts a member may make in FAILURE_WINDOW; the next one is refused
FAILURE_WINDOW = timedelta(hours=1)
_REFUSALS = (PromoCodeNotFound, PromoCodeUnavailable, PromoCodeOutsideWindow)


class AttemptGuard:
    """A sliding window of failed attempts per member. Every attempt reserves a place first (a
    conditional write on the member's record), so fifty parallel guesses cannot all slip past the
    limit; a successful attempt gives its place back."""

    def __init__(self, store: PromoRedemptionStore, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    def reserve(self, member_id: str) -> str:
        window = FAILURE_WINDOW.total_seconds()
        for attempt in range(MAX_ATTEMPTS):
            now = self._clock().timestamp()
            recorded, version = self._store.recent_failures(member_id)
            recent = {key: moment for key, moment in recorded.items() if moment > now - window}
            if len(recent) >= FAILURE_LIMIT:
                # Free again once all but FAILURE_LIMIT - 1 of them have left the window.
                moments = sorted(recent.values())
                free_at = moments[len(moments) - FAILURE_LIMIT] + window
                retry_after = max(1, math.ceil(free_at - now))
                logger.warning("promo attempts refused", member_id=member_id, retry_after=retry_after)
                metrics.add_metric(name="PromoAttemptsThrottled", unit="Count", value=1)
                raise TooManyFailedAttempts(
                    f"too many promo codes that did not work in the last hour; try again in {retry_after} s",
                    retry_after,
                )
            attempt_id = secrets.token_hex(6)
            recent[attempt_id] = now
            expires_at = datetime.fromtimestamp(now + window, UTC)
            if self._store.record_attempts(member_id, recent, version, expires_at):
                return attempt_id
            back_off(attempt)
        raise LedgerBusy("too many redemption attempts at once; retry shortly")

    def succeeded(self, member_id: str, attempt_id: str) -> None:
        self._store.forget_attempt(member_id, attempt_id)


def _unavailable(code: str, message: str) -> PromoCodeUnavailable:
    return PromoCodeUnavailable(message, code=code)


def refusal(
    campaign: Campaign,
    code: PromoCode,
    now: datetime,
    member_at_limit: Callable[[], bool],
    *,
    always_ask_member: bool = False,
) -> PartnerPointsError | None:
    """Why this code cannot be redeemed now, in the order a member is best told; None if it can.
    `member_at_limit` (it may cost a read) is asked when a use-up is the answer, since "you redeemed
    it already" tells the member more, or always when the member's limit is known to have failed."""
    if campaign.status is CampaignStatus.PAUSED:
        return _unavailable("campaign_paused", f"the campaign of code {code.code} is paused")
    if now < campaign.valid_from:
        return PromoCodeOutsideWindow(
            f"code {code.code} is valid from {campaign.valid_from.isoformat()}",
            [{"valid_from": campaign.valid_from.isoformat()}],
            code="promo_code_not_yet_valid",
        )
    if now >= campaign.valid_until:
        return PromoCodeOutsideWindow(
            f"code {code.code} expired at {campaign.valid_until.isoformat()}",
            [{"valid_until": campaign.valid_until.isoformat()}],
            code="promo_code_expired",
        )
    code_used_up = code.max_redemptions is not None and code.redemptions >= code.max_redemptions
    campaign_used_up = (
        campaign.max_redemptions_total is not None and campaign.redemptions >= campaign.max_redemptions_total
    )
    if (always_ask_member or code_used_up or campaign_used_up) and member_at_limit():
        return _unavailable(
            "promo_code_already_redeemed",
            f"you have already redeemed this campaign's code {campaign.per_member_limit} time(s), its limit",
        )
    if code_used_up or campaign_used_up:
        what = (
            "has been used up" if code_used_up else "belongs to a campaign that has given all its redemptions"
        )
        return _unavailable("promo_code_exhausted", f"code {code.code} {what}")
    return None


class PromoRedemptions:
    def __init__(
        self,
        promo: PromoStore,
        redemptions: PromoRedemptionStore,
        ledger: LedgerStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._promo = promo
        self._store = redemptions
        self._ledger = ledger
        self._clock = clock
        self._guard = AttemptGuard(redemptions, clock)

    def redeem(self, member_id: str, typed_code: str) -> RedemptionReceipt:
        attempt_id = self._guard.reserve(member_id)
        try:
            receipt = self._redeem(member_id, typed_code)
        except _REFUSALS as refused:
            # The reservation stays: it is now one of the member's failed attempts.
            logger.info("promo code refused", member_id=member_id, code=refused.code)
            metrics.add_metric(name="PromoRedemptionsRefused", unit="Count", value=1)
            raise
        except Exception:
            self._guard.succeeded(member_id, attempt_id)  # our failure, not the member's
            raise
        self._guard.succeeded(member_id, attempt_id)
        return receipt

    def _redeem(self, member_id: str, typed_code: str) -> RedemptionReceipt:
        key = normalize_code(typed_code)
        code = self._promo.get_code(key) if key.isalnum() and key.isascii() and len(key) <= 40 else None
        if code is None:
            raise PromoCodeNotFound(f"there is no promo code {key or typed_code.strip()!r}")
        for attempt in range(MAX_ATTEMPTS):
            campaign = self._promo.get_campaign(code.campaign_id)
            now = self._clock()
            # The transaction's conditions are the truth; this only saves it when the answer is plain.
            problem = refusal(campaign, code, now, partial(self._member_at_limit, member_id, campaign))
            if problem is not None:
                raise problem
            redemption_id = f"rdm-{secrets.token_hex(8)}"
            posting = Posting(
                entry_id=f"promo#{redemption_id}",
                member_id=member_id,
                account=Account.PROMO,
                kind=EntryKind.PROMO_CREDIT,
                points=campaign.points,
                reference=code.code,
                description=f"promo code {code.code}: {campaign.name}",
                allocations={campaign.campaign_id: campaign.points},
            )
            redemption = Redemption(
                redemption_id=redemption_id,
                member_id=member_id,
                campaign_id=campaign.campaign_id,
                code=code.code,
                points=campaign.points,
                entry_id=posting.entry_id,
                redeemed_at=now,
            )
            refused = self._store.redeem(key, code, campaign, redemption, posting)
            if refused is None:
                return self._receipt(redemption)
            fresh_code = self._promo.get_code(key) or code
            fresh = self._promo.get_campaign(code.campaign_id)
            problem = refusal(
                fresh, fresh_code, now, partial(bool, refused.holding), always_ask_member=refused.holding
            )
            if problem is not None:
                raise problem
            code = fresh_code
            back_off(attempt)  # the terms changed under us, or a use was given back: try again
        raise LedgerBusy(f"code {code.code} kept changing; retry shortly")

    def _member_at_limit(self, member_id: str, campaign: Campaign) -> bool:
        holding = self._store.holding(member_id, campaign.campaign_id)
        return holding is not None and holding.redemptions >= campaign.per_member_limit

    def _receipt(self, redemption: Redemption) -> RedemptionReceipt:
        balance = self._ledger.get_balances(redemption.member_id)[Account.PROMO]
        logger.info(
            "promo code redeemed",
            member_id=redemption.member_id,
            redemption_id=redemption.redemption_id,
            campaign_id=redemption.campaign_id,
            points=redemption.points,
        )
        metrics.add_metric(name="PromoRedemptions", unit="Count", value=1)
        return RedemptionReceipt(
            redemption_id=redemption.redemption_id,
            code=redemption.code,
            campaign_id=redemption.campaign_id,
            points=redemption.points,
            balance=AccountBalance.of(balance),
        )


@cache
def get_promo_redemptions() -> PromoRedemptions:
    settings = get_settings()
    return PromoRedemptions(PromoStore(settings), PromoRedemptionStore(settings), LedgerStore(settings))
