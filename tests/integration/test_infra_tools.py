"""The developer tools fail clearly: a template that does not translate, a missing DynamoDB Local."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from partnerpoints.exceptions import Unauthenticated
from partnerpoints.logic.postbacks import verify_signature
from partnerpoints_infra import cli, dynamodb_local
from partnerpoints_infra.template import TEMPLATE_PATH, TemplateError, translate_template


def test_translate_command_writes_plain_cloudformation(tmp_path: Path) -> None:
    out = tmp_path / "translated.json"
    assert cli.main(["translate", str(out)]) == 0
    translated = json.loads(out.read_text())
    assert "Transform" not in translated
    assert translated["Resources"]["HealthFunction"]["Type"] == "AWS::Lambda::Function"


def test_a_template_that_does_not_translate_names_the_problem(tmp_path: Path) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text(TEMPLATE_PATH.read_text().replace("CodeUri: functions/health/", ""))
    with pytest.raises(TemplateError, match="HealthFunction"):
        translate_template(broken)


def test_missing_dynamodb_local_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamodb_local, "PACKAGE_DIR", tmp_path)
    with pytest.raises(dynamodb_local.DynamoDBLocalUnavailable, match="npm ci --prefix infra"):
        dynamodb_local.find_jar()


def test_missing_java_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda _: None)
    with pytest.raises(dynamodb_local.DynamoDBLocalUnavailable, match="java"):
        dynamodb_local.find_jar()


def test_sign_postback_prints_headers_the_postback_function_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "whsec_cGFydG5lcnBvaW50cy1zYW1wbGUtc2VjcmV0LTMyYiE="
    body = tmp_path / "body.json"
    body.write_bytes(b'{"order_id": "A-1", "status": "pending"}')
    monkeypatch.delenv("PARTNERPOINTS_WEBHOOK_SECRET", raising=False)
    assert cli.main(["admin", "sign-postback", "--file", str(body)]) == 2
    assert "PARTNERPOINTS_WEBHOOK_SECRET" in capsys.readouterr().err

    monkeypatch.setenv("PARTNERPOINTS_WEBHOOK_SECRET", secret)
    assert cli.main(["admin", "sign-postback", "--file", str(body), "--id", "msg_1"]) == 0
    out = capsys.readouterr().out
    assert secret not in out
    headers = dict(line.split(": ", 1) for line in out.splitlines())
    assert headers["webhook-id"] == "msg_1"
    assert verify_signature([secret], body.read_bytes(), headers) == "msg_1"
    with pytest.raises(Unauthenticated):
        verify_signature([secret], body.read_bytes() + b" ", headers)
