"""The demo as `make demo` runs it: the local stack started, the scenario played over HTTP, a summary
that must reconcile. In-process on moto, and as a command with DynamoDB Local."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from partnerpoints_infra import cli
from partnerpoints_infra.template import PROJECT_ROOT


def check_scenario(output: str) -> None:
    lines = [" ".join(line.split()) for line in output.splitlines()]
    assert "POST adjustment WELCOME-alice +1200 main for alice -> 200 duplicate" in lines
    assert "POST adjustment CORR-78 -5000 main for bob -> 409 insufficient_points" in lines
    assert "GET /members/bob/balance as alice -> 403 forbidden" in lines
    assert "GET /members/alice/balance without a token -> 401 Unauthorized" in lines
    assert "POST the same partner again -> 409 already_exists" in lines
    # 1200 welcome + 2 of A-1001 released, 1 clawed back by its partial refund; A-1002's 45 pending.
    assert "alice main 1201 45 5 matches" in lines
    assert "POST /admin/releases as of 31 days from now -> 200 1 order, 2 points now available" in lines
    assert any(
        line.startswith("GET alice's balance after the pending order -> pending 2, available 0")
        for line in lines
    )
    assert any(
        line.startswith("GET alice's balance after the partial refund -> pending 0, available 1")
        for line in lines
    )
    assert any(
        line.startswith("GET alice's balance after the approval -> pending 45, available 1") for line in lines
    )
    assert "order points pending shown after the postback, released after the hold, refund reversed" in lines
    # A-1001 released 2 and its partial refund took 1 back: 1 of alice's available points is its.
    assert (
        "GET alice's orders -> 200 A-1002 pending (45 pending, 0 available), "
        "A-1001 refunded (0 pending, 1 available)"
    ) in lines
    assert "GET alice's clicks -> 200 1 clicks, 1 followed by an order" in lines
    assert any(line.startswith("GET /partner/analytics/rfm with shop-a's key -> 200") for line in lines)
    assert "bob main 500 0 2 matches" in lines
    assert "operator adjustments 3 posted / 1 duplicate / 2 refused / 1 invalid" in lines
    assert "POST adjustment PROMO-LAUNCH-alice +250 promo for alice -> 422 invalid_request" in lines
    # Main 1201 + 500; promo: alice 250 - 100 spent at shop-a, bob 250 from a generated code.
    assert "points pending / available 45 / 2101" in lines
    assert "POST promo code 'winter 25' as alice (typed loosely) -> 201 promo balance 250" in lines
    assert (
        "POST promo code 'WINTER25' as alice (again: once per member) -> 409 promo_code_already_redeemed"
        in lines
    )
    assert "POST spend 100 promo points at shop-b as alice -> 409 promo_points_restricted" in lines
    assert "POST spend 100 promo points at shop-a as alice -> 201 promo left 150" in lines
    assert any(
        line.startswith("POST an 11th wrong code within the hour as bob -> 429 Retry-After") for line in lines
    )
    assert "alice promo 150 0 2 matches" in lines
    assert "bob promo 250 0 1 matches" in lines
    assert any(line.startswith("promo") and "codes generated: 20" in line for line in lines)
    assert "reconciliation every balance equals the sum of its entries" in lines
    assert "POST a link to shop-a.example.evil.test -> 422 refused: not an allowed domain" in lines
    assert "partners / links configured 1 / 1 (1 destination refused: not an allowed domain)" in lines
    assert "GET with a 101-character sub1 -> 400 text/html; charset=utf-8" in lines
    assert "GET from a blocked referrer -> 302 https://www.shop-a.example/" in lines
    assert "POST order A-1001 pending (alice's click) -> 202 pending v1 alice" in lines
    assert "POST the same delivery again (a retry) -> 200 pending v1 alice duplicate" in lines
    assert "POST A-1001 with the amount changed after signing -> 401 invalid_signature" in lines
    assert "POST order A-1009 signed 6 minutes ago -> 401 invalid_signature" in lines
    assert "POST A-1001 rejected (after approval) -> 409 impossible_transition" in lines
    assert "POST A-1001 pending again, late (a new message) -> 200 refunded v3 alice duplicate" in lines
    assert "GET orders waiting for review -> 200 A-1002 (amount_over_review_threshold)" in lines
    assert "postbacks (accepted / duplicate / refused) 5 / 2 / 3" in lines
    assert "orders by status pending: 2, refunded: 1" in lines
    clicks = "clicks (total / unique / bot / blocked) 5 / 2 / 1 / 1 (1 attributed to a member; the repeat"
    assert any(line.startswith(clicks) for line in lines)
    today = datetime.now(UTC).date().isoformat()
    statements = (
        f"statements written 2 member / 1 partner statements for {today}, 26 objects; reconciliation clean; "
        "re-run byte-identical"
    )
    assert statements in lines
    assert any(
        line.startswith("GET /partner/statements with shop-a's key -> 200 ") and today in line
        for line in lines
    )
    assert "GET /partner/statements with a forged key -> 401 invalid_api_key" in lines


def test_demo_on_moto(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["demo", "--state-dir", str(tmp_path)]) == 0
    check_scenario(capsys.readouterr().out)
    assert "START RequestId" in (tmp_path / "demo-functions.log").read_text()
    # The statements, as files a member or finance can open.
    folder = tmp_path / "buckets" / "StatementsBucket" / "statements" / datetime.now(UTC).date().isoformat()
    assert json.loads((folder / "manifest.json").read_text())["reconciliation"]["clean"] is True
    assert (folder / "members" / "alice.html").read_text().startswith("<!doctype html>")
    assert (folder / "partners" / "shop-a.csv").read_text().startswith("record,id,status")


def test_demo_on_dynamodb_local_in_its_own_process(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "partnerpoints_infra.cli",
            "demo",
            "--dynamodb-local",
            "--state-dir",
            str(tmp_path),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    check_scenario(run.stdout)


def test_demo_under_faults_ends_reconciled(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """One DynamoDB call in ten fails as DynamoDB fails them; the program retries, redelivers and
    answers 503s, the demo's client retries them, and every balance still equals its entries."""
    assert cli.main(["demo", "--faults", "0.1", "--state-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    faults = next(line for line in out.splitlines() if line.strip().startswith("faults:"))
    assert int(faults.split()[1]) > 0, faults  # "faults: N injected in M DynamoDB calls (...)"
    assert "reconciliation clean; re-run byte-identical" in out
    assert "every balance equals the sum of its entries" in out
    assert " 500: " not in out  # no answer to a client was a 500
