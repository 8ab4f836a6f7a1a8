"""Order postbacks: authenticate the delivery, validate it, and record it exactly once.

Signed deliveries (POST) are verified with the `standardwebhooks` package over the exact body bytes,
against every active secret of the partner, before the body is parsed. Unsigned ones (GET, for
platforms that can only fire a URL) carry a token. A delivery already answered (same webhook-id) gets
its first answer back; a delivery the order has already taken in (same state, same amounts, or a
state it has moved past) is acknowledged as a duplicate; neither writes anything.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from partnerpoints.dal.order_store import OrderStore, SaveOutcome
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.dal.transactions import MAX_ATTEMPTS
from partnerpoints.exceptions import (
    InvalidField,
    MalformedBody,
    OrderBusy,
    OrderConflict,
    PartnerNotFound,
    PayloadTooLarge,
    Unauthenticated,
)
from partnerpoints.logic import order_lifecycle
from partnerpoints.logic.order_lifecycle import Verdict
from partnerpoints.logic.postback_credentials import active_secrets, token_matches
from partnerpoints.models.currencies import MINOR_UNITS
from partnerpoints.models.orders import (
    Line,
    Order,
    OrderChange,
    OrderPostback,
    OrderStatus,
    PartnerCredentials,
    PostbackAnswer,
    Receipt,
    StoredDelivery,
    decimals_of,
    stamp_span,
    to_minor_units,
)
from partnerpoints.models.partners import Partner
from partnerpoints.observability import logger
from partnerpoints.settings import Settings, get_settings

MAX_BODY_BYTES = 64 * 1024
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
WEBHOOK_ID = re.compile(r"^[\x21-\x7e]{1,256}$")
PARTNER_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
CLICK_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")  # a ULID, as the click function issues them
VELOCITY_WINDOW = timedelta(hours=1)
# The GET form's fields: everything but items, which a URL macro cannot carry.
QUERY_FIELDS = ("order_id", "click_id", "status", "amount", "currency", "refunded_amount", "occurred_at")


@dataclass(frozen=True)
class SignedDelivery:
    partner_id: str
    body: bytes
    headers: Mapping[str, str]  # lower-case names, as API Gateway's HTTP API passes them
    source_ip: str


@dataclass(frozen=True)
class UnsignedDelivery:
    partner_id: str
    query: Mapping[str, str]
    source_ip: str
    request_id: str


def _refused(message: str, code: str, path: str | None = None) -> Unauthenticated:
    details = [{"path": path, "message": message}] if path else []
    return Unauthenticated(message, details, code=code)


_TIMESTAMP_FAILURES = {
    "Message timestamp too old": "webhook-timestamp is more than 5 minutes in the past",
    "Message timestamp too new": "webhook-timestamp is more than 5 minutes in the future",
    "Invalid Signature Headers": "webhook-timestamp is not a Unix time in seconds",
}


def verify_signature(secrets: list[str], body: bytes, headers: Mapping[str, str]) -> str:
    """The delivery's webhook-id once one of the secrets signed exactly these bytes, else 401."""
    for name in SIGNATURE_HEADERS:
        if not headers.get(name):
            raise _refused(f"the {name} header is missing", "invalid_signature", f"headers.{name}")
    delivery_id = headers["webhook-id"]
    if not WEBHOOK_ID.match(delivery_id):
        raise _refused(
            "webhook-id must be 1 to 256 printable characters", "invalid_signature", "headers.webhook-id"
        )
    if not secrets:
        raise _refused(
            "the partner has no active webhook secret; ask the operator to rotate it", "no_active_secret"
        )
    failure = "no signature matches an active secret of the partner"
    signed = {name: headers[name] for name in SIGNATURE_HEADERS}
    for secret in secrets:
        try:
            Webhook(secret).verify(body, signed, json_parse=False)
        except WebhookVerificationError as error:
            failure = _TIMESTAMP_FAILURES.get(str(error), failure)
            if str(error) in _TIMESTAMP_FAILURES:
                break  # the same for every secret
        except ValueError:  # a malformed signature list or base64, or a body that is not UTF-8
            failure = "the webhook-signature header or the body cannot be checked (v1,<base64> over UTF-8)"
            break
        else:
            return delivery_id
    raise _refused(failure, "invalid_signature", "headers.webhook-signature")


def _problems(
    partner: Partner, postback: OrderPostback, now: datetime, tolerance: timedelta
) -> list[dict[str, str]]:
    """What pydantic cannot see field by field: decimals against the currency, sums, time."""
    problems = []
    currency = postback.currency
    if currency != partner.currency:
        problems.append(
            {"path": "body.currency", "message": f"the partner reports orders in {partner.currency}"}
        )
    exponent = MINOR_UNITS[currency]
    texts = [("body.amount", postback.amount), ("body.refunded_amount", postback.refunded_amount)]
    texts += [(f"body.items.{index}.amount", line.amount) for index, line in enumerate(postback.items)]
    too_precise = [
        {"path": path, "message": f"{currency} has {exponent} decimals; got {text}"}
        for path, text in texts
        if text is not None and decimals_of(text) > exponent
    ]
    if too_precise:
        return problems + too_precise
    amount = to_minor_units(postback.amount, currency)
    refunded = to_minor_units(postback.refunded_amount, currency) if postback.refunded_amount else 0
    if postback.status is OrderStatus.REFUNDED:
        if postback.refunded_amount is not None and refunded == 0:
            problems.append({"path": "body.refunded_amount", "message": "a refund must refund something"})
    elif refunded:
        problems.append(
            {
                "path": "body.refunded_amount",
                "message": f"only a refunded order has one, not {postback.status}",
            }
        )
    if refunded > amount:
        problems.append({"path": "body.refunded_amount", "message": "cannot exceed amount"})
    if sum(to_minor_units(line.amount, currency) for line in postback.items) > amount:
        problems.append({"path": "body.items", "message": "the items' amounts add up to more than amount"})
    earliest, _ = stamp_span(postback.occurred_at, postback.occurred_precision)
    if earliest > now + tolerance:
        problems.append(
            {
                "path": "body.occurred_at",
                "message": f"more than {int(tolerance.total_seconds())} seconds in the future",
            }
        )
    return problems


def _answer(order: Order, duplicate: bool = False) -> PostbackAnswer:
    return PostbackAnswer(
        order_id=order.order_id,
        status=order.status,
        referred=order.attribution.referred,
        earns_points=order.attribution.earns_points,
        attributed=order.attribution.attributed,
        member_id=order.attribution.member_id,
        reason=order.attribution.reason if not order.attribution.attributed else None,
        in_review=order.review is not None and order.review.decision is None,
        version=order.version,
        duplicate=duplicate,
    )


class PostbackDesk:
    def __init__(
        self,
        partners: PartnerStore,
        orders: OrderStore,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._partners = partners
        self._orders = orders
        self._settings = settings
        self._clock = clock
        self._tolerance = timedelta(seconds=settings.clock_tolerance_seconds)

    def receive_signed(self, delivery: SignedDelivery) -> Receipt:
        if len(delivery.body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(
                f"the body is {len(delivery.body)} bytes; postbacks are at most {MAX_BODY_BYTES}"
            )
        partner, credentials = self._partner(delivery.partner_id, delivery.source_ip)
        now = self._clock()
        delivery_id = verify_signature(active_secrets(credentials, now), delivery.body, delivery.headers)
        try:
            data = json.loads(delivery.body)
        except ValueError as error:
            raise MalformedBody(f"the body is not JSON: {error}") from error
        if not isinstance(data, dict):
            raise InvalidField(
                "the body must be a JSON object", [{"path": "body", "message": "not an object"}]
            )
        postback = self._validate(data)
        digest = hashlib.sha256(delivery.body).hexdigest()
        return self._record(
            partner, self._change(partner, postback, delivery_id, digest, signed=True, now=now)
        )

    def receive_unsigned(self, delivery: UnsignedDelivery) -> Receipt:
        partner, credentials = self._partner(delivery.partner_id, delivery.source_ip)
        if partner.signed_postbacks_only:
            raise _refused("this partner accepts signed postbacks only (POST)", "signed_postbacks_only")
        now = self._clock()
        token = delivery.query.get("token", "")
        if not token:
            raise _refused("the token query parameter is missing", "invalid_token", "query.token")
        if not token_matches(credentials, token, now):
            raise _refused(
                "the token is not an active postback token of the partner", "invalid_token", "query.token"
            )
        fields = {name: delivery.query[name] for name in QUERY_FIELDS if delivery.query.get(name)}
        fields.setdefault("occurred_at", now.isoformat())
        postback = self._validate(fields, root="query")
        digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
        delivery_id = f"get:{delivery.request_id}"
        return self._record(
            partner, self._change(partner, postback, delivery_id, digest, signed=False, now=now)
        )

    def _partner(self, partner_id: str, source_ip: str) -> tuple[Partner, PartnerCredentials]:
        if not PARTNER_ID.match(partner_id):
            raise PartnerNotFound(f"no partner {partner_id[:64]}")
        partner = self._partners.get_partner(partner_id)
        if partner.postback_ip_allowlist and not any(
            ipaddress.ip_address(source_ip) in network for network in partner.postback_ip_allowlist
        ):
            logger.info("postback refused", partner_id=partner_id, reason="source_ip_not_allowed")
            raise _refused(
                "postbacks from this address are not accepted for the partner", "source_ip_not_allowed"
            )
        credentials = self._partners.get_credentials(partner_id) or PartnerCredentials(partner_id=partner_id)
        return partner, credentials

    @staticmethod
    def _validate(data: Mapping[str, object], root: str = "body") -> OrderPostback:
        try:
            return OrderPostback.model_validate(data)
        except ValidationError as error:
            raise InvalidField.from_problems(
                "the postback has invalid fields", error.errors(), root
            ) from error

    def _change(
        self,
        partner: Partner,
        postback: OrderPostback,
        delivery_id: str,
        digest: str,
        *,
        signed: bool,
        now: datetime,
    ) -> OrderChange:
        problems = _problems(partner, postback, now, self._tolerance)
        if problems:
            raise InvalidField("the postback has invalid fields", problems)
        currency = postback.currency
        amount = to_minor_units(postback.amount, currency)
        refunded = to_minor_units(postback.refunded_amount, currency) if postback.refunded_amount else 0
        if postback.status is OrderStatus.REFUNDED and postback.refunded_amount is None:
            refunded = amount  # a refund that says no more is a full one
        return OrderChange(
            partner_id=partner.partner_id,
            order_id=postback.order_id,
            click_id=postback.click_id,
            status=postback.status,
            currency=currency,
            amount_minor=amount,
            refunded_minor=refunded,
            occurred_at=postback.occurred_at.astimezone(UTC),
            occurred_precision=postback.occurred_precision,
            items=tuple(
                Line(
                    sku=line.sku,
                    category=line.category,
                    amount_minor=to_minor_units(line.amount, currency),
                    quantity=line.quantity,
                )
                for line in postback.items
            ),
            delivery_id=delivery_id,
            received_at=now,
            body_sha256=digest,
            signed=signed,
        )

    def _record(self, partner: Partner, change: OrderChange) -> Receipt:
        for _ in range(MAX_ATTEMPTS):
            if change.signed:
                seen = self._orders.get_delivery(partner.partner_id, change.delivery_id)
                if seen is not None:
                    return self._replay(seen, change)
            order = self._orders.get_order(partner.partner_id, change.order_id)
            verdict = order_lifecycle.decide(order, change)
            if order is not None and verdict is Verdict.DUPLICATE:
                logger.info(
                    "postback duplicate",
                    partner_id=partner.partner_id,
                    order_id=change.order_id,
                    status=change.status,
                )
                return Receipt(200, _answer(order, duplicate=True))
            if order is None:
                updated = self._new_order(partner, change)
            else:
                updated = order_lifecycle.apply(partner, order, change)
            answer = _answer(updated)
            outcome = self._orders.save(
                updated,
                expected_version=order.version if order else None,
                delivery=StoredDelivery(change.body_sha256, answer) if change.signed else None,
                delivery_id=change.delivery_id,
            )
            if outcome is SaveOutcome.SAVED:
                logger.info(
                    "order changed",
                    partner_id=partner.partner_id,
                    order_id=change.order_id,
                    status=updated.status,
                    version=updated.version,
                    attributed=updated.attribution.attributed,
                    in_review=answer.in_review,
                )
                return Receipt(202, answer)
            # Another delivery got there first: read again and decide afresh.
        raise OrderBusy(f"order {change.order_id} kept changing under this delivery; retry later")

    @staticmethod
    def _replay(seen: StoredDelivery, change: OrderChange) -> Receipt:
        if seen.body_sha256 != change.body_sha256:
            raise OrderConflict(
                f"webhook-id {change.delivery_id} was accepted with another body",
                [{"path": "headers.webhook-id", "message": "a webhook-id names one message; use a new one"}],
                code="delivery_id_reused",
            )
        logger.info("postback replayed", partner_id=change.partner_id, delivery_id=change.delivery_id)
        return Receipt(200, seen.answer.model_copy(update={"duplicate": True}))

    def _new_order(self, partner: Partner, change: OrderChange) -> Order:
        click_id = change.click_id
        click = self._orders.get_click(click_id) if click_id and CLICK_ID.match(click_id) else None
        attribution = order_lifecycle.attribute(
            partner, click_id, click, change.occurred_at, change.occurred_precision, tolerance=self._tolerance
        )
        recent = 0
        if attribution.member_id is not None:
            recent = self._orders.count_member_orders(
                attribution.member_id, change.occurred_at - VELOCITY_WINDOW, change.occurred_at
            )
        reasons = order_lifecycle.review_reasons(
            partner, attribution, change, recent, self._settings.max_orders_per_hour
        )
        return order_lifecycle.create(partner, change, attribution, reasons)


@cache
def get_postback_desk() -> PostbackDesk:
    settings = get_settings()
    return PostbackDesk(PartnerStore(settings), OrderStore(settings), settings)
