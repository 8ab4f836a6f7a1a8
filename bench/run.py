"""`make bench`: DynamoDB requests and capacity units per operation, the click handler's time, each
function's cold import against a bare `import boto3`, the nightly run and the local stack. Writes
bench/results/latest.json and docs/benchmarks.md (bench/report.py), and prints the page.

Capacity comes from DynamoDB Local's ConsumedCapacity (it charges as DynamoDB does: a transactional
write costs two units per KB per item); latencies on this machine are shown for orientation only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "PartnerPoints")  # as the template sets it

sys.path.insert(0, str(Path(__file__).resolve().parent))

import boto3
from accrual import accrual_figures
from analytics import analytics_figures
from clicks import cold_first_click_costs, dynamodb_figures, handler_microseconds
from moto import mock_aws
from postbacks import postback_figures
from promo import promo_figures
from report import PAGE, render, write_page
from reporting import reporting_figures
from statements import statements_figures

from harness import cold_import_seconds, measure, metered_dynamodb, write_json
from partnerpoints_infra.dynamodb_local import dynamodb_local
from partnerpoints_infra.functions import function_specs
from partnerpoints_infra.http_client import call
from partnerpoints_infra.local.authorizers import create_token
from partnerpoints_infra.local.commands import jwt_authorizers
from partnerpoints_infra.local.serve import ServeOptions, running_stack
from partnerpoints_infra.provision import Endpoints, LocalStack, provision
from partnerpoints_infra.template import PROJECT_ROOT, TEMPLATE_PATH


def ledger_figures(stack: LocalStack, runs: int) -> dict[str, dict[str, float]]:
    from partnerpoints.dal.ledger_store import LedgerStore
    from partnerpoints.exceptions import InsufficientPoints
    from partnerpoints.logic.ledger import Ledger
    from partnerpoints.models.ledger import Account, EntryKind, Posting
    from partnerpoints.settings import Settings

    def posting(entry_id: str, kind: EntryKind, points: int, member: str = "bench") -> Posting:
        return Posting(
            entry_id=entry_id,
            member_id=member,
            account=Account.MAIN,
            kind=kind,
            points=points,
            reference="bench",
        )

    def refused_spend(i: int) -> None:
        try:
            ledger.post(posting(f"overdraft#{i}", EntryKind.SPEND, -(10**9)))
        except InsufficientPoints:
            return
        raise AssertionError("an overdraft went through")

    with metered_dynamodb() as meter:
        ledger = Ledger(LedgerStore(Settings.from_environment(stack.runtime_environment())))
        ledger.post(posting("warm-up", EntryKind.ADJUSTMENT, 1, member="warm"))
        ledger.balances("warm")
        return {
            "post credit (new entry)": measure(
                meter, runs, lambda i: ledger.post(posting(f"credit#{i}", EntryKind.ADJUSTMENT, 100))
            ),
            "post spend (guarded)": measure(
                meter, runs, lambda i: ledger.post(posting(f"spend#{i}", EntryKind.SPEND, -10))
            ),
            "post duplicate (retry)": measure(
                meter, runs, lambda i: ledger.post(posting(f"credit#{i}", EntryKind.ADJUSTMENT, 100))
            ),
            "post refused (overdraft)": measure(meter, runs, refused_spend),
            "read balances": measure(meter, runs, lambda _: ledger.balances("bench")),
            "history page of 20": measure(
                meter, runs, lambda _: ledger.history("bench", Account.MAIN, limit=20)
            ),
        }


def import_figures(stack: LocalStack, runs: int) -> dict[str, dict[str, float]]:
    """Each function's cold import against a bare `import boto3`, interleaved run by run so that the
    machine's drift (other processes, CPU frequency) weighs on both sides of each ratio alike."""
    layer = str(PROJECT_ROOT / "layers" / "core")
    probes: dict[str, tuple[str, list[str], dict[str, str]]] = {"import boto3 (baseline)": ("boto3", [], {})}
    for logical_id, spec in sorted(function_specs(stack).items()):
        # As Lambda runs it: its template environment, tracing on (X-Ray patches boto3 at import).
        env = {
            **stack.runtime_environment(logical_id),
            "AWS_LAMBDA_FUNCTION_NAME": logical_id,
            "POWERTOOLS_TRACE_DISABLED": "false",
        }
        probes[f"{logical_id} ({spec.code_dir.name}/{spec.module}.py)"] = (
            spec.module,
            [str(spec.code_dir), layer],
            env,
        )
    samples: dict[str, list[float]] = {name: [] for name in probes}
    for _ in range(runs):
        for name, (module, paths, env) in probes.items():
            samples[name].append(cold_import_seconds(module, paths, env, 1))
    baseline = statistics.median(samples["import boto3 (baseline)"])
    return {
        name: {"seconds": statistics.median(times), "ratio": statistics.median(times) / baseline}
        for name, times in samples.items()
    }


def _median_ms(operation: Callable[[], Any], runs: int) -> float:
    latencies = []
    for _ in range(runs):
        started = time.perf_counter()
        operation()
        latencies.append((time.perf_counter() - started) * 1000)
    return statistics.median(latencies)


def local_stack_figures(runs: int) -> dict[str, float]:
    """The local stack on moto: start-up, HTTP round trips through the gateway to a warm function, and
    how long a stream record takes to reach its function (the fixture template's recorder)."""
    printer = lambda name, line: None  # noqa: E731 - function logs are not part of the figures
    figures: dict[str, float] = {}
    started = time.perf_counter()
    options = ServeOptions(port=0, lambda_port=0, state_dir=Path(tempfile.mkdtemp()))
    with running_stack(options, printer=printer) as running:
        figures["start template.yaml (s)"] = time.perf_counter() - started
        token = create_token(jwt_authorizers(TEMPLATE_PATH)["MemberAuthorizer"], "bench", [])
        auth = {"authorization": f"Bearer {token}"}
        figures["GET /health (ms)"] = _median_ms(lambda: call("GET", f"{running.http_url}/health"), runs)
        figures["GET balance, JWT (ms)"] = _median_ms(
            lambda: call("GET", f"{running.http_url}/members/bench/balance", headers=auth), runs
        )
        body = {"account": "main", "points": 1, "reason": "bench"}
        figures["POST adjustment, IAM (ms)"] = _median_ms(
            lambda: call(
                "POST",
                f"{running.http_url}/admin/members/bench/adjustments",
                {**body, "adjustment_id": uuid.uuid4().hex},
            ),
            runs,
        )
    fixture = PROJECT_ROOT / "tests/fixtures/local_stack/template.yaml"
    options = ServeOptions(port=0, lambda_port=0, state_dir=Path(tempfile.mkdtemp()), template_path=fixture)
    with running_stack(options, printer=printer) as running:
        endpoint = running.stack.endpoints.dynamodb
        dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
        records, seen = running.stack.table_name("RecordsTable"), running.stack.table_name("SeenTable")
        lags = []
        for i in range(runs):
            key = {"pk": {"S": f"lag-{i}"}}
            written = time.perf_counter()
            dynamodb.put_item(TableName=records, Item=key)
            while "Item" not in dynamodb.get_item(TableName=seen, Key=key):
                time.sleep(0.01)
            lags.append((time.perf_counter() - written) * 1000)
        figures["stream write -> function (ms)"] = statistics.median(lags)
        figures["stream write -> function, max (ms)"] = max(lags)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50, help="repetitions per ledger operation")
    parser.add_argument("--import-runs", type=int, default=11, help="fresh interpreters per import figure")
    parser.add_argument("--local-runs", type=int, default=20, help="requests per local stack figure")
    parser.add_argument("--out", default=str(PROJECT_ROOT / "bench" / "results" / "latest.json"))
    args = parser.parse_args()

    with dynamodb_local() as endpoint, mock_aws():
        stack = provision(Endpoints(dynamodb=endpoint), stack_name="bench")
        # What the functions' code reads through get_settings() (earning rules, table names).
        os.environ.update(stack.runtime_environment())
        ledger = ledger_figures(stack, args.runs)
        imports = import_figures(stack, args.import_runs)
        clicks = dynamodb_figures(stack, args.runs)
        postbacks = postback_figures(stack, args.runs)
        accruals = accrual_figures(stack, args.runs)
        promos = promo_figures(stack, args.runs)
        statements = statements_figures(endpoint)
        reporting = reporting_figures(endpoint, args.runs)
        click_handler = {
            **handler_microseconds(stack, args.runs * 20),
            **cold_first_click_costs(stack, args.import_runs),
        }
    # A DynamoDB Local of its own: one that holds the statements' 50,000 members already writes the
    # analytics' 50,000 orders many times slower, and the other way round.
    with dynamodb_local() as endpoint, mock_aws():
        analytics = analytics_figures(endpoint)
    local = local_stack_figures(args.local_runs)

    results = {
        "ledger": ledger,
        "clicks": clicks,
        "postbacks": postbacks,
        "accrual": accruals,
        "promo": promos,
        "statements": statements,
        "reporting": reporting,
        "analytics": analytics,
        "click_handler": click_handler,
        "imports": imports,
        "local_stack": local,
        "python": sys.version.split()[0],
    }
    write_json(args.out, results)
    write_page(results)
    print(render(results))
    print(f"wrote {args.out} and {PAGE}")


if __name__ == "__main__":
    main()
