"""`partnerpoints admin`: the operator's command line. A client of the admin HTTP API (SigV4-signed
with the caller's AWS credentials, as the IAM-authorized routes require) and, for the nightly
statements, of the Lambda Invoke API; never a second path to the tables, so it behaves the same
against the local stack and a deployment.

    partnerpoints admin [--api URL] partner create --file partner.json
    partnerpoints admin partner get PARTNER_ID
    partnerpoints admin partner list            (every partner, page after page)
    partnerpoints admin partner update PARTNER_ID --file settings.json
    partnerpoints admin link create --partner PARTNER_ID --destination URL [--link-id ID] [--paused]
    partnerpoints admin link get LINK_ID
    partnerpoints admin link update LINK_ID [--destination URL] [--status active|paused]
    partnerpoints admin partner rotate-secret PARTNER_ID [--grace-hours 24]
    partnerpoints admin partner api-key create PARTNER_ID [--description TEXT] [--expires-at TIME]
                                         (a key to read the partner's own numbers, shown once)
    partnerpoints admin partner api-key list PARTNER_ID
    partnerpoints admin partner api-key revoke PARTNER_ID KEY_ID
    partnerpoints admin partner statements PARTNER_ID [PERIOD] [--format json|csv]
                                         (the partner's statements, or a short-lived link to one)
    partnerpoints admin partner report summary PARTNER_ID [--from DAY] [--to DAY] [--granularity week]
    partnerpoints admin partner report links PARTNER_ID [--from DAY] [--to DAY]
    partnerpoints admin partner report sub-ids PARTNER_ID LINK_ID [--field sub2] [--from DAY] [--to DAY]
                                         (what the partner reads at /partner/summary, links, sub ids;
                                          --partner-time-zone: the partner's local days, not UTC's)
    partnerpoints admin member-link MEMBER_ID LINK_ID      (prints the member's personal click URL)
    partnerpoints admin webhook-endpoint create --url URL [--event-type T ...] [--description TEXT]
    partnerpoints admin webhook-endpoint list | get ID | delete ID | test ID   (test: a signed message now)
    partnerpoints admin webhook-endpoint rotate-secret ID [--grace-hours 24]
    partnerpoints admin webhook-endpoint update ID [--url URL] [--event-type T ...] [--enabled yes|no]
    partnerpoints admin order list --status review|unattributed
    partnerpoints admin order get PARTNER_ID ORDER_ID
    partnerpoints admin order review PARTNER_ID ORDER_ID --decision approve|reject --note TEXT [--member-id M]
    partnerpoints admin release [--as-of DATE|TIME] [--lookback-days 35]
    partnerpoints admin spend refund ENTRY_ID
    partnerpoints admin promo campaign create --file campaign.json
    partnerpoints admin promo campaign get|pause|resume CAMPAIGN_ID
    partnerpoints admin promo code CAMPAIGN_ID CODE [--max-redemptions N]   (one shared code)
    partnerpoints admin promo generate CAMPAIGN_ID --count N [--prefix WIN] --out codes.csv
                                         (a batch of unique codes; a progress bar, then a CSV)
    partnerpoints admin promo revoke REDEMPTION_ID --reason TEXT
    partnerpoints admin statements run [--date YYYY-MM-DD] [--no-wait]   (Lambda Invoke API; then the
                                         manifest; exit 1 when the reconciliation lists a mismatch)
    partnerpoints admin statements status YYYY-MM-DD|YYYY-MM
    partnerpoints admin operations [--nights 7]   (dead-letter queue and nightly queue depths, the last
                                         nights' statement runs and their reconciliation)
    partnerpoints admin sign-postback --file body.json [--id MSG_ID]
                                         (the secret from $PARTNERPOINTS_WEBHOOK_SECRET)

Without --api it talks to the local stack running from --state-dir (default .local).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import boto3
from botocore.credentials import Credentials
from tqdm import tqdm

from partnerpoints_infra.http_client import Answer, call
from partnerpoints_infra.local.serve import DEFAULT_STATE_DIR, LOCAL_CREDENTIALS, STATE_FILE
from partnerpoints_infra.postback_signing import signature_headers


class AdminError(Exception):
    """Printed as one line; exit status 2."""


def _api_url(args: argparse.Namespace) -> str:
    if args.api:
        return str(args.api).rstrip("/")
    try:
        return str(json.loads((args.state_dir / STATE_FILE).read_text(encoding="utf-8"))["http_url"])
    except (OSError, ValueError, KeyError) as error:
        raise AdminError(f"no --api URL and no local stack running from {args.state_dir}/") from error


def _credentials(region: str) -> Credentials:
    # The caller's own credentials (profile, SSO, environment); the local stack accepts any.
    found = boto3.session.Session(region_name=region).get_credentials()
    if found is None:
        return Credentials(LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"], LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    frozen = found.get_frozen_credentials()
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise AdminError(f"no file {path}") from error
    except ValueError as error:
        raise AdminError(f"{path} is not JSON: {error}") from error


class AdminClient:
    def __init__(self, api: str, region: str) -> None:
        self.api = api
        self.region = region
        self.credentials = _credentials(region)

    def request(self, method: str, path: str, body: Any = None) -> Answer:
        return call(method, f"{self.api}{path}", body, sign_with=self.credentials, region=self.region)


def _every_partner(_: argparse.Namespace, client: AdminClient) -> Answer:
    """Every page of GET /admin/partners, as one answer (the first failing page's, if one fails)."""
    partners: list[Any] = []
    cursor: str | None = None
    while True:
        page = client.request(
            "GET", "/admin/partners?limit=100" + (f"&cursor={quote(cursor)}" if cursor else "")
        )
        if page.status != 200:
            return page
        partners += page.json()["partners"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            body = json.dumps({"partners": partners, "next_cursor": None}).encode()
            return Answer(200, page.headers, body)


def _partner(args: argparse.Namespace, client: AdminClient) -> Answer:
    if args.verb in PARTNER_READINGS:
        return PARTNER_READINGS[args.verb](args, client)
    if args.verb == "create":
        return client.request("POST", "/admin/partners", _read_json(args.file))
    if args.verb == "get":
        return client.request("GET", f"/admin/partners/{args.partner_id}")
    if args.verb == "rotate-secret":
        return client.request(
            "POST", f"/admin/partners/{args.partner_id}/rotate-secret?grace_hours={args.grace_hours}"
        )
    if args.verb == "statements":
        statements = f"/admin/partners/{args.partner_id}/statements"
        one = f"/{quote(args.period, safe='')}?format={args.format}" if args.period else ""
        return client.request("GET", f"{statements}{one}")
    return client.request("PUT", f"/admin/partners/{args.partner_id}", _read_json(args.file))


def _report(args: argparse.Namespace, client: AdminClient) -> Answer:
    partner = f"/admin/partners/{quote(args.partner_id, safe='')}"
    if args.report == "rfm":
        segment = f"/segments/{quote(args.segment, safe='')}" if args.segment else ""
        return client.request("GET", f"{partner}/analytics/rfm{segment}")
    query = {"from": args.first, "to": args.last}
    if args.partner_time_zone:
        query["time_zone"] = "partner"
    if args.report == "summary":
        path, query["granularity"] = f"{partner}/summary", args.granularity
    elif args.report in ("links", "returns"):
        path = f"{partner}/links" if args.report == "links" else f"{partner}/analytics/returns"
    else:
        path, query["field"] = f"{partner}/links/{quote(args.link_id, safe='')}/sub-ids", args.field
    return client.request("GET", f"{path}?{urlencode({k: v for k, v in query.items() if v})}")


def _api_key(args: argparse.Namespace, client: AdminClient) -> Answer:
    keys = f"/admin/partners/{args.partner_id}/api-keys"
    if args.action == "create":
        body = {"description": args.description}
        if args.expires_at:
            body["expires_at"] = args.expires_at
        return client.request("POST", keys, body)
    if args.action == "list":
        return client.request("GET", keys)
    return client.request("DELETE", f"{keys}/{quote(args.key_id, safe='')}")


PARTNER_READINGS: dict[str, Callable[[argparse.Namespace, AdminClient], Answer]] = {
    "api-key": _api_key,
    "list": _every_partner,
    "report": _report,
}


def _order(args: argparse.Namespace, client: AdminClient) -> Answer:
    if args.verb == "list":
        return client.request("GET", f"/admin/orders?status={args.status}")
    path = f"/admin/orders/{quote(args.partner_id, safe='')}/{quote(args.order_id, safe='')}"
    if args.verb == "get":
        return client.request("GET", path)
    body = {"decision": args.decision, "note": args.note}
    if args.member_id:
        body["member_id"] = args.member_id
    return client.request("POST", f"{path}/review", body)


def _link(args: argparse.Namespace, client: AdminClient) -> Answer:
    if args.verb == "create":
        status = "paused" if args.paused else "active"
        body = {"partner_id": args.partner, "destination": args.destination, "status": status}
        if args.link_id:
            body["link_id"] = args.link_id
        return client.request("POST", "/admin/links", body)
    if args.verb == "get":
        return client.request("GET", f"/admin/links/{args.link_id}")
    # An update replaces the link's settings: what is not given is kept as it is.
    current = client.request("GET", f"/admin/links/{args.link_id}")
    if current.status != 200:
        return current
    link = current.json()
    body = {"destination": args.destination or link["destination"], "status": args.status or link["status"]}
    return client.request("PUT", f"/admin/links/{args.link_id}", body)


def _webhook_endpoint_update(client: AdminClient, one: str, args: argparse.Namespace) -> Answer:
    """An update replaces the settings: what is not given is kept as it is."""
    current = client.request("GET", one)
    if current.status != 200:
        return current
    endpoint = current.json()
    body = {
        "url": args.url or endpoint["url"],
        "event_types": args.event_type if args.event_type is not None else endpoint["event_types"],
        "description": args.description if args.description is not None else endpoint["description"],
        "enabled": {"yes": True, "no": False}.get(args.enabled, endpoint["enabled"]),
    }
    return client.request("PUT", one, body)


def _webhook_endpoint(args: argparse.Namespace, client: AdminClient) -> Answer:
    endpoints = "/admin/webhook-endpoints"
    if args.verb == "create":
        body = {"url": args.url, "event_types": args.event_type or [], "description": args.description or ""}
        return client.request("POST", endpoints, body)
    if args.verb == "list":
        return client.request("GET", endpoints)
    one = f"{endpoints}/{quote(args.endpoint_id, safe='')}"
    if args.verb == "update":
        return _webhook_endpoint_update(client, one, args)
    if args.verb == "rotate-secret":
        return client.request("POST", f"{one}/rotate-secret?grace_hours={args.grace_hours}")
    if args.verb == "test":
        return client.request("POST", f"{one}/test")
    return client.request({"get": "GET", "delete": "DELETE"}[args.verb], one)


def _member_link(args: argparse.Namespace, client: AdminClient) -> Answer:
    return client.request(
        "POST", "/admin/member-links", {"member_id": args.member_id, "link_id": args.link_id}
    )


def _release(args: argparse.Namespace, client: AdminClient) -> Answer:
    body: dict[str, Any] = {"lookback_days": args.lookback_days}
    if args.as_of:
        body["as_of"] = _as_of(args.as_of)
    return client.request("POST", "/admin/releases", body)


def _as_of(text: str) -> str:
    """A date means the end of that day (UTC): `--as-of 2026-12-31` releases every hold ending that day."""
    if len(text) == 10:
        return f"{text}T23:59:59.999999+00:00"
    return text


def _spend(args: argparse.Namespace, client: AdminClient) -> Answer:
    return client.request("POST", f"/admin/spends/{quote(args.entry_id, safe='')}/refund")


def _promo(args: argparse.Namespace, client: AdminClient) -> Answer:
    if args.verb == "campaign":
        path = f"/admin/promo-campaigns/{args.campaign_id}" if args.campaign_id else ""
        if args.action == "create":
            return client.request("POST", "/admin/promo-campaigns", _read_json(args.file))
        if not path:
            raise AdminError(f"promo campaign {args.action} needs a CAMPAIGN_ID")
        current = client.request("GET", path)
        if args.action == "get" or current.status != 200:
            return current
        campaign = current.json()
        terms = {key: campaign[key] for key in _CAMPAIGN_TERMS}
        terms["status"] = "paused" if args.action == "pause" else "active"
        return client.request("PUT", path, terms)
    if args.verb == "code":
        body: dict[str, Any] = {"code": args.code}
        if args.max_redemptions:
            body["max_redemptions"] = args.max_redemptions
        return client.request("POST", f"/admin/promo-campaigns/{args.campaign_id}/codes", body)
    if args.verb == "revoke":
        return client.request(
            "POST", f"/admin/promo-redemptions/{args.redemption_id}/revoke", {"reason": args.reason}
        )
    return _generate(args, client)


_CAMPAIGN_TERMS = (
    "name",
    "points",
    "valid_from",
    "valid_until",
    "per_member_limit",
    "max_redemptions_total",
    "partner_ids",
)
POLL_SECONDS = 0.5


def _generate(args: argparse.Namespace, client: AdminClient) -> Answer:
    """Start a batch, follow the generator with a progress bar, then page the codes into a CSV."""
    body: dict[str, Any] = {"count": args.count, "max_redemptions": args.max_redemptions}
    if args.prefix:
        body["prefix"] = args.prefix
    started = client.request("POST", f"/admin/promo-campaigns/{args.campaign_id}/codes", body)
    if started.status != 202:
        return started
    batch_path = f"/admin/promo-code-batches/{started.json()['batch_id']}"
    with tqdm(total=args.count, unit="code", desc="generating", file=sys.stderr) as progress:
        while True:
            answer = client.request("GET", batch_path)
            if answer.status != 200:
                return answer
            batch = answer.json()
            progress.update(batch["generated"] - progress.n)
            if batch["status"] == "complete":
                break
            time.sleep(POLL_SECONDS)
    written = 0
    with (
        args.out.open("w", newline="", encoding="utf-8") as out,
        tqdm(total=args.count, unit="code", desc="exporting", file=sys.stderr) as progress,
    ):
        writer = csv.writer(out)
        writer.writerow(["code", "campaign_id", "batch_id"])
        cursor: str | None = None
        # The batch index is eventually consistent: read until every code is there.
        while written < args.count:
            page = client.request(
                "GET", f"{batch_path}/codes?limit=1000" + (f"&cursor={cursor}" if cursor else "")
            )
            if page.status != 200:
                return page
            codes = page.json()
            writer.writerows([code, args.campaign_id, batch["batch_id"]] for code in codes["codes"])
            written += len(codes["codes"])
            progress.update(len(codes["codes"]))
            if codes["next_cursor"]:
                cursor = codes["next_cursor"]
            elif written < args.count:
                time.sleep(POLL_SECONDS)
    print(f"{written} codes written to {args.out}", file=sys.stderr)
    return answer


def _lambda_url(args: argparse.Namespace) -> str | None:
    """The running local stack's Lambda API; None against AWS (--api given): boto3's own endpoint."""
    if args.api:
        return None
    try:
        return str(json.loads((args.state_dir / STATE_FILE).read_text(encoding="utf-8"))["lambda_url"])
    except (OSError, ValueError, KeyError) as error:
        raise AdminError(f"no --api URL and no local stack running from {args.state_dir}/") from error


def _invoke(args: argparse.Namespace, client: AdminClient, event: dict[str, Any]) -> Answer:
    """One RequestResponse invocation of the statements function; a function error answers 502."""
    lambda_client = boto3.client("lambda", region_name=client.region, endpoint_url=_lambda_url(args))
    answer = lambda_client.invoke(FunctionName=args.function_name, Payload=json.dumps(event).encode())
    payload = answer["Payload"].read()
    return Answer(502 if answer.get("FunctionError") else 200, {}, payload)


def _statements(args: argparse.Namespace, client: AdminClient) -> Answer:
    """Run a day (settle, queue its shards), then follow the shards until the manifest is written."""
    if args.verb == "status":
        return _invoke(args, client, {"action": "status", "period": args.period})
    started = _invoke(args, client, {"date": args.date} if args.date else {})
    if started.status != 200 or not args.wait:
        return started
    run = started.json()
    print(
        f"closing {run['date']}: {run['tasks']} shard tasks queued; settle {run['settle']}", file=sys.stderr
    )
    deadline = time.monotonic() + args.timeout
    done: dict[str, dict[str, Any]] = {}
    with tqdm(total=run["tasks"], unit="shard", desc="statements", file=sys.stderr) as progress:
        for period in run["periods"]:
            while period not in done:
                answer = _invoke(args, client, {"action": "status", "period": period})
                if answer.status != 200:
                    return answer
                status = answer.json()
                finished = sum(status["shards_done"] for status in done.values()) + status["shards_done"]
                progress.update(finished - progress.n)
                if status["manifest"] is not None and status["shards_done"] == status["shards"]:
                    done[period] = status
                elif time.monotonic() > deadline:
                    raise AdminError(f"{period}: {status['shards_done']} of {status['shards']} shards done")
                else:
                    time.sleep(POLL_SECONDS)
    manifests = {period: status["manifest"] for period, status in done.items()}
    clean = all(manifest["reconciliation"]["clean"] for manifest in manifests.values())
    return Answer(200 if clean else 409, {}, json.dumps(manifests).encode())


def _operations(args: argparse.Namespace, client: AdminClient) -> Answer:
    return client.request("GET", f"/admin/operations?nights={args.nights}")


_NOUNS = {
    "operations": _operations,
    "partner": _partner,
    "link": _link,
    "member-link": _member_link,
    "order": _order,
    "webhook-endpoint": _webhook_endpoint,
    "release": _release,
    "spend": _spend,
    "promo": _promo,
    "statements": _statements,
}
SECRET_VARIABLE = "PARTNERPOINTS_WEBHOOK_SECRET"  # noqa: S105 -- the name of a variable, not a secret


def sign_postback(args: argparse.Namespace) -> int:
    """Print the Standard Webhooks headers for a body, as the partner's platform must send them. The
    secret comes from the environment, never the command line (shell history, process lists)."""
    secret = os.environ.get(SECRET_VARIABLE, "")
    if not secret.startswith("whsec_"):
        print(f"partnerpoints admin: set {SECRET_VARIABLE} to the partner's whsec_ secret", file=sys.stderr)
        return 2
    try:
        body = args.file.read_bytes()
    except OSError as error:
        print(f"partnerpoints admin: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    for name, value in signature_headers(secret, body, args.id).items():
        print(f"{name}: {value}")
    return 0


def _add_webhook_endpoint_parser(nouns: Any) -> None:
    endpoint = nouns.add_parser(
        "webhook-endpoint",
        help="the program's webhook endpoints: create, list, get, update, delete, rotate-secret",
    ).add_subparsers(dest="verb", required=True)
    for verb in ("create", "update"):
        parser = endpoint.add_parser(verb)
        if verb == "update":
            parser.add_argument("endpoint_id")
        parser.add_argument("--url", required=verb == "create", help="https, public addresses only")
        parser.add_argument(
            "--event-type", action="append", help="an event to send (repeat it); none: every event"
        )
        parser.add_argument("--description")
        if verb == "update":
            parser.add_argument("--enabled", choices=["yes", "no"], help="enable again, or disable")
    endpoint.add_parser("list")
    for verb in ("get", "delete"):
        endpoint.add_parser(verb).add_argument("endpoint_id")
    endpoint.add_parser("test", help="send a signed test message now").add_argument("endpoint_id")
    rotate = endpoint.add_parser("rotate-secret", help="a new secret, shown once")
    rotate.add_argument("endpoint_id")
    rotate.add_argument("--grace-hours", type=int, default=24, help="how long the previous one keeps signing")


def _add_partner_parser(nouns: Any) -> None:
    partner = nouns.add_parser(
        "partner", help="partners: create, get, list, update, rotate-secret, api-key, statements, report"
    ).add_subparsers(dest="verb", required=True)
    partner.add_parser("create").add_argument("--file", type=Path, required=True, help="the partner as JSON")
    partner.add_parser("get").add_argument("partner_id")
    partner.add_parser("list", help="every partner's settings")
    rotate = partner.add_parser("rotate-secret", help="new postback secret and token, shown once")
    rotate.add_argument("partner_id")
    rotate.add_argument("--grace-hours", type=int, default=24, help="how long the previous ones keep working")
    api_key = partner.add_parser(
        "api-key", help="the partner's API keys (for its reporting routes): create, list, revoke"
    ).add_subparsers(dest="action", required=True)
    issue = api_key.add_parser("create", help="a new key, shown this once")
    issue.add_argument("partner_id")
    issue.add_argument("--description", default="", help="what the key is for")
    issue.add_argument("--expires-at", help="when it stops working (ISO 8601 with a zone); default never")
    api_key.add_parser("list", help="the keys, never the keys themselves").add_argument("partner_id")
    revoke_key = api_key.add_parser("revoke", help="the key stops working within a minute")
    revoke_key.add_argument("partner_id")
    revoke_key.add_argument("key_id")
    statements_of = partner.add_parser("statements", help="the partner's statements, or a link to one")
    statements_of.add_argument("partner_id")
    statements_of.add_argument("period", nargs="?", help="a day (YYYY-MM-DD) or a month (YYYY-MM)")
    statements_of.add_argument("--format", choices=["json", "csv"], default="json")
    report = partner.add_parser(
        "report", help="the partner's figures: summary, links, sub-ids, returns, rfm"
    ).add_subparsers(dest="report", required=True)
    for name, help_text in (
        ("summary", "indicators per day, week or month, and in total"),
        ("links", "each link's figures, most clicked first"),
        ("sub-ids", "one link's clicks per sub id value"),
        ("returns", "refunds per category and per link, and members whose refunds stand out"),
        ("rfm", "the latest nightly RFM segments, or a link to one segment's members as CSV"),
    ):
        reading = report.add_parser(name, help=help_text)
        reading.add_argument("partner_id")
        if name == "rfm":
            reading.add_argument("--segment", help="a link to this segment's CSV (e.g. champions)")
            continue
        if name == "sub-ids":
            reading.add_argument("link_id")
            reading.add_argument("--field", choices=[f"sub{n}" for n in range(1, 6)], default="sub1")
        if name == "summary":
            reading.add_argument("--granularity", choices=["day", "week", "month"], default="day")
        reading.add_argument("--from", dest="first", help="the first day (default: 30 days ago)")
        reading.add_argument("--to", dest="last", help="the last day (default: today)")
        reading.add_argument(
            "--partner-time-zone",
            action="store_true",
            help="days of the partner's time zone (UTC's where it has none), not UTC's",
        )
    update = partner.add_parser("update", help="replace a partner's settings")
    update.add_argument("partner_id")
    update.add_argument(
        "--file", type=Path, required=True, help="the settings as JSON (everything but partner_id)"
    )


def add_parser(commands: Any) -> None:
    admin = commands.add_parser("admin", help="the operator's client of the admin API")
    admin.add_argument("--api", help="the HTTP API's base URL (default: the running local stack)")
    admin.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    admin.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
    )
    nouns = admin.add_subparsers(dest="noun", required=True)

    _add_partner_parser(nouns)

    link = nouns.add_parser("link", help="links: create, get, update").add_subparsers(
        dest="verb", required=True
    )
    create = link.add_parser("create")
    create.add_argument("--partner", required=True)
    create.add_argument(
        "--destination", required=True, help="https URL template, e.g. https://shop.example/?cid={click_id}"
    )
    create.add_argument("--link-id")
    create.add_argument("--paused", action="store_true")
    link.add_parser("get").add_argument("link_id")
    change = link.add_parser("update", help="pause, resume or re-point a link")
    change.add_argument("link_id")
    change.add_argument("--destination")
    change.add_argument("--status", choices=["active", "paused"])

    member_link = nouns.add_parser(
        "member-link", help="a member's personal click URL (their clicks are attributed to them)"
    )
    member_link.add_argument("member_id")
    member_link.add_argument("link_id")

    _add_webhook_endpoint_parser(nouns)
    operations = nouns.add_parser("operations", help="queues and the last nights' statement runs")
    operations.add_argument("--nights", type=int, default=7, help="how many days back, today first (1 to 31)")
    order = nouns.add_parser("order", help="orders waiting for a decision: list, get, review").add_subparsers(
        dest="verb", required=True
    )
    order.add_parser("list").add_argument("--status", choices=["review", "unattributed"], required=True)
    for verb in ("get", "review"):
        parser = order.add_parser(verb)
        parser.add_argument("partner_id")
        parser.add_argument("order_id")
        if verb == "review":
            parser.add_argument("--decision", choices=["approve", "reject"], required=True)
            parser.add_argument("--note", required=True)
            parser.add_argument("--member-id", help="approving an unattributed order: the member to credit")

    release = nouns.add_parser(
        "release", help="move matured pending points to available (the nightly job's step)"
    )
    release.add_argument("--as-of", help="a date (end of that day, UTC) or an RFC 3339 time; default now")
    release.add_argument("--lookback-days", type=int, default=35, help="days of releases due to catch up")
    spend = nouns.add_parser("spend", help="spends: refund").add_subparsers(dest="verb", required=True)
    spend.add_parser("refund", help="give a spend's points back, once").add_argument("entry_id")

    _add_promo_parser(nouns)

    _add_statements_parser(nouns)

    sign = nouns.add_parser("sign-postback", help=f"print signature headers for a body (${SECRET_VARIABLE})")
    sign.add_argument("--file", type=Path, required=True, help="the exact body bytes to send")
    sign.add_argument("--id", help="the webhook-id (default: a new one)")


def _add_statements_parser(nouns: Any) -> None:
    statements = nouns.add_parser(
        "statements", help="the nightly statements: run (or re-run) a day, read a period's run"
    ).add_subparsers(dest="verb", required=True)
    run = statements.add_parser(
        "run", help="close a day and wait for its manifest (exit 1 if it does not reconcile)"
    )
    run.add_argument("--date", help="the day to close, YYYY-MM-DD (default: yesterday, UTC)")
    run.add_argument("--no-wait", dest="wait", action="store_false", help="return once the shards are queued")
    run.add_argument("--timeout", type=float, default=900, help="seconds to wait for the manifest")
    status = statements.add_parser("status", help="a day's or a month's progress and manifest")
    status.add_argument("period", help="YYYY-MM-DD or YYYY-MM")
    for parser in (run, status):
        parser.add_argument(
            "--function-name",
            default="StatementsFunction",
            help="its name in AWS (default: the local stack's)",
        )


def _add_promo_parser(nouns: Any) -> None:
    promo = nouns.add_parser("promo", help="promo campaigns, codes, revocations").add_subparsers(
        dest="verb", required=True
    )
    campaign = promo.add_parser("campaign", help="create, get, pause or resume a campaign")
    campaign.add_argument("action", choices=["create", "get", "pause", "resume"])
    campaign.add_argument("campaign_id", nargs="?")
    campaign.add_argument("--file", type=Path, help="create: the campaign as JSON")
    code = promo.add_parser("code", help="add one shared code to a campaign")
    code.add_argument("campaign_id")
    code.add_argument("code")
    code.add_argument("--max-redemptions", type=int)
    generate = promo.add_parser("generate", help="a batch of unique codes, written to a CSV")
    generate.add_argument("campaign_id")
    generate.add_argument("--count", type=int, required=True)
    generate.add_argument("--prefix")
    generate.add_argument("--max-redemptions", type=int, default=1, help="uses per code (default 1)")
    generate.add_argument("--out", type=Path, required=True, help="the CSV to write")
    revoke = promo.add_parser("revoke", help="take a redemption's points back, once")
    revoke.add_argument("redemption_id")
    revoke.add_argument("--reason", required=True)


def run(args: argparse.Namespace) -> int:
    """Print the API's answer; exit 0 on success, 1 when the API refused, 2 for a local problem."""
    if args.noun == "sign-postback":
        return sign_postback(args)
    try:
        client = AdminClient(_api_url(args), args.region)
        answer = _NOUNS[args.noun](args, client)
    except AdminError as error:
        print(f"partnerpoints admin: {error}", file=sys.stderr)
        return 2
    if args.noun == "member-link" and answer.status < 400:
        print(answer.json()["url"])
        return 0
    text = json.dumps(answer.json(), indent=2) if answer.body else ""
    print(text, file=sys.stdout if answer.status < 400 else sys.stderr)
    return 0 if answer.status < 400 else 1
