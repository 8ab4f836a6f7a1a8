"""`make demo`: start the local stack and play the program through its HTTP API and Lambda Invoke API.

The scenario grows with every feature. Today: an operator configures a partner and its tracking link
(an off-list destination refused); shoppers click it (a member's personal link, a repeat, a link
preview bot, a forged member token, a blocked referrer, bad and unknown links); the partner's platform
sends signed order postbacks for alice's click (placed, retried, approved, partly refunded; forged,
stale and impossible ones refused; an unsigned GET with its token; a large order held for review and
approved by the operator); the operator adjusts
member accounts over the IAM-authorized admin route (a retry, a refused debit and a malformed request
included); members read their balances and activity with their tokens (and are refused someone
else's); a function is invoked through the Lambda API with its event file; the nightly run closes the
day (statements and a reconciled manifest, then a re-run that must change no byte); and every balance
is reconciled with the sum of its activity.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import boto3
from botocore.credentials import Credentials

from partnerpoints.logic.ledger import fold_entries
from partnerpoints.models.ledger import Account, LedgerEntry
from partnerpoints_infra import faults, http_client
from partnerpoints_infra.http_client import Answer
from partnerpoints_infra.local.authorizers import create_token
from partnerpoints_infra.local.commands import fault_rate as parse_fault_rate
from partnerpoints_infra.local.commands import jwt_authorizers
from partnerpoints_infra.local.serve import RunningStack, ServeOptions, running_stack, stop_signals
from partnerpoints_infra.postback_signing import signature_headers
from partnerpoints_infra.template import PROJECT_ROOT, TEMPLATE_PATH, load_sam_template

OPERATOR = Credentials("AKIDDEMOOPERATOR", "demo-operator-secret")
MEMBERS = ("alice", "bob")
DEMO_DESTINATION = "https://www.shop-a.example/landing?cid={click_id}&s1={sub1}"
BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Safari/605.1.15"
)
PHONE = "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile"
CHAT_PREVIEW = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
ADJUSTMENTS = [
    # member, adjustment id, account, points, reason
    ("alice", "WELCOME-alice", "main", 1200, "welcome bonus for joining the program"),
    ("bob", "WELCOME-bob", "main", 800, "welcome bonus for joining the program"),
    ("alice", "PROMO-LAUNCH-alice", "promo", 250, "launch promotion"),
    ("alice", "WELCOME-alice", "main", 1200, "the operator's tool retried the welcome bonus"),
    ("bob", "CORR-77", "main", -300, "correction: duplicate goodwill credit"),
    ("bob", "CORR-78", "main", -5000, "a correction larger than bob's balance"),
]


CLIENT_RETRIES = 6
ASYNC_RETRIES = 2


def call(method: str, url: str, body: Any = None, **options: Any) -> Answer:
    """The demo's client retries a 503 (and a 429 asking for a short wait), as partners' platforms and
    the member app should; the answers it shows are the final ones."""
    return http_client.call(method, url, body, retries=CLIENT_RETRIES, **options)


class Progress:
    """One line per step with the time it took, so a slow step never looks like a hang."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._started = time.monotonic()

    def step(self, what: str) -> None:
        print(f"[{time.monotonic() - self._started:5.1f}s] {what} ...", file=self._out, flush=True)


def _log_printer(path: Path) -> Any:
    path.parent.mkdir(parents=True, exist_ok=True)
    log = path.open("w", encoding="utf-8")

    def printer(name: str, line: str) -> None:
        log.write(f"{name:<24}| {line}\n")
        log.flush()

    return printer


class Scenario:
    def __init__(self, running: RunningStack, out: TextIO) -> None:
        self.base = running.http_url
        self.lambda_url = running.lambda_url
        self.out = out
        self.answers: Counter[str] = Counter()
        self.adjustments: Counter[str] = Counter()
        self.configured: Counter[str] = Counter()
        self.postbacks: Counter[str] = Counter()
        self.alice_click_id = ""
        self.released = 0
        self.failed_runs = 0  # nightly runs that failed and were run again
        self.points_seen = True
        self.promo: Counter[str] = Counter()
        self.batch_codes: list[str] = []
        self.webhook_secret = self.postback_token = ""
        self.statements: dict[str, Any] = {}
        self.partner_statements = 0
        self.partner_key = ""  # shop-a's API key, once the operator issued it
        self.summary_matches_statement = False
        authorizer = jwt_authorizers(TEMPLATE_PATH)["MemberAuthorizer"]
        self.tokens = {member: create_token(authorizer, member, []) for member in MEMBERS}

    def show(self, request: str, answer: Answer, note: str = "") -> None:
        self.answers[str(answer.status)] += 1
        if not note and answer.status >= 400:
            # The API's own error code (the body docs/design.md describes); the gateway's carry a message.
            body = answer.json()
            note = body["error"]["code"] if "error" in body else body.get("message", "")
        print(f"  {request:<58} -> {answer.status} {note}", file=self.out)

    def as_member(self, member: str, path: str) -> Answer:
        return call("GET", f"{self.base}{path}", headers={"authorization": f"Bearer {self.tokens[member]}"})

    def _exists(self, path: str) -> bool:
        return call("GET", f"{self.base}{path}", sign_with=OPERATOR).status == 200

    def operator_configures(self) -> None:
        """A partner and its link through the admin API, as `partnerpoints admin` would send them."""
        partner = json.loads(
            json.loads((PROJECT_ROOT / "events/AdminApiFunction/post-partner.json").read_text())["body"]
        )
        # Orders over 500 EUR wait for the operator (fraud review). The demo's shopper buys within
        # seconds of clicking, which the default min_seconds_to_order (10) would hold for review too.
        partner.update(review_amount="500", min_seconds_to_order=0)
        answer = call("POST", f"{self.base}/admin/partners", partner, sign_with=OPERATOR)
        if answer.status != 201 and self._exists(f"/admin/partners/{partner['partner_id']}"):
            # The create landed but its answer did not reach us (under --faults: a 503 whose write had
            # landed, met by its retry as 409). The one-time secrets went with that answer, so the
            # operator rotates them, as docs/operations.md tells an operator to do.
            rotated = call(
                "POST",
                f"{self.base}/admin/partners/{partner['partner_id']}/rotate-secret?grace_hours=0",
                sign_with=OPERATOR,
            )
            self.show("POST rotate-secret (the create's answer was lost)", rotated)
            answer = Answer(201, rotated.headers, json.dumps({**partner, **rotated.json()}).encode())
        self.configured["partners"] += answer.status == 201
        if answer.status != 201:
            raise RuntimeError(
                f"creating partner {partner['partner_id']} answered {answer.status}: {answer.body!r}"
            )
        # Shown once, here; the partner's platform signs its postbacks with it.
        self.webhook_secret = answer.json()["webhook_secret"]
        self.postback_token = answer.json()["postback_token"]
        domains = ", ".join(answer.json()["allowed_domains"])
        self.show(
            f"POST partner {partner['partner_id']} ({partner['points_percent']}% back)", answer, domains
        )
        self.show(
            "POST the same partner again",
            call("POST", f"{self.base}/admin/partners", partner, sign_with=OPERATOR),
        )
        link = {"partner_id": "shop-a", "link_id": "shop-a-home", "destination": DEMO_DESTINATION}
        answer = call("POST", f"{self.base}/admin/links", link, sign_with=OPERATOR)
        self.configured["links"] += answer.status == 201
        self.show("POST link shop-a-home", answer, answer.json()["url"])
        off_list = {"partner_id": "shop-a", "destination": "https://shop-a.example.evil.test/?cid={click_id}"}
        answer = call("POST", f"{self.base}/admin/links", off_list, sign_with=OPERATOR)
        self.configured["refused destinations"] += answer.status == 422
        self.show("POST a link to shop-a.example.evil.test", answer, "refused: not an allowed domain")
        paused = {"destination": DEMO_DESTINATION, "status": "paused"}
        answer = call("PUT", f"{self.base}/admin/links/shop-a-home", paused, sign_with=OPERATOR)
        self.show("PUT link shop-a-home paused", answer, answer.json()["status"])
        resumed = {"destination": DEMO_DESTINATION, "status": "active"}
        answer = call("PUT", f"{self.base}/admin/links/shop-a-home", resumed, sign_with=OPERATOR)
        self.show("PUT link shop-a-home active again", answer, answer.json()["status"])

    def shoppers_click(self) -> None:
        """Shoppers follow the link as browsers would; every answer is what the shopper would get."""
        answer = call(
            "POST",
            f"{self.base}/admin/member-links",
            {"member_id": "alice", "link_id": "shop-a-home"},
            sign_with=OPERATOR,
        )
        alice_url = answer.json()["url"]
        self.show("POST member-link for alice", answer, alice_url.replace(self.base, ""))
        forged = alice_url.replace("m=alice.", "m=alice.X")
        clicks = [
            (
                "GET alice's link (browser, sub1=newsletter)",
                "GET",
                f"{alice_url}&sub1=newsletter",
                BROWSER,
                {},
            ),
            ("GET alice's link again within the minute", "GET", f"{alice_url}&sub1=newsletter", BROWSER, {}),
            (
                "HEAD the link (a chat app's link preview)",
                "HEAD",
                f"{self.base}/c/shop-a-home",
                CHAT_PREVIEW,
                {},
            ),
            ("GET with a forged member token", "GET", forged, PHONE, {}),
            (
                "GET from a blocked referrer",
                "GET",
                f"{self.base}/c/shop-a-home",
                PHONE,
                {"referer": "https://www.coupon-spam.example/shop-a"},
            ),
            (
                "GET with a 101-character sub1",
                "GET",
                f"{self.base}/c/shop-a-home?sub1={'x' * 101}",
                PHONE,
                {},
            ),
            ("GET an unknown link", "GET", f"{self.base}/c/no-such-link", PHONE, {}),
        ]
        for label, method, url, user_agent, headers in clicks:
            answer = call(method, url, headers={"user-agent": user_agent, **headers})
            note = answer.headers.get("Location") or answer.headers.get("Content-Type", "")
            self.show(label, answer, note if len(note) < 70 else note[:67] + "...")
            if not self.alice_click_id and "cid=" in note:
                self.alice_click_id = note.split("cid=")[1].split("&")[0]

    def postback(
        self, label: str, body: dict[str, Any], *, at: float = 0, tamper: bool = False, attempt: int = 1
    ) -> Answer:
        """A signed POST as the partner's platform sends it (`at`: seconds off the real clock). A retry
        keeps its webhook-id; `attempt` > 1 stands for a new message about the same state."""
        raw = json.dumps(body).encode()
        moment = datetime.now(UTC) + timedelta(seconds=at)
        message_id = f"msg_{body['order_id']}_{body['status']}_{attempt}"
        headers = signature_headers(self.webhook_secret, raw, message_id, moment)
        if tamper:
            raw = raw.replace(b'"84.90"', b'"849.00"')
        answer = call("POST", f"{self.base}/postbacks/shop-a", raw=raw, headers=headers)
        self.postbacks[{202: "accepted", 200: "duplicate"}.get(answer.status, "refused")] += 1
        body_ = answer.json()
        note = (
            body_["error"]["code"]
            if answer.status >= 400
            else (
                f"{body_['status']} v{body_['version']}"
                + (
                    f" {body_['member_id']}"
                    if body_.get("member_id")
                    else f" {'' if body_['referred'] else 'not '}referred, no points ({body_['reason']})"
                )
                + (" in review" if body_["in_review"] else "")
                + (" duplicate" if body_["duplicate"] else "")
            )
        )
        self.show(label, answer, note)
        return answer

    def partner_sends_postbacks(self) -> None:
        order = {
            "order_id": "A-1001",
            "click_id": self.alice_click_id,
            "status": "pending",
            "amount": "84.90",
            "currency": "EUR",
            "occurred_at": datetime.now(UTC).isoformat(),
            "items": [{"sku": "KB-7", "category": "electronics", "amount": "59.90", "quantity": 1}],
        }
        self.postback("POST order A-1001 pending (alice's click)", order)
        self.postback("POST the same delivery again (a retry)", order)
        self.postback("POST A-1001 with the amount changed after signing", order, tamper=True)
        self.postback("POST order A-1009 signed 6 minutes ago", {**order, "order_id": "A-1009"}, at=-360)
        self.wait_for_points("alice's balance after the pending order", lambda main: main["pending"] > 0)
        self.postback("POST A-1001 approved", {**order, "status": "approved"})
        self.release_after_hold()
        refund = {**order, "status": "refunded", "refunded_amount": "25.00"}
        self.postback("POST A-1001 refunded 25.00 of 84.90", refund)
        self.wait_for_points(
            "alice's balance after the partial refund", lambda main: main["available"] < self.released
        )
        self.postback("POST A-1001 rejected (after approval)", {**order, "status": "rejected"})
        self.postback("POST A-1001 pending again, late (a new message)", order, attempt=2)
        big = {**order, "order_id": "A-1002", "amount": "900.00", "items": []}
        self.postback("POST order A-1002 of 900.00 EUR", big)
        query = f"token={self.postback_token}&order_id=B-2001&status=pending&amount=19.99&currency=EUR"
        answer = call("GET", f"{self.base}/postbacks/shop-a?{query}")
        self.postbacks[{202: "accepted", 200: "duplicate"}.get(answer.status, "refused")] += 1
        self.show(
            "GET order B-2001 with the token, no click id",
            answer,
            f"referred {answer.json()['referred']}, earns points {answer.json()['earns_points']}"
            f" ({answer.json()['reason']})",
        )
        answer = call("GET", f"{self.base}/admin/orders?status=review", sign_with=OPERATOR)
        waiting = [f"{o['order_id']} ({', '.join(o['review']['reasons'])})" for o in answer.json()["orders"]]
        self.show("GET orders waiting for review", answer, "; ".join(waiting))
        decision = {"decision": "approve", "note": "corporate order, confirmed by phone"}
        answer = call("POST", f"{self.base}/admin/orders/shop-a/A-1002/review", decision, sign_with=OPERATOR)
        self.show("POST approve A-1002", answer, f"counts: {answer.json()['counts']}")
        self.wait_for_points("alice's balance after the approval", lambda main: main["pending"] > 0)

    def main_account(self, member: str) -> dict[str, int]:
        answer = self.as_member(member, f"/members/{member}/balance")
        main: dict[str, int] = answer.json()["accounts"]["main"]
        return main

    def wait_for_points(self, label: str, reached: Any, timeout: float = 15.0) -> None:
        """The accrual function reads the Orders stream: poll the member's balance until it shows."""
        started = time.monotonic()
        main = self.main_account("alice")
        while not reached(main) and time.monotonic() - started < timeout:
            time.sleep(0.2)
            main = self.main_account("alice")
        waited = time.monotonic() - started
        self.points_seen &= bool(reached(main))
        print(
            f"  {'GET ' + label:<58} -> pending {main['pending']}, available {main['available']}"
            f" (after {waited:.1f}s)",
            file=self.out,
        )

    def release_after_hold(self, timeout: float = 15.0) -> None:
        """`partnerpoints admin release --as-of` a day after the 30-day hold, once the approval is in."""
        as_of = (datetime.now(UTC) + timedelta(days=31)).isoformat()
        started = time.monotonic()
        while True:
            answer = call("POST", f"{self.base}/admin/releases", {"as_of": as_of}, sign_with=OPERATOR)
            report = answer.json()
            if report.get("points_released") or time.monotonic() - started > timeout:
                break
            time.sleep(0.2)
        self.released = int(report.get("points_released", 0))
        self.show(
            "POST /admin/releases as of 31 days from now",
            answer,
            f"{report.get('orders_released')} order, {self.released} points now available",
        )
        self.points_seen &= self.released > 0

    def stored_orders(self, running: RunningStack) -> Counter[str]:
        client = boto3.client(
            "dynamodb", endpoint_url=running.stack.endpoints.dynamodb, region_name="us-east-1"
        )
        items = client.scan(TableName=running.stack.table_name("OrdersTable"))["Items"]
        return Counter(item["status"]["S"] for item in items)

    def stored_clicks(self, running: RunningStack) -> Counter[str]:
        """What the click function stored, read straight from the local table for the summary."""
        client = boto3.client(
            "dynamodb", endpoint_url=running.stack.endpoints.dynamodb, region_name="us-east-1"
        )
        items = client.scan(TableName=running.stack.table_name("ClicksTable"))["Items"]
        counts: Counter[str] = Counter()
        for item in items:
            bot = item["bot"]["BOOL"]
            counts["total"] += int(item["clicks"]["N"])
            counts["unique"] += item["unique"]["BOOL"]
            counts["bot"] += int(item["clicks"]["N"]) if bot else 0
            counts["blocked"] += int(item["clicks"]["N"]) if item.get("blocked", {}).get("BOOL") else 0
            counts["members"] += "member_id" in item
        return counts

    def operator_adjusts(self) -> None:
        for member, adjustment_id, account, points, reason in ADJUSTMENTS:
            body = {"adjustment_id": adjustment_id, "account": account, "points": points, "reason": reason}
            answer = call("POST", f"{self.base}/admin/members/{member}/adjustments", body, sign_with=OPERATOR)
            outcome = {201: "posted", 200: "duplicate"}.get(answer.status, "refused")
            self.adjustments[outcome] += 1
            note = answer.json()["error"]["code"] if answer.status >= 400 else outcome
            self.show(f"POST adjustment {adjustment_id} {points:+} {account} for {member}", answer, note)
        answer = call(
            "POST",
            f"{self.base}/admin/members/alice/adjustments",
            {"adjustment_id": "bad id", "account": "savings", "points": "lots"},
            sign_with=OPERATOR,
        )
        self.adjustments["invalid"] += 1
        problems = ", ".join(detail["path"] for detail in answer.json()["error"]["details"])
        self.show("POST a malformed adjustment", answer, f"invalid: {problems}")

    def as_member_post(self, member: str, path: str, body: Any, key: str | None = None) -> Answer:
        headers = {"authorization": f"Bearer {self.tokens[member]}"}
        if key:
            headers["idempotency-key"] = key
        return call("POST", f"{self.base}{path}", body, headers=headers)

    def operator_runs_a_promotion(self, timeout: float = 30.0) -> None:
        """A campaign whose points may be spent only at shop-a, a shared code, and a batch of unique
        codes written by PromoCodeBatchFunction (invoked asynchronously through the Lambda API)."""
        partner = json.loads(
            json.loads((PROJECT_ROOT / "events/AdminApiFunction/post-partner.json").read_text())["body"]
        )
        partner.update(
            partner_id="shop-b",
            name="Shop B",
            allowed_domains=["shop-b.example"],
            fallback_url="https://www.shop-b.example/",
        )
        self.show(
            "POST partner shop-b", call("POST", f"{self.base}/admin/partners", partner, sign_with=OPERATOR)
        )
        now = datetime.now(UTC)
        campaign = {
            "campaign_id": "WINTER",
            "name": "Winter: 250 promo points at shop-a",
            "points": 250,
            "valid_from": (now - timedelta(hours=1)).isoformat(),
            "valid_until": (now + timedelta(days=90)).isoformat(),
            "partner_ids": ["shop-a"],
        }
        answer = call("POST", f"{self.base}/admin/promo-campaigns", campaign, sign_with=OPERATOR)
        self.show("POST promo campaign WINTER (shop-a only)", answer)
        shared = {"code": "WINTER25", "max_redemptions": 1000}
        path = f"{self.base}/admin/promo-campaigns/WINTER/codes"
        self.show("POST shared code WINTER25", call("POST", path, shared, sign_with=OPERATOR))
        answer = call("POST", path, {"count": 20, "prefix": "WIN"}, sign_with=OPERATOR)
        self.show("POST a batch of 20 unique codes", answer, answer.json().get("status", ""))
        batch_path = f"{self.base}/admin/promo-code-batches/{answer.json()['batch_id']}"
        deadline = time.monotonic() + timeout
        while call("GET", batch_path, sign_with=OPERATOR).json()["status"] != "complete":
            if time.monotonic() > deadline:
                self.promo["batch not finished"] += 1
                return
            time.sleep(0.2)
        codes = call("GET", f"{batch_path}/codes", sign_with=OPERATOR).json()["codes"]
        self.promo["codes generated"] = len(codes)
        self.show(
            "GET the batch's codes",
            call("GET", f"{batch_path}/codes", sign_with=OPERATOR),
            ", ".join(codes[:2]) + ", ...",
        )
        self.batch_codes = codes

    def members_redeem_and_spend(self) -> None:
        attempts = [
            ("alice", "winter 25", "typed loosely"),
            ("alice", "WINTER25", "again: once per member"),
            ("bob", self.batch_codes[0] if self.batch_codes else "NONE", "a unique code"),
            ("bob", self.batch_codes[0] if self.batch_codes else "NONE", "the same code again"),
        ]
        for member, code, why in attempts:
            answer = self.as_member_post(member, f"/members/{member}/promo-redemptions", {"code": code})
            self.promo["redeemed" if answer.status == 201 else "refused"] += 1
            note = f"promo balance {answer.json()['balance']['available']}" if answer.status == 201 else ""
            self.show(f"POST promo code {code!r} as {member} ({why})", answer, note)
        for partner, key in (("shop-b", "demo-promo-spend-b-1"), ("shop-a", "demo-promo-spend-a-1")):
            body = {"partner_id": partner, "points": 100, "account": "promo", "reference": "winter voucher"}
            answer = self.as_member_post("alice", "/members/alice/spend", body, key)
            self.promo[f"spend at {partner}: {answer.status}"] += 1
            note = f"promo left {answer.json()['balance']['available']}" if answer.status == 201 else ""
            self.show(f"POST spend 100 promo points at {partner} as alice", answer, note)
        for guess in range(11):
            answer = self.as_member_post(
                "bob", "/members/bob/promo-redemptions", {"code": f"GUESS-{guess:04d}"}
            )
        self.promo[f"11th guess: {answer.status}"] += 1
        self.show(
            "POST an 11th wrong code within the hour as bob",
            answer,
            f"Retry-After {answer.headers.get('retry-after')}",
        )

    def members_read(self) -> None:
        for member in MEMBERS:
            answer = self.as_member(member, f"/members/{member}/balance")
            main = answer.json()["accounts"]["main"]
            self.show(
                f"GET /members/{member}/balance as {member}",
                answer,
                f"{answer.json()['tier']}, main available {main['available']} pending {main['pending']}",
            )
        self.show("GET /members/bob/balance as alice", self.as_member("alice", "/members/bob/balance"))
        self.show(
            "GET /members/alice/balance without a token", call("GET", f"{self.base}/members/alice/balance")
        )
        self.show("GET /no/such/route", call("GET", f"{self.base}/no/such/route"))

    def invoke_health(self) -> None:
        client = boto3.client("lambda", endpoint_url=self.lambda_url, region_name="us-east-1")
        event = (PROJECT_ROOT / "events/HealthFunction/get-health.json").read_bytes()
        payload = json.loads(client.invoke(FunctionName="HealthFunction", Payload=event)["Payload"].read())
        print(
            f"  Lambda API: HealthFunction with events/HealthFunction/get-health.json -> {payload['body']}",
            file=self.out,
        )

    def statements_run(self, event: dict[str, Any]) -> dict[str, Any]:
        """Run the night as its schedule does: a failed run is retried (twice, as Lambda retries an
        asynchronous invocation), which a run allows because it is idempotent."""
        client = boto3.client("lambda", endpoint_url=self.lambda_url, region_name="us-east-1")
        for _ in range(1 + ASYNC_RETRIES):
            answer = client.invoke(FunctionName="StatementsFunction", Payload=json.dumps(event).encode())
            payload: dict[str, Any] = json.loads(answer["Payload"].read())
            if not answer.get("FunctionError"):
                return payload
            self.failed_runs += 1
        raise RuntimeError(f"StatementsFunction failed: {payload}")

    def counters_catch_up(self, clicks: Counter[str], timeout: float = 60.0) -> None:
        """The partner counters are written when a stream window closes (TumblingWindowInSeconds):
        wait until shop-a's counters hold every stored click and have not moved for a whole window,
        as the nightly run can count on in AWS (its schedule is long after the day's last window)."""
        today = datetime.now(UTC).date().isoformat()
        url = f"{self.base}/admin/partners/shop-a/summary?from={today}&to={today}"
        started = last_change = time.monotonic()
        seen: Any = None
        while time.monotonic() - started < timeout:
            totals = call("GET", url, sign_with=OPERATOR).json().get("totals")
            if totals != seen:
                seen, last_change = totals, time.monotonic()
            counted = (seen or {}).get("clicks", {}).get("total")
            if counted == clicks["total"] and time.monotonic() - last_change > _counter_window_seconds() + 1:
                print(f"  the partner counters hold the day ({counted} clicks)", file=self.out)
                return
            time.sleep(0.5)
        raise RuntimeError(f"the partner counters did not catch up in {timeout} s: {seen}")

    def close_the_day(self, running: RunningStack, timeout: float = 60.0) -> None:
        """The nightly run, for today (provisionally): shards through the queue, then the manifest; run
        again, every object must come back byte for byte."""
        today = datetime.now(UTC).date().isoformat()
        first: dict[str, bytes] = {}
        for attempt in ("run", "re-run"):
            queued = self.statements_run({"date": today})
            started = time.monotonic()
            status = self.statements_run({"action": "status", "period": today})
            while status["manifest"] is None or status["shards_done"] < status["shards"]:
                if time.monotonic() - started > timeout:
                    raise RuntimeError(f"the statements of {today} were not done in {timeout} s: {status}")
                time.sleep(0.2)
                status = self.statements_run({"action": "status", "period": today})
            manifest = status["manifest"]
            objects = _bucket_objects(running, f"statements/{today}/")
            print(
                f'  Lambda API: StatementsFunction {{"date": "{today}"}} ({attempt}) -> {queued["tasks"]} '
                f"shards; {manifest['members']} member and {manifest['partners']} partner statements, "
                f"reconciliation {'clean' if manifest['reconciliation']['clean'] else 'MISMATCH'}",
                file=self.out,
            )
            if attempt == "run":
                first = objects
        self.statements = {
            "day": today,
            "members": manifest["members"],
            "partners": manifest["partners"],
            "clean": manifest["reconciliation"]["clean"],
            "objects": len(objects),
            "identical": objects == first,
            "folder": str(running.state_dir / "buckets" / "StatementsBucket" / "statements" / today),
        }

    def partner_reads_its_statements(self, running: RunningStack) -> None:
        """The operator issues shop-a an API key (shown once); shop-a lists its statements with it and
        takes a short-lived link to today's CSV; a key it was never given is refused 401."""
        answer = call(
            "POST", f"{self.base}/admin/partners/shop-a/api-keys", {"description": "demo"}, sign_with=OPERATOR
        )
        self.show("POST an API key for shop-a", answer, f"key {answer.json().get('key_id')}, shown once")
        self.partner_key = str(answer.json()["api_key"])
        key = {"authorization": f"Bearer {self.partner_key}"}
        answer = call("GET", f"{self.base}/partner/statements", headers=key)
        periods = [entry["period"] for entry in answer.json()["statements"]]
        self.partner_statements = len(periods)
        self.show("GET /partner/statements with shop-a's key", answer, ", ".join(periods))
        today = self.statements["day"]
        answer = call("GET", f"{self.base}/partner/statements/{today}?format=csv", headers=key)
        self.show(f"GET /partner/statements/{today}?format=csv", answer, "a link valid for 5 minutes")
        answer = call("GET", f"{self.base}/partner/summary?from={today}&to={today}", headers=key)
        totals = answer.json()["totals"]
        sales = ", ".join(f"{money['gross_sales']} {money['currency']}" for money in totals["money"])
        self.show(
            "GET /partner/summary with shop-a's key",
            answer,
            f"{totals['clicks']['total']} clicks, {totals['orders']['new']} new orders, sales {sales}",
        )
        statement = json.loads(
            _bucket_objects(running, f"statements/{today}/partners/shop-a.json")[
                f"statements/{today}/partners/shop-a.json"
            ]
        )
        self.summary_matches_statement = totals["clicks"]["total"] == statement["clicks"]["total"][
            "total"
        ] and [(money["currency"], money["gross_sales"]) for money in totals["money"]] == [
            (money["currency"], money["gross_sales"]) for money in statement["money"]
        ]
        answer = call("GET", f"{self.base}/partner/links?from={today}&to={today}", headers=key)
        self.show(
            "GET /partner/links with shop-a's key",
            answer,
            ", ".join(
                f"{link['link_id']}: {link['clicks']['total']} clicks" for link in answer.json()["links"]
            ),
        )
        answer = call("GET", f"{self.base}/partner/orders", headers=key)
        orders = answer.json()["orders"]
        referred = sum(order["referred"] for order in orders)
        self.show(
            "GET /partner/orders with shop-a's key", answer, f"{len(orders)} orders, {referred} referred"
        )
        answer = call("GET", f"{self.base}/partner/analytics/rfm", headers=key)
        segments = [
            f"{segment['segment']} {segment['members']}"
            for currency in answer.json().get("currencies", [])
            for segment in currency["segments"]
            if segment["members"]
        ]
        self.show("GET /partner/analytics/rfm with shop-a's key", answer, ", ".join(segments) or "no buyers")
        answer = call("GET", f"{self.base}/partner/analytics/returns?from={today}&to={today}", headers=key)
        refunds = ", ".join(
            f"{money['refunded']} of {money['gross_sales']} {money['currency']} refunded"
            for money in answer.json()["totals"]
        )
        categories = ", ".join(row["key"] for row in answer.json()["by_category"])
        self.show("GET /partner/analytics/returns with shop-a's key", answer, f"{refunds} ({categories})")
        answer = self.as_member("alice", "/members/alice/orders")
        self.show(
            "GET alice's orders",
            answer,
            ", ".join(
                f"{order['order_id']} {order['status']} ({order['points_pending']} pending, "
                f"{order['points_available']} available)"
                for order in answer.json()["orders"]
            ),
        )
        answer = self.as_member("alice", "/members/alice/clicks")
        clicks = answer.json()["clicks"]
        followed = sum(click["order_followed"] for click in clicks)
        self.show("GET alice's clicks", answer, f"{len(clicks)} clicks, {followed} followed by an order")
        forged = {"authorization": "Bearer ppk_" + "x" * 12 + "_not-a-key-the-program-issued"}
        self.show(
            "GET /partner/statements with a forged key",
            call("GET", f"{self.base}/partner/statements", headers=forged),
        )

    def activity(self, member: str) -> list[LedgerEntry]:
        """Every entry of both accounts, paged through the activity route."""
        entries: list[LedgerEntry] = []
        cursor = None
        while True:
            query = "limit=100" + (f"&cursor={cursor}" if cursor else "")
            page = self.as_member(member, f"/members/{member}/activity?{query}").json()
            entries += [LedgerEntry.model_validate(entry) for entry in page["entries"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return entries

    def reconcile(self) -> tuple[bool, int, int]:
        """Every balance against the sum of its activity; (all match, pending, available)."""
        print(
            f"  {'member':<8}{'account':<9}{'available':>10}{'pending':>9}{'entries':>9}  sum of entries",
            file=self.out,
        )
        matches, pending, available = True, 0, 0
        for member in MEMBERS:
            accounts = self.as_member(member, f"/members/{member}/balance").json()["accounts"]
            entries = self.activity(member)
            for account, balance in accounts.items():
                mine = [entry for entry in entries if entry.account == account]
                # The ledger's own rule table folds the entries, so every kind counts as it should.
                rebuilt = fold_entries(member, Account(account), mine)
                same = (rebuilt.available, rebuilt.pending, rebuilt.lifetime_earned) == (
                    balance["available"],
                    balance.get("pending", 0),
                    balance.get("lifetime", rebuilt.lifetime_earned),
                )
                matches &= same
                pending += balance.get("pending", 0)
                available += balance["available"]
                figures = f"{balance['available']:>10}{balance.get('pending', 0):>9}{len(mine):>9}"
                print(
                    f"  {member:<8}{account:<9}{figures}  {'matches' if same else 'MISMATCH'}",
                    file=self.out,
                )
        return matches, pending, available


def _counter_window_seconds() -> int:
    """The longest TumblingWindowInSeconds of PartnerCountersFunction's streams, from the template."""
    events = load_sam_template()["Resources"]["PartnerCountersFunction"]["Properties"]["Events"]
    return max(int(event["Properties"].get("TumblingWindowInSeconds", 0)) for event in events.values())


def _bucket_objects(running: RunningStack, prefix: str) -> dict[str, bytes]:
    s3 = boto3.client(
        "s3", endpoint_url=running.stack.endpoints.s3, region_name=running.stack.endpoints.region
    )
    bucket = running.stack.resources["StatementsBucket"].ref
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    ]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def summary(
    scenario: Scenario,
    clicks: Counter[str],
    orders: Counter[str],
    *,
    reconciled: bool,
    pending: int,
    available: int,
    log: Path,
) -> str:
    postbacks = scenario.postbacks
    statements = scenario.statements
    adjustments = scenario.adjustments
    configured = scenario.configured
    rows = [
        (
            "partners / links configured",
            f"{configured['partners']} / {configured['links']} "
            f"({configured['refused destinations']} destination refused: not an allowed domain)",
        ),
        (
            "clicks (total / unique / bot / blocked)",
            f"{clicks['total']} / {clicks['unique']} / {clicks['bot']} / {clicks['blocked']} "
            f"({clicks['members']} attributed to a member; the repeat counted on the first click)",
        ),
        (
            "postbacks (accepted / duplicate / refused)",
            f"{postbacks['accepted']} / {postbacks['duplicate']} / {postbacks['refused']}",
        ),
        ("orders by status", ", ".join(f"{status}: {n}" for status, n in sorted(orders.items()))),
        (
            "operator adjustments",
            f"{adjustments['posted']} posted / {adjustments['duplicate']} duplicate / "
            f"{adjustments['refused']} refused / {adjustments['invalid']} invalid",
        ),
        ("points pending / available", f"{pending} / {available}"),
        ("promo", ", ".join(f"{what}: {n}" for what, n in sorted(scenario.promo.items()))),
        (
            "order points",
            "pending shown after the postback, released after the hold, refund reversed"
            if scenario.points_seen
            else "NOT SEEN in time",
        ),
        (
            "HTTP answers by status",
            ", ".join(f"{status}: {n}" for status, n in sorted(scenario.answers.items())),
        ),
        (
            "statements written",
            f"{statements.get('members')} member / {statements.get('partners')} partner statements for "
            f"{statements.get('day')}, {statements.get('objects')} objects; reconciliation "
            f"{'clean' if statements.get('clean') else 'MISMATCH'}; re-run "
            f"{'byte-identical' if statements.get('identical') else 'CHANGED'}",
        ),
        ("statement files", str(statements.get("folder"))),
        (
            "partner reporting",
            f"shop-a lists {scenario.partner_statements} statements with its own API key; its summary "
            + ("equals" if scenario.summary_matches_statement else "DIFFERS FROM")
            + " the day's statement",
        ),
        ("reconciliation", "every balance equals the sum of its entries" if reconciled else "MISMATCH"),
        ("function logs", str(log)),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(["Summary"] + [f"  {label:<{width}}  {value}" for label, value in rows])


@dataclass(frozen=True)
class Outcome:
    clicks: Counter[str]
    orders: Counter[str]
    reconciled: bool
    pending: int
    available: int


def _play(scenario: Scenario, running: RunningStack, progress: Progress) -> Outcome:
    progress.step("the operator configures a partner and a tracking link (admin API, IAM)")
    scenario.operator_configures()
    progress.step("shoppers click the link (ClickRedirectFunction: one write per click)")
    scenario.shoppers_click()
    clicks = scenario.stored_clicks(running)
    progress.step("the partner sends order postbacks; AccrualFunction turns the Orders stream into points")
    scenario.partner_sends_postbacks()
    orders = scenario.stored_orders(running)
    progress.step("the operator adjusts member accounts (IAM-authorized admin route)")
    scenario.operator_adjusts()
    progress.step("the operator runs a promotion: a campaign for shop-a, a shared code, 20 unique codes")
    scenario.operator_runs_a_promotion()
    progress.step("members redeem codes into their promo accounts and spend them where allowed")
    scenario.members_redeem_and_spend()
    progress.step("members read their balances with their tokens")
    scenario.members_read()
    progress.step("a function through the Lambda Invoke API")
    scenario.invoke_health()
    progress.step("the nightly run closes the day: statements to S3 (fanned out over SQS), then again")
    scenario.counters_catch_up(clicks)
    scenario.close_the_day(running)
    progress.step("the partner reads its statements with an API key the operator issued it")
    scenario.partner_reads_its_statements(running)
    progress.step("reconciling every balance with its activity")
    reconciled, pending, available = scenario.reconcile()
    time.sleep(1.5)  # the bucket mirror copies the statements to files every second
    return Outcome(clicks, orders, reconciled, pending, available)


def _report(
    out: TextIO,
    scenario: Scenario,
    outcome: Outcome,
    *,
    log: Path,
    options: ServeOptions,
    dashboard: str | None,
) -> None:
    if options.faults:
        retried = ", ".join(f"{n} x {status}" for status, n in sorted(http_client.RETRIED.items()))
        print(f"  faults: {faults.describe(faults.read_counts(options.fault_log))}", file=out)
        print(
            f"  client retries: {retried or 'none'}; nightly runs retried: {scenario.failed_runs}", file=out
        )
    print(file=out)
    text = summary(
        scenario,
        outcome.clicks,
        outcome.orders,
        reconciled=outcome.reconciled,
        pending=outcome.pending,
        available=outcome.available,
        log=log,
    )
    print(text, file=out)
    if dashboard is not None:
        print(file=out)
        print(f"Partner dashboard  {dashboard}", file=out)
        print(f"  sign in with shop-a's API key  {scenario.partner_key}", file=out, flush=True)


def run(
    use_dynamodb_local: bool,
    state_dir: Path,
    out: TextIO | None = None,
    fault_rate: float = 0.0,
    *,
    keep_serving: bool = False,
    ports: tuple[int, int] = (3000, 3001),
) -> bool:
    """The scenario on a fresh local stack, then its summary; `keep_serving`: on `ports` (HTTP API,
    Lambda API), left running after the summary (the partner dashboard on the demo's data) until
    Ctrl-C or SIGTERM."""
    out = out or sys.stdout
    progress = Progress(out)
    log = state_dir / "demo-functions.log"
    backend = "DynamoDB Local" if use_dynamodb_local else "moto"
    options = ServeOptions(
        # A demo that ends takes any free ports: it may run beside `make serve`.
        port=ports[0] if keep_serving else 0,
        lambda_port=ports[1] if keep_serving else 0,
        use_dynamodb_local=use_dynamodb_local,
        state_dir=state_dir,
        faults=fault_rate,
    )
    stopping, watchdog = stop_signals(out) if keep_serving else (None, None)
    http_client.RETRIED.clear()
    progress.step(f"starting the local stack from template.yaml on {backend} (tables, functions, routes)")
    if fault_rate:
        print(f"  injecting faults into {fault_rate:.0%} of the functions' DynamoDB calls", file=out)
    with running_stack(options, printer=_log_printer(log)) as running:
        print(f"  HTTP API {running.http_url}, Lambda API {running.lambda_url}", file=out)
        scenario = Scenario(running, out)
        outcome = _play(scenario, running, progress)
        if stopping is not None and watchdog is not None:
            _report(out, scenario, outcome, log=log, options=options, dashboard=f"{running.http_url}/portal")
            print("The local stack keeps serving the demo's data: Ctrl-C stops it.", file=out, flush=True)
            while not stopping.wait(0.5):
                pass
            print("Stopping the local stack...", file=out, flush=True)
            watchdog.start()
    if watchdog is not None:
        watchdog.cancel()
    else:
        _report(out, scenario, outcome, log=log, options=options, dashboard=None)
    statements_ok = bool(scenario.statements.get("clean") and scenario.statements.get("identical"))
    return (
        outcome.reconciled
        and scenario.points_seen
        and statements_ok
        and scenario.partner_statements > 0
        and scenario.summary_matches_statement
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the Partner Points demo on the local stack.")
    parser.add_argument("--dynamodb-local", action="store_true", help="keep the tables in AWS DynamoDB Local")
    parser.add_argument("--state-dir", type=Path, default=Path(".local/demo"))
    parser.add_argument(
        "--faults",
        type=parse_fault_rate,
        default=0.0,
        metavar="RATE",
        help="fail this share of the functions' DynamoDB calls as DynamoDB does (e.g. 0.1)",
    )
    parser.add_argument(
        "--keep-serving",
        choices=["no", "yes", "in-a-terminal"],
        default="no",
        help="leave the stack running on ports 3000/3001 after the summary (the partner dashboard on the "
        "demo's data) until Ctrl-C; in-a-terminal: only when run from one (make demo)",
    )
    parser.add_argument("--port", type=int, default=3000, help="the HTTP API's port when it keeps serving")
    parser.add_argument("--lambda-port", type=int, default=3001, help="the Lambda API's, likewise")
    args = parser.parse_args(argv)
    in_a_terminal = sys.stdin.isatty() and sys.stdout.isatty()
    keep = args.keep_serving == "yes" or (args.keep_serving == "in-a-terminal" and in_a_terminal)
    ok = run(
        args.dynamodb_local,
        args.state_dir,
        fault_rate=args.faults,
        keep_serving=keep,
        ports=(args.port, args.lambda_port),
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
