"""The one place that turns exceptions into HTTP answers with the error body of docs/design.md."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from partnerpoints.dal.storage_errors import STORAGE_FAILURES
from partnerpoints.exceptions import (
    AlreadyExists,
    ConcurrentChange,
    ConflictingEntry,
    IdempotencyKeyReused,
    InsufficientPoints,
    InvalidCursor,
    InvalidField,
    LedgerBusy,
    MalformedBody,
    NotASpend,
    NotFound,
    NotYourAccount,
    OrderBusy,
    OrderConflict,
    PartnerPointsError,
    PayloadTooLarge,
    PromoCodeOutsideWindow,
    PromoCodeUnavailable,
    PromoPointsRestricted,
    RequestInProgress,
    StorageUnavailable,
    TooManyFailedAttempts,
    Unauthenticated,
)
from partnerpoints.observability import logger

STATUS_BY_EXCEPTION: dict[type[PartnerPointsError], int] = {
    NotFound: 404,
    AlreadyExists: 409,
    InvalidField: 422,
    InvalidCursor: 400,
    NotYourAccount: 403,
    InsufficientPoints: 409,
    ConflictingEntry: 409,
    LedgerBusy: 503,
    Unauthenticated: 401,
    MalformedBody: 400,
    PayloadTooLarge: 413,
    OrderConflict: 409,
    OrderBusy: 503,
    ConcurrentChange: 409,
    NotASpend: 409,
    IdempotencyKeyReused: 409,
    RequestInProgress: 409,
    PromoCodeUnavailable: 409,
    PromoCodeOutsideWindow: 422,
    TooManyFailedAttempts: 429,
    PromoPointsRestricted: 409,
    StorageUnavailable: 503,
}
RETRY_AFTER_SECONDS = "1"

# The codes the handlers below give themselves, besides the domain exceptions' own.
INVALID_REQUEST = "invalid_request"
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
ROUTE_NOT_FOUND = "route_not_found"
INTERNAL_ERROR = "internal_error"


def _subclasses(kind: type[PartnerPointsError]) -> Iterator[type[PartnerPointsError]]:
    yield kind
    for sub in kind.__subclasses__():
        yield from _subclasses(sub)


def error_codes() -> list[str]:
    """Every code an error body can carry: the contract's enumeration."""
    codes = {INVALID_REQUEST, UNSUPPORTED_MEDIA_TYPE, ROUTE_NOT_FOUND, INTERNAL_ERROR}
    for kind in _subclasses(PartnerPointsError):
        if kind is not PartnerPointsError and kind.__module__ == PartnerPointsError.__module__:
            codes.update(kind.all_codes())
    return sorted(codes)


ERROR_CODES: list[JsonValue] = list(error_codes())


class ErrorInfo(BaseModel):
    model_config = ConfigDict(json_schema_extra={"additionalProperties": False})

    code: str = Field(
        description="stable, snake_case: what to branch on", json_schema_extra={"enum": ERROR_CODES}
    )
    message: str = Field(description="a sentence for people; may change")
    details: list[dict[str, Any]] = Field(
        description="structured specifics, e.g. {path, message} per invalid field"
    )


class ErrorBody(BaseModel):
    """Every error the program answers itself. (Refusals of the API gateway itself, before any function
    runs, carry `{"message": ...}` instead.)"""

    error: ErrorInfo


def answers(success: dict[int, str], *refusals: type[PartnerPointsError]) -> dict[int, OpenAPIResponse]:
    """A route's documented answers: its successes (body: the route's return type), the errors it
    raises, grouped by the status they answer with, and those every route can give."""
    documented: dict[int, OpenAPIResponse] = {
        status: {"description": description} for status, description in success.items()
    }
    by_status: dict[int, list[str]] = {422: [INVALID_REQUEST]}
    kinds: tuple[type[PartnerPointsError], ...] = (*refusals, StorageUnavailable)
    for kind in kinds:
        by_status.setdefault(status_of(kind) or 500, []).extend(kind.all_codes())
    by_status[500] = [INTERNAL_ERROR]
    for status, codes in sorted(by_status.items()):
        documented[status] = {
            "description": "error codes: " + ", ".join(dict.fromkeys(codes)),
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        }
    return documented


def status_of(error: PartnerPointsError | type[PartnerPointsError]) -> int | None:
    """The nearest class in the table decides (PartnerNotFound answers as NotFound does); None for an
    error nobody mapped, which a test forbids."""
    kind = error if isinstance(error, type) else type(error)
    return next((STATUS_BY_EXCEPTION[base] for base in kind.__mro__ if base in STATUS_BY_EXCEPTION), None)


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    retry_after: str | None = None,
) -> Response[dict[str, Any]]:
    """The error body; 429 and 503 say when to retry (by default in a second), and so does any other
    status given `retry_after` (a 409 request_in_progress)."""
    headers = {"Cache-Control": "no-store"}
    if retry_after is not None or status in (429, 503):
        headers["Retry-After"] = retry_after or RETRY_AFTER_SECONDS
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=ErrorBody(error=ErrorInfo(code=code, message=message, details=details or [])).model_dump(),
        headers=headers,
    )


def _validation_details(error: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"path": ".".join(str(part) for part in problem.get("loc", ())), "message": problem.get("msg", "")}
        for problem in error.errors()
    ]


def register_error_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response[dict[str, Any]]:
        details = _validation_details(error)
        logger.info("request rejected", reason="validation", problems=len(details))
        return error_response(422, INVALID_REQUEST, "the request has invalid fields", details)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_body(_: RequestUnsupportedContentType) -> Response[dict[str, Any]]:
        content_type = app.current_event.headers.get("content-type", "")
        logger.info("request rejected", reason="content type", content_type=content_type[:100])
        return error_response(
            415,
            UNSUPPORTED_MEDIA_TYPE,
            "send the body as application/json",
            [{"path": "headers.content-type", "message": f"{content_type[:100]!r} is not accepted here"}],
        )

    @app.exception_handler(PartnerPointsError)
    def _domain_error(error: PartnerPointsError) -> Response[dict[str, Any]]:
        status = status_of(error)
        if status is None:  # a new exception nobody mapped: a bug of ours, not the caller's
            logger.exception("unmapped domain error", code=error.code)
            return error_response(500, INTERNAL_ERROR, "something went wrong on our side; it has been logged")
        logger.info("request refused", code=error.code, status=status)
        retry_after = getattr(error, "retry_after_seconds", None)
        return error_response(
            status,
            error.code,
            error.message,
            error.details,
            None if retry_after is None else str(retry_after),
        )

    @app.exception_handler(list(STORAGE_FAILURES))
    def _storage_failed(_: Exception) -> Response[dict[str, Any]]:
        # AWS kept failing past the SDK's retries: the caller may retry; we keep the trace.
        logger.exception("storage failed")
        return error_response(503, "service_unavailable", "storage is not answering right now; retry shortly")

    @app.not_found
    def _no_route(_: Exception) -> Response[dict[str, Any]]:
        event = app.current_event
        return error_response(
            404, ROUTE_NOT_FOUND, f"no route for {event.request_context.http.method} {event.path}"
        )

    @app.exception_handler(ResponseValidationError)
    def _answer_off_contract(error: ResponseValidationError) -> Response[dict[str, Any]]:
        # Our answer does not match its documented model: our bug, never the caller's 422.
        logger.error("answer off its contract", problems=len(error.errors()))
        return error_response(500, INTERNAL_ERROR, "something went wrong on our side; it has been logged")

    @app.exception_handler(Exception)
    def _unexpected(_: Exception) -> Response[dict[str, Any]]:
        # Logged with its trace for us; the caller gets no internals.
        logger.exception("unexpected error")
        return error_response(500, INTERNAL_ERROR, "something went wrong on our side; it has been logged")
