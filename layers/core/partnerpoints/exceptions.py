"""Domain exceptions. The dal raises them; `partnerpoints.http_errors` alone turns them into HTTP answers."""

from __future__ import annotations

from typing import Any, ClassVar


class PartnerPointsError(Exception):
    """Base: a stable snake_case `code`, a sentence for humans, and optional structured details.

    A class may allow more precise codes than its own (`precise_codes`); they are the contract's
    enumerated error codes (docs/openapi.json), so an instance may only carry one of them."""

    code = "partnerpoints_error"
    precise_codes: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, message: str, details: list[dict[str, Any]] | None = None, *, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        if code is not None:
            if code not in self.all_codes():
                raise ValueError(f"{type(self).__name__} does not declare the code {code!r}")
            self.code = code

    @classmethod
    def all_codes(cls) -> tuple[str, ...]:
        return (cls.code, *cls.precise_codes)


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


class NotFound(PartnerPointsError):
    """A partner, link or other configured thing that does not exist."""

    code = "not_found"


class PartnerNotFound(NotFound):
    code = "partner_not_found"


class LinkNotFound(NotFound):
    code = "link_not_found"


class OrderNotFound(NotFound):
    code = "order_not_found"


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"


class WebhookEndpointNotFound(NotFound):
    """No such endpoint, or one of another owner (a partner cannot tell the difference)."""

    code = "webhook_endpoint_not_found"


class StatementNotFound(NotFound):
    code = "statement_not_found"


class PortalFileNotFound(NotFound):
    code = "portal_file_not_found"


class AnalysisNotFound(NotFound):
    """The nightly run has not analysed the partner yet."""

    code = "analysis_not_found"


class AlreadyExists(PartnerPointsError):
    """A create with an id that is taken."""

    code = "already_exists"


class InvalidField(PartnerPointsError):
    """A field that is well-formed but not acceptable (e.g. a destination off the partner's domains);
    answered like a validation error, with the field's path in the details."""

    code = "invalid_request"

    @classmethod
    def from_problems(cls, message: str, problems: list[Any], root: str = "body") -> InvalidField:
        """From pydantic's `errors()`: each problem's location becomes a dotted path under `root`."""
        return cls(
            message,
            [
                {
                    "path": ".".join([root, *(str(part) for part in problem.get("loc", ()))]),
                    "message": problem.get("msg", ""),
                }
                for problem in problems
            ],
        )


class StorageUnavailable(PartnerPointsError):
    """DynamoDB or Secrets Manager did not answer after the SDK's retries; the caller may retry."""

    code = "service_unavailable"


class Unauthenticated(PartnerPointsError):
    """A postback whose signature, token or source address does not hold; nothing is written."""

    code = "unauthenticated"
    precise_codes: ClassVar[tuple[str, ...]] = (
        "invalid_signature",
        "invalid_token",
        "no_active_secret",
        "signed_postbacks_only",
        "source_ip_not_allowed",
    )


class ApiKeyRefused(Unauthenticated):
    """A partner API key that is missing, unknown, revoked or expired: the reporting routes answer 401."""

    code = "invalid_api_key"
    precise_codes: ClassVar[tuple[str, ...]] = ("api_key_missing", "api_key_revoked", "api_key_expired")


class PayloadTooLarge(PartnerPointsError):
    code = "payload_too_large"


class MalformedBody(PartnerPointsError):
    """A body that is not the JSON it should be (checked only once its signature holds)."""

    code = "malformed_json"


class OrderConflict(PartnerPointsError):
    """A delivery the order's state machine cannot take: an impossible transition, other amounts for
    the same state, a webhook-id reused for another body."""

    code = "order_conflict"
    precise_codes = (
        "impossible_transition",
        "amounts_differ",
        "too_many_changes",
        "not_awaiting_decision",
        "delivery_id_reused",
    )


class OrderBusy(PartnerPointsError):
    """Concurrent deliveries kept changing one order; the partner's retry will succeed."""

    code = "order_busy"


class ConcurrentChange(PartnerPointsError):
    """Someone else changed the same thing between our read and our write; read again and retry."""

    code = "concurrent_change"


class SpendNotFound(NotFound):
    code = "spend_not_found"


class NotASpend(PartnerPointsError):
    """A refund asked for an entry that is not a spend."""

    code = "not_a_spend"


class IdempotencyKeyReused(PartnerPointsError):
    """The same Idempotency-Key came with another request body."""

    code = "idempotency_key_reused"


class RequestInProgress(PartnerPointsError):
    """A request with the same Idempotency-Key is still being processed (or its attempt failed and its
    claim has not expired yet); retry after `retry_after_seconds`."""

    code = "request_in_progress"
    retry_after_seconds = 1


class CampaignNotFound(NotFound):
    code = "campaign_not_found"


class CodeBatchNotFound(NotFound):
    code = "code_batch_not_found"


class RedemptionNotFound(NotFound):
    code = "redemption_not_found"


class PromoCodeNotFound(NotFound):
    code = "promo_code_not_found"


class PromoCodeUnavailable(PartnerPointsError):
    """A code that exists but cannot be redeemed now; `code` says why: promo_code_exhausted,
    promo_code_already_redeemed (the member's limit) or campaign_paused (409)."""

    code = "promo_code_unavailable"
    precise_codes = ("promo_code_exhausted", "promo_code_already_redeemed", "campaign_paused")


class PromoCodeOutsideWindow(PartnerPointsError):
    """promo_code_expired or promo_code_not_yet_valid (422)."""

    code = "promo_code_outside_window"
    precise_codes = ("promo_code_expired", "promo_code_not_yet_valid")


class TooManyFailedAttempts(PartnerPointsError):
    """A member who failed too many redemptions lately; no code is looked up until `retry_after`."""

    code = "too_many_failed_attempts"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message, [{"retry_after_seconds": retry_after_seconds}])
        self.retry_after_seconds = retry_after_seconds


class PromoPointsRestricted(PartnerPointsError):
    """Promo points that exist but whose campaigns do not allow spending them at this partner."""

    code = "promo_points_restricted"
