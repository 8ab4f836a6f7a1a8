"""`partnerpoints local invoke` with no stack running: every file in events/ runs in-process, on the
template's tables in moto, and answers as its case says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from partnerpoints_infra import cli
from partnerpoints_infra.template import PROJECT_ROOT

# The answer each event file's case gets on a fresh stack; a new event file must say what it expects.
# (A link's partner does not exist on a fresh stack: tests/integration/test_admin_api.py seeds it.)
EXPECTED_STATUS = {
    "AdminApiFunction/post-partner.json": 201,
    "AdminApiFunction/post-partner-invalid.json": 422,
    "AdminApiFunction/get-partner-unknown.json": 404,
    "AdminApiFunction/get-partners.json": 200,
    "AdminApiFunction/get-operations.json": 200,
    "AdminApiFunction/post-link.json": 422,
    "AdminApiFunction/post-link-host-not-allowed.json": 422,
    "AdminApiFunction/put-link-pause.json": 404,
    "AdminApiFunction/post-member-link.json": 404,
    "AdminApiFunction/post-partner-api-key.json": 404,
    "AdminApiFunction/get-partner-api-keys.json": 404,
    "AdminApiFunction/delete-partner-api-key.json": 404,
    # No partner, so no key and no statement, on a fresh stack.
    "PartnerReportingFunction/get-my-statements.json": 404,
    "WebhookEndpointsFunction/post-program-endpoint.json": 201,
    "WebhookEndpointsFunction/post-program-endpoint-metadata-address.json": 422,
    "WebhookEndpointsFunction/get-program-endpoints.json": 200,
    "WebhookEndpointsFunction/put-program-endpoint-unknown.json": 404,
    "WebhookEndpointsFunction/delete-program-endpoint-unknown.json": 404,
    "WebhookEndpointsFunction/post-program-endpoint-rotate-unknown.json": 404,
    "WebhookEndpointsFunction/post-program-endpoint-test-unknown.json": 404,
    "WebhookEndpointsFunction/post-my-endpoint.json": 201,
    "WebhookEndpointsFunction/post-my-endpoint-points-event.json": 422,
    "WebhookEndpointsFunction/get-my-endpoints.json": 200,
    "WebhookEndpointsFunction/get-my-endpoint-unknown.json": 404,
    "PartnerReportingFunction/get-my-statement-csv.json": 404,
    "PartnerReportingFunction/get-my-statements-revoked-key.json": 401,
    "PartnerReportingFunction/get-partner-statements.json": 404,
    "PartnerReportingFunction/get-my-orders.json": 404,
    "PartnerReportingFunction/get-my-orders-range-backwards.json": 422,
    "PartnerReportingFunction/get-my-summary.json": 404,
    "PartnerReportingFunction/get-my-summary-partner-days.json": 404,
    "PartnerReportingFunction/get-my-orders-export.json": 404,
    "PartnerReportingFunction/get-my-summary-range-too-long.json": 422,
    "PartnerReportingFunction/get-my-links.json": 404,
    "PartnerReportingFunction/get-my-link-sub-ids.json": 404,
    "PartnerReportingFunction/get-my-rfm.json": 404,
    "PartnerReportingFunction/get-my-rfm-segment.json": 404,
    "PartnerReportingFunction/get-my-returns.json": 404,
    "PartnerReportingFunction/get-partner-rfm.json": 404,
    # The authorizer lets the request through and tells the route why the key is refused.
    "PartnerKeyAuthorizerFunction/authorize-partner-key.json": {
        "isAuthorized": True,
        "context": {"refusal": "invalid_api_key"},
    },
    # On a fresh stack the link does not exist yet; the sub id check comes before the lookup.
    "ClickRedirectFunction/get-click.json": 404,
    "ClickRedirectFunction/head-click-link-preview-bot.json": 404,
    "ClickRedirectFunction/get-click-sub-id-too-long.json": 400,
    # shop-a does not exist on a fresh stack.
    "PostbackFunction/post-order-pending.json": 404,
    "PostbackFunction/post-order-approved.json": 404,
    "PostbackFunction/post-order-refunded-partial.json": 404,
    "PostbackFunction/post-order-tampered.json": 404,
    "PostbackFunction/post-order-base64-body.json": 404,
    "PostbackFunction/get-order-pending-with-token.json": 404,
    "HealthFunction/get-health.json": 200,
    "PortalFunction/get-portal.json": 200,
    "PortalFunction/get-dashboard-script.json": 200,
    "PortalFunction/get-unknown-file.json": 404,
    # A click folded into its window's state; the window's final invocation writes it and starts afresh.
    "PartnerCountersFunction/click-window-batch.json": {
        "state": {
            "first": "100000000000000000001",
            "counts": [
                ["shop-a", "day#2026-11-30", {"clicks.total": 1, "clicks.unique": 1}],
                ["shop-a", "link#2026-11-30#shop-a-home", {"clicks.total": 1, "clicks.unique": 1}],
                [
                    "shop-a",
                    "sub#shop-a-home#sub1#2026-11-30#newsletter-week-48",
                    {"clicks.total": 1, "clicks.unique": 1},
                ],
            ],
        }
    },
    "PartnerCountersFunction/click-window-final.json": {"state": {}},
    "MemberApiFunction/get-balance.json": 200,
    "MemberApiFunction/get-balance-of-another-member.json": 403,
    "MemberApiFunction/get-activity.json": 200,
    "MemberApiFunction/get-orders.json": 200,
    "MemberApiFunction/get-clicks.json": 200,
    "MemberApiFunction/get-activity-invalid-limit.json": 422,
    # A fresh stack: alice has no points, and shop-a does not exist.
    "MemberApiFunction/post-spend.json": 422,
    "MemberApiFunction/post-spend-without-idempotency-key.json": 422,
    "MemberApiFunction/get-member-link.json": 404,
    "AdminLedgerFunction/post-credit.json": 201,
    "AdminLedgerFunction/post-debit-beyond-balance.json": 409,
    "AdminLedgerFunction/post-invalid-body.json": 422,
    "AdminLedgerFunction/post-zero-points.json": 422,  # found by the schema fuzz: was a 500
    "AdminLedgerFunction/post-release.json": 200,
    "AdminLedgerFunction/post-refund-unknown-spend.json": 404,
    # Stream batches answer with the records that failed (their sequence numbers).
    "AccrualFunction/order-unattributed-pending.json": [],
    "AccrualFunction/batch-with-a-record-that-is-not-an-order.json": ["200000000000000000002"],
    "WebhookEventsFunction/order-created-and-points-pending.json": [],
    "WebhookEventsFunction/batch-with-a-record-of-another-table.json": ["300000000000000000002"],
    # A fresh stack: no code, no campaign, no batch, no redemption yet.
    "PromoRedemptionFunction/post-redemption.json": 404,
    "PromoRedemptionFunction/post-redemption-for-another-member.json": 403,
    "PromoRedemptionFunction/post-redemption-without-code.json": 422,
    "AdminPromoFunction/post-campaign.json": 201,
    "AdminPromoFunction/post-campaign-invalid.json": 422,
    "AdminPromoFunction/post-codes-batch-unknown-campaign.json": 404,
    "AdminPromoFunction/post-codes-both-kinds.json": 422,
    "AdminPromoFunction/get-code-batch-unknown.json": 404,
    "AdminPromoFunction/post-revoke-unknown.json": 404,
    # An asynchronous invocation's failure (Lambda retries it, then the DLQ): the error's type.
    "PromoCodeBatchFunction/generate-unknown-batch.json": "CodeBatchNotFound",
    # The nightly run on an empty stack: nothing to release; the shards are queued.
    "StatementsFunction/scheduled-close-yesterday.json": {
        "settle": {"orders_released": 0, "points_released": 0}
    },
    "StatementsFunction/rerun-a-day.json": {"date": "2026-11-22", "periods": ["2026-11-22"], "tasks": 16},
    "StatementsFunction/run-status-of-a-month.json": {"period": "2026-11", "manifest": None},
    "StatementsFunction/run-a-future-day.json": "InvalidField",
    # Two queued shards, one of them malformed (shard 99): only that message is reported failed.
    "StatementsFunction/shard-tasks-one-malformed.json": ["5d1e9b07-7c1e-4a8f-8f0e-6a2b9c4d3e22"],
}
EVENT_FILES = sorted((PROJECT_ROOT / "events").glob("*/*.json"))


def test_every_event_file_has_an_expected_answer() -> None:
    found = {f"{path.parent.name}/{path.name}" for path in EVENT_FILES}
    assert found == set(EXPECTED_STATUS)


@pytest.mark.parametrize("event_file", EVENT_FILES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_local_invoke_in_process(
    event_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(
        ["local", "invoke", event_file.parent.name, "-e", str(event_file), "--state-dir", str(tmp_path)]
    )
    out, err = capsys.readouterr()
    expected = EXPECTED_STATUS[f"{event_file.parent.name}/{event_file.name}"]
    assert status == (1 if isinstance(expected, str) else 0)
    assert "in-process" in err
    response = json.loads(out)  # stdout is the response alone; logs went to stderr
    if isinstance(expected, str):
        assert response["errorType"] == expected
    elif isinstance(expected, list):
        assert [failure["itemIdentifier"] for failure in response["batchItemFailures"]] == expected
    elif isinstance(expected, dict):
        assert {key: response[key] for key in expected} == expected
    else:
        assert response["statusCode"] == expected


def test_local_invoke_explains_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = [
        "local",
        "invoke",
        "HealthFunction",
        "-e",
        str(tmp_path / "none.json"),
        "--state-dir",
        str(tmp_path),
    ]
    assert cli.main(missing) == 2
    assert "no event file" in capsys.readouterr().err

    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert (
        cli.main(["local", "invoke", "HealthFunction", "-e", str(broken), "--state-dir", str(tmp_path)]) == 2
    )
    assert "is not JSON" in capsys.readouterr().err

    event = str(PROJECT_ROOT / "events/HealthFunction/get-health.json")
    assert cli.main(["local", "invoke", "NoSuchFunction", "-e", event, "--state-dir", str(tmp_path)]) == 2
    assert "NoSuchFunction is not a function of template.yaml" in capsys.readouterr().err


def test_local_token_names_the_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["local", "token", "alice", "--authorizer", "Nope"]) == 2
    assert "no JWT authorizer 'Nope'" in capsys.readouterr().err
    assert cli.main(["local", "token", "alice", "--scope", "read"]) == 0
    assert capsys.readouterr().out.count(".") == 2  # header.claims.signature
