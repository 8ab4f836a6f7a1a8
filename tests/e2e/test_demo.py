"""The demo as `make demo` runs it: the whole local stack and a story that must reconcile."""

from __future__ import annotations

import subprocess
import sys

import pytest

from partnerpoints_infra import cli
from partnerpoints_infra.template import PROJECT_ROOT


def check_story(output: str) -> None:
    lines = [" ".join(line.split()) for line in output.splitlines()]
    assert "alice main 120 0 420 matches" in lines
    assert "alice promo 250 0 0 matches" in lines
    assert "bob main -600 0 800 matches" in lines  # a clawback after spending is shown, not hidden
    assert "-> duplicate: first result returned, nothing changed" in lines
    assert "-> refused: alice's main account has 120 available points; this spend needs 500" in lines
    assert lines[-1] == "reconciliation: every balance equals the sum of its entries"


def test_demo_on_moto(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo"]) == 0
    check_story(capsys.readouterr().out)


def test_demo_on_dynamodb_local_in_its_own_process() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "partnerpoints_infra.cli", "demo", "--dynamodb-local"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    check_story(run.stdout)
