"""template.yaml served by `partnerpoints local serve`, driven over real HTTP and the Lambda Invoke API,
on moto and on DynamoDB Local."""

from __future__ import annotations

import base64
import csv
import json
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import Credentials
from standardwebhooks.webhooks import Webhook

from partnerpoints import __version__
from partnerpoints_infra import cli
from partnerpoints_infra.http_client import call
from partnerpoints_infra.local.authorizers import create_token
from partnerpoints_infra.local.commands import jwt_authorizers
from partnerpoints_infra.postback_signing import signature_headers
from partnerpoints_infra.template import PROJECT_ROOT, TEMPLATE_PATH, load_sam_template, resources_of_type
from tests.e2e.conftest import ServedStack
from tests.webhook_receiver import webhook_receiver

OPERATOR = Credentials("AKIDLOCALOPERATOR", "local-operator-secret")
EVENTS = sorted((PROJECT_ROOT / "events").glob("*/*.json"))
EVENT_DIR = PROJECT_ROOT / "events/AdminApiFunction"


def member_token(member_id: str) -> dict[str, str]:
    authorizer = jwt_authorizers(TEMPLATE_PATH)["MemberAuthorizer"]
    return {"authorization": f"Bearer {create_token(authorizer, member_id, [])}"}


def new_member() -> str:
    return f"m-{uuid.uuid4().hex[:12]}"


def adjust(
    stack: ServedStack, member: str, points: int, adjustment_id: str | None = None
) -> tuple[int, dict[str, Any]]:
    answer = call(
        "POST",
        f"{stack.http_url}/admin/members/{member}/adjustments",
        {
            "adjustment_id": adjustment_id or uuid.uuid4().hex,
            "account": "main",
            "points": points,
            "reason": "e2e adjustment",
        },
        sign_with=OPERATOR,
    )
    return answer.status, answer.json()


def test_health_is_served(app_stack: ServedStack) -> None:
    answer = call("GET", f"{app_stack.http_url}/health")
    assert answer.status == 200
    assert answer.json() == {"status": "ok", "version": __version__}
    assert answer.headers["content-type"] == "application/json"


def test_a_route_not_in_the_template_is_404_as_in_aws(app_stack: ServedStack) -> None:
    answer = call("GET", f"{app_stack.http_url}/no/such/route")
    assert (answer.status, answer.json()) == (404, {"message": "Not Found"})
    # The method is part of the route: POST /health is not declared either.
    assert call("POST", f"{app_stack.http_url}/health", {}).status == 404


def test_member_routes_need_a_valid_token(app_stack: ServedStack) -> None:
    url = f"{app_stack.http_url}/members/alice/balance"
    assert call("GET", url).status == 401
    assert call("GET", url, headers={"authorization": "Bearer not-a-jwt"}).status == 401
    forged = member_token("alice")["authorization"][:-4] + "AAAA"
    assert call("GET", url, headers={"authorization": forged}).status == 401


def test_a_token_printed_by_the_command_is_accepted(app_stack: ServedStack) -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "partnerpoints_infra.cli", "local", "token", "carol"],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    ).stdout.strip()
    answer = call(
        "GET", f"{app_stack.http_url}/members/carol/balance", headers={"authorization": f"Bearer {printed}"}
    )
    assert answer.status == 200
    assert answer.json()["member_id"] == "carol"


def test_a_member_sees_only_their_own_accounts(app_stack: ServedStack) -> None:
    answer = call("GET", f"{app_stack.http_url}/members/bob/balance", headers=member_token("alice"))
    assert answer.status == 403
    assert answer.json()["error"]["code"] == "forbidden"


def test_operator_adjustments_move_points_once(app_stack: ServedStack) -> None:
    member = new_member()
    status, first = adjust(app_stack, member, 700, adjustment_id="T-1")
    assert status == 201
    # The operator is kept with the entry for audit, never in what its member reads.
    assert first["entry"]["description"] == "e2e adjustment"
    assert "arn:" not in json.dumps(first)
    status, again = adjust(app_stack, member, 700, adjustment_id="T-1")
    assert (status, again["duplicate"], again["entry"]) == (200, True, first["entry"])
    status, refused = adjust(app_stack, member, -5000)
    assert status == 409
    assert refused["error"]["code"] == "insufficient_points"

    balances = call(
        "GET", f"{app_stack.http_url}/members/{member}/balance", headers=member_token(member)
    ).json()
    assert balances["accounts"]["main"]["available"] == 700


def test_concurrent_retries_of_one_spend_key_answer_the_first_receipt_or_409(app_stack: ServedStack) -> None:
    """Twenty clients retrying one Idempotency-Key at once, each until it has an answer, as an app does:
    every answer is the first receipt (201) or 409 request_in_progress, never a 5xx; points move once."""
    member = new_member()
    assert adjust(app_stack, member, 100)[0] == 201
    partner = {
        **json.loads(json.loads((EVENT_DIR / "post-partner.json").read_text())["body"]),
        "partner_id": f"shop-{uuid.uuid4().hex[:8]}",
    }
    assert call("POST", f"{app_stack.http_url}/admin/partners", partner, sign_with=OPERATOR).status == 201
    url = f"{app_stack.http_url}/members/{member}/spend"
    headers = {**member_token(member), "idempotency-key": f"k-{uuid.uuid4().hex}"}
    body = {"partner_id": partner["partner_id"], "points": 30, "reference": "basket 1"}

    def client(_: int) -> list[tuple[int, str]]:
        seen = []
        for _attempt in range(200):  # bounded: the first spend takes moments
            answer = call("POST", url, body, headers=headers)
            payload = answer.json()
            seen.append((answer.status, payload.get("entry_id") or payload["error"]["code"]))
            if answer.status != 409:
                break
            time.sleep(0.05)
        return seen

    with ThreadPoolExecutor(20) as pool:
        answers = [answer for seen in pool.map(client, range(20)) for answer in seen]
    assert {status for status, _ in answers} <= {201, 409}
    assert {what for status, what in answers if status == 409} <= {"request_in_progress"}
    receipts = [what for status, what in answers if status == 201]
    assert len(receipts) == 20  # every client ended with the receipt
    assert set(receipts) == {f"spend#{member}#{headers['idempotency-key']}"}
    balance = call(
        "GET", f"{app_stack.http_url}/members/{member}/balance", headers=member_token(member)
    ).json()
    assert balance["accounts"]["main"]["available"] == 70


def test_invalid_adjustments_are_422_and_write_nothing(app_stack: ServedStack) -> None:
    member = new_member()
    answer = call(
        "POST",
        f"{app_stack.http_url}/admin/members/{member}/adjustments",
        raw=(PROJECT_ROOT / "events/AdminLedgerFunction/post-invalid-body.json").read_bytes(),
        headers={"content-type": "application/json"},
    )
    # The whole event file is not a valid adjustment body: every field is named.
    assert answer.status == 422
    paths = {detail["path"] for detail in answer.json()["error"]["details"]}
    assert {"body.adjustment_id", "body.account", "body.points", "body.reason"} <= paths
    balances = call(
        "GET", f"{app_stack.http_url}/members/{member}/balance", headers=member_token(member)
    ).json()
    assert balances["accounts"]["main"]["available"] == 0


def test_activity_pages_through_every_entry_and_sums_to_the_balance(app_stack: ServedStack) -> None:
    member = new_member()
    for points in (100, 250, -50, 300, -75):
        assert adjust(app_stack, member, points)[0] == 201
    url = f"{app_stack.http_url}/members/{member}/activity?limit=2"
    entries, cursor = [], None
    while True:
        page = call("GET", url + (f"&cursor={cursor}" if cursor else ""), headers=member_token(member)).json()
        entries += page["entries"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(entries) == 5
    assert sum(entry["points"] for entry in entries) == 525
    assert call("GET", url.replace("limit=2", "limit=0"), headers=member_token(member)).status == 422


def test_the_lambda_invoke_api_runs_functions_with_an_event_file(app_stack: ServedStack) -> None:
    client = app_stack.lambda_client()
    event = (PROJECT_ROOT / "events/HealthFunction/get-health.json").read_bytes()
    answer = client.invoke(FunctionName="HealthFunction", Payload=event, LogType="Tail")
    assert "FunctionError" not in answer
    assert json.loads(json.loads(answer["Payload"].read())["body"])["status"] == "ok"
    assert "REPORT RequestId:" in base64.b64decode(answer["LogResult"]).decode()
    names = {function["FunctionName"] for function in client.list_functions()["Functions"]}
    assert names == set(resources_of_type(load_sam_template(), "AWS::Serverless::Function"))
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="NoSuchFunction", Payload=b"{}")


@pytest.mark.parametrize("event_file", EVENTS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_local_invoke_runs_every_event_file_against_the_running_stack(
    app_stack: ServedStack, event_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["local", "invoke", event_file.parent.name, "-e", str(event_file)]
    # Samples whose case is a function error, as in Lambda: an unknown batch, a day still to come.
    errors = {"unknown-batch": "CodeBatchNotFound", "future-day": "InvalidField"}
    expected_error = next((error for marker, error in errors.items() if marker in event_file.name), None)
    assert cli.main([*arguments, "--state-dir", str(app_stack.state_dir)]) == (1 if expected_error else 0)
    out, err = capsys.readouterr()
    assert "on the running stack" in err
    answer = json.loads(out)
    if expected_error:
        assert answer["errorType"] == expected_error
    elif "batchItemFailures" in answer:  # a batch: only the record that is not an order / a task fails
        failing = any(
            marker in event_file.name for marker in ("not-an-order", "one-malformed", "another-table")
        )
        assert len(answer["batchItemFailures"]) == failing
    elif "statusCode" in answer:
        assert answer["statusCode"] < 500
    else:  # an invocation's own answer (the statements run)
        assert "errorType" not in answer
    assert "START RequestId:" in err  # the function's log tail


def new_partner_file(directory: Path) -> tuple[str, Path]:
    """The sample partner under a fresh id (the stack is shared by the module's tests)."""
    partner_id = f"shop-{uuid.uuid4().hex[:8]}"
    partner = {
        **json.loads(json.loads((EVENT_DIR / "post-partner.json").read_text())["body"]),
        "partner_id": partner_id,
    }
    partner_file = directory / "partner.json"
    partner_file.write_text(json.dumps(partner))
    return partner_id, partner_file


def test_the_admin_command_manages_partners_and_links_over_the_api(
    app_stack: ServedStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    partner_id, partner_file = new_partner_file(tmp_path)
    admin = ["admin", "--state-dir", str(app_stack.state_dir)]

    assert cli.main([*admin, "partner", "create", "--file", str(partner_file)]) == 0
    assert json.loads(capsys.readouterr().out)["partner_id"] == partner_id
    assert cli.main([*admin, "partner", "create", "--file", str(partner_file)]) == 1
    assert "already_exists" in capsys.readouterr().err

    destination = "https://www.shop-a.example/p?cid={click_id}"
    assert cli.main([*admin, "link", "create", "--partner", partner_id, "--destination", destination]) == 0
    link = json.loads(capsys.readouterr().out)
    assert link["url"] == f"{app_stack.http_url}/c/{link['link_id']}"
    assert cli.main([*admin, "link", "update", link["link_id"], "--status", "paused"]) == 0
    paused = json.loads(capsys.readouterr().out)
    assert (paused["status"], paused["destination"]) == ("paused", destination)

    off_list = "https://evil.test/?cid={click_id}"
    assert cli.main([*admin, "link", "create", "--partner", partner_id, "--destination", off_list]) == 1
    assert "body.destination" in capsys.readouterr().err
    assert cli.main([*admin, "partner", "get", "no-such-partner"]) == 1
    assert "partner_not_found" in capsys.readouterr().err
    assert cli.main([*admin, "partner", "list"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert partner_id in [partner["partner_id"] for partner in listed["partners"]]
    assert listed["next_cursor"] is None


def test_a_shopper_follows_a_member_link_over_http(
    app_stack: ServedStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    partner_id, partner_file = new_partner_file(tmp_path)
    admin = ["admin", "--state-dir", str(app_stack.state_dir)]
    assert cli.main([*admin, "partner", "create", "--file", str(partner_file)]) == 0
    capsys.readouterr()
    destination = "https://www.shop-a.example/p?cid={click_id}&s={sub1}"
    assert cli.main([*admin, "link", "create", "--partner", partner_id, "--destination", destination]) == 0
    link_id = json.loads(capsys.readouterr().out)["link_id"]
    assert cli.main([*admin, "member-link", "m-42", link_id]) == 0
    member_url = capsys.readouterr().out.strip()
    assert member_url.startswith(f"{app_stack.http_url}/c/{link_id}?m=m-42.")

    browser = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"}
    answer = call("GET", f"{member_url}&sub1=e2e%2Fhome", headers=browser)
    assert answer.status == 302
    assert answer.headers["Cache-Control"] == "no-store"
    location = answer.headers["Location"]
    assert location.startswith("https://www.shop-a.example/p?cid=")
    assert location.endswith("&s=e2e%2Fhome")

    preview = call("HEAD", f"{app_stack.http_url}/c/{link_id}", headers=browser)
    assert preview.status == 302
    assert preview.headers["Location"] != location  # a bot's click is its own, never the member's
    missing = call("GET", f"{app_stack.http_url}/c/no-such-link", headers=browser)
    assert missing.status == 404
    assert "text/html" in missing.headers["Content-Type"]


def test_the_admin_command_generates_a_batch_of_codes_into_a_csv(
    app_stack: ServedStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = ["admin", "--state-dir", str(app_stack.state_dir)]
    campaign_id = f"E2E-{uuid.uuid4().hex[:8]}"
    campaign = json.loads(
        json.loads((PROJECT_ROOT / "events/AdminPromoFunction/post-campaign.json").read_text())["body"]
    )
    campaign.update(campaign_id=campaign_id, valid_from="2020-01-01T00:00:00Z")
    campaign_file = tmp_path / "campaign.json"
    campaign_file.write_text(json.dumps(campaign))
    assert cli.main([*admin, "promo", "campaign", "create", "--file", str(campaign_file)]) == 0
    capsys.readouterr()

    # The batch is written by PromoCodeBatchFunction, invoked asynchronously through the Lambda API.
    out = tmp_path / "codes.csv"
    generate = [
        *admin,
        "promo",
        "generate",
        campaign_id,
        "--count",
        "150",
        "--prefix",
        "e2e",
        "--out",
        str(out),
    ]
    assert cli.main(generate) == 0
    err = capsys.readouterr().err
    assert "150/150" in err  # tqdm's progress bar
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == len({row["code"] for row in rows}) == 150
    assert all(row["code"].startswith("E2E-") and row["campaign_id"] == campaign_id for row in rows)

    assert cli.main([*admin, "promo", "campaign", "pause", campaign_id]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "paused"
    assert cli.main([*admin, "promo", "generate", "NO-SUCH", "--count", "5", "--out", str(out)]) == 1
    assert "campaign_not_found" in capsys.readouterr().err
    assert cli.main([*admin, "promo", "revoke", "rdm-0000000000000000", "--reason", "test"]) == 1
    assert "redemption_not_found" in capsys.readouterr().err


def test_the_admin_command_closes_a_day_and_the_statements_are_files(
    app_stack: ServedStack, capsys: pytest.CaptureFixture[str]
) -> None:
    """`partnerpoints admin statements run` through the Lambda API: the served stack's queue pump runs
    the shards, the manifest reconciles, and the bucket mirror leaves the objects as files."""
    admin = ["admin", "--state-dir", str(app_stack.state_dir), "statements"]
    day = (datetime.now(UTC) - timedelta(days=400)).date().isoformat()  # a quiet day of its own
    assert cli.main([*admin, "run", "--date", day, "--timeout", "60"]) == 0
    manifests = json.loads(capsys.readouterr().out)
    assert manifests[day]["shards"] == 16
    assert manifests[day]["reconciliation"] == {"accounts_checked": 0, "mismatches": [], "clean": True}
    assert cli.main([*admin, "status", day]) == 0
    assert json.loads(capsys.readouterr().out)["manifest"] == manifests[day]
    mirrored = app_stack.state_dir / "buckets" / "StatementsBucket" / "statements" / day / "manifest.json"
    deadline = time.monotonic() + 10
    while not mirrored.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert json.loads(mirrored.read_text()) == manifests[day]
    assert cli.main([*admin, "run", "--date", "2999-01-01"]) == 1
    assert "still to come" in capsys.readouterr().err


def test_the_admin_command_shows_the_queues_and_the_last_nights(
    app_stack: ServedStack, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = ["admin", "--state-dir", str(app_stack.state_dir), "operations"]
    assert cli.main([*admin, "--nights", "2"]) == 0
    overview = json.loads(capsys.readouterr().out)
    assert len(overview["nights"]) == 2
    assert overview["nights"][0]["day"] > overview["nights"][1]["day"]  # today first
    assert set(overview["dead_letter_queue"]) == {"messages", "in_flight"}
    assert cli.main([*admin, "--nights", "40"]) == 1
    assert "nights" in capsys.readouterr().err


def test_the_admin_command_manages_the_programs_webhook_endpoints(
    app_stack: ServedStack, capsys: pytest.CaptureFixture[str]
) -> None:
    """The served stack accepts receivers on this machine (WebhookPrivateTargets=allow-loopback) and
    still refuses every other private address; a test message reaches the receiver, signed."""
    admin = ["admin", "--state-dir", str(app_stack.state_dir), "webhook-endpoint"]
    with webhook_receiver() as receiver:
        assert cli.main([*admin, "create", "--url", receiver.url, "--event-type", "points.available"]) == 0
        created = json.loads(capsys.readouterr().out)
        endpoint_id = created["endpoint_id"]
        assert cli.main([*admin, "update", endpoint_id, "--enabled", "no"]) == 0
        updated = json.loads(capsys.readouterr().out)
        assert (updated["url"], updated["event_types"], updated["disabled_reason"]) == (
            receiver.url,
            ["points.available"],
            "by_owner",
        )
        assert cli.main([*admin, "rotate-secret", endpoint_id, "--grace-hours", "1"]) == 0
        assert json.loads(capsys.readouterr().out)["secret"] != created["secret"]
        assert cli.main([*admin, "test", endpoint_id]) == 0  # a disabled endpoint can be tested
        tested = json.loads(capsys.readouterr().out)
    assert (tested["outcome"], tested["status_code"]) == ("delivered", 200)
    (got,) = receiver.received
    assert Webhook(created["secret"]).verify(got.body, got.headers)["type"] == "webhook.test"
    assert cli.main([*admin, "list"]) == 0
    listed = capsys.readouterr().out
    assert endpoint_id in listed
    assert created["secret"] not in listed
    assert cli.main([*admin, "delete", endpoint_id]) == 0
    capsys.readouterr()
    assert cli.main([*admin, "get", endpoint_id]) == 1
    assert "webhook_endpoint_not_found" in capsys.readouterr().err
    assert cli.main([*admin, "create", "--url", "http://10.0.0.8/receiver"]) == 1
    assert "private address" in capsys.readouterr().err


def test_an_order_stamped_seconds_before_its_click_by_a_slow_clock_accrues_for_the_member(
    app_stack: ServedStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A partner platform stamping to the second, its clock 3 s behind ours: the order is the click's."""
    partner_id, partner_file = new_partner_file(tmp_path)
    # The order comes moments after the click here; the fraud review's speed check is not this test's.
    partner_file.write_text(json.dumps({**json.loads(partner_file.read_text()), "min_seconds_to_order": 0}))
    admin = ["admin", "--state-dir", str(app_stack.state_dir)]
    assert cli.main([*admin, "partner", "create", "--file", str(partner_file)]) == 0
    secret = json.loads(capsys.readouterr().out)["webhook_secret"]
    destination = "https://www.shop-a.example/p?cid={click_id}"
    assert cli.main([*admin, "link", "create", "--partner", partner_id, "--destination", destination]) == 0
    link_id = json.loads(capsys.readouterr().out)["link_id"]
    member = new_member()
    assert cli.main([*admin, "member-link", member, link_id]) == 0
    member_url = capsys.readouterr().out.strip()

    browser = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"}
    before_click = datetime.now(UTC)
    location = call("GET", member_url, headers=browser).headers["Location"]
    click_id = location.split("cid=")[1]
    stamped = (before_click - timedelta(seconds=3)).replace(microsecond=0)  # >= 3 s before the click
    order = {
        "order_id": "SKEW-1",
        "click_id": click_id,
        "status": "pending",
        "amount": "120.00",
        "currency": "EUR",
        "occurred_at": stamped.isoformat(),
    }
    raw = json.dumps(order).encode()
    answer = call(
        "POST",
        f"{app_stack.http_url}/postbacks/{partner_id}",
        raw=raw,
        headers=signature_headers(secret, raw),
    )
    assert answer.status == 202, answer.json()
    assert {key: answer.json()[key] for key in ("referred", "earns_points", "member_id", "reason")} == {
        "referred": True,
        "earns_points": True,
        "member_id": member,
        "reason": None,
    }
    balance_url = f"{app_stack.http_url}/members/{member}/balance"
    for _ in range(100):  # the Orders stream reaches the accrual function within moments
        pending = call("GET", balance_url, headers=member_token(member)).json()["accounts"]["main"]["pending"]
        if pending:
            break
        time.sleep(0.1)
    assert pending == 6  # 5 % of 120.00 EUR, the sample partner's rate
