"""Click figures for `make bench`: DynamoDB requests and units per click on DynamoDB Local, and the
click handler's own time with DynamoDB stubbed (botocore's Stubber: the request is still built and
the answer parsed, only the network is left out). Figures only; nothing here asserts a timing."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
from botocore.stub import Stubber

from harness import measure, metered_dynamodb
from partnerpoints.dal.click_store import ClickStore
from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.logic.click_redirect import ClickRedirector
from partnerpoints.logic.partners import PartnerDirectory
from partnerpoints.models.clicks import ClickRequest
from partnerpoints.models.partners import NewLink, NewPartner
from partnerpoints.settings import Settings
from partnerpoints.signing import ClickKeys
from partnerpoints_infra.functions import LocalLambdaContext, function_specs
from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import PROJECT_ROOT

KEYS = ClickKeys.from_secret("b" * 64)
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
EVENT = PROJECT_ROOT / "events/ClickRedirectFunction/get-click.json"


def _configure(settings: Settings) -> None:
    directory = PartnerDirectory(PartnerStore(settings), lambda: KEYS)
    partner = json.loads(
        json.loads((PROJECT_ROOT / "events/AdminApiFunction/post-partner.json").read_text())["body"]
    )
    directory.create_partner(NewPartner.model_validate(partner))
    directory.create_link(
        NewLink(
            partner_id="shop-a",
            link_id="bench-link",
            destination="https://www.shop-a.example/?cid={click_id}",
        )
    )


def dynamodb_figures(stack: LocalStack, runs: int) -> dict[str, dict[str, float]]:
    """Each kind of click on DynamoDB Local, measured where the requests are made (the store)."""
    settings = Settings.from_environment(stack.runtime_environment("ClickRedirectFunction"))
    _configure(settings)
    shopper = ClickRequest(
        link_id="bench-link", method="GET", query={"sub1": ["bench"]}, source_ip="", user_agent=BROWSER
    )

    def new_shopper(i: int) -> ClickRequest:
        return replace(shopper, source_ip=f"198.51.{i // 250}.{i % 250}")

    with metered_dynamodb() as meter:
        store = ClickStore(settings)
        warm = ClickRedirector(store, lambda: KEYS)
        warm.click(replace(shopper, source_ip="192.0.2.1"))  # client created, link cached
        return {
            "first click (link not cached)": measure(
                meter,
                runs,
                lambda i: ClickRedirector(store, lambda: KEYS).click(new_shopper(1000 + i)),
            ),
            "warm click (link cached)": measure(meter, runs, lambda i: warm.click(new_shopper(i))),
            "repeat within the minute (flood)": measure(meter, runs, lambda _: warm.click(new_shopper(0))),
            "bot click (HEAD)": measure(
                meter, runs, lambda i: warm.click(replace(new_shopper(2000 + i), method="HEAD"))
            ),
        }


@contextlib.contextmanager
def _silenced_stdout() -> Iterator[None]:
    """Logs and EMF lines are still formatted and written, to /dev/null: the handler's Logger holds
    the stdout of its import, so this works at the file-descriptor level."""
    sys.stdout.flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


def handler_microseconds(stack: LocalStack, runs: int) -> dict[str, float]:
    """The real handler module per warm click (event parsing, logic, signing, the UpdateItem request
    built and its answer parsed, EMF metrics and the log line), with DynamoDB stubbed."""
    spec = function_specs(stack)["ClickRedirectFunction"]
    environment = {**stack.runtime_environment("ClickRedirectFunction"), "POWERTOOLS_LOG_LEVEL": "INFO"}
    os.environ.update(environment)
    sys.path[:0] = [str(spec.code_dir)]
    handler_module: Any = importlib.import_module(spec.module)
    sys.path.remove(str(spec.code_dir))
    store = ClickStore(Settings.from_environment(environment))
    store._client = boto3.client("dynamodb", region_name="us-east-1")
    stubber = Stubber(store.client)
    redirector = ClickRedirector(store, lambda: KEYS)
    stubber.add_response(
        "get_item",
        {
            "Item": {
                "link_id": {"S": "shop-a-home"},
                "partner_id": {"S": "shop-a"},
                "destination": {"S": "https://www.shop-a.example/l?cid={click_id}&s1={sub1}"},
                "status": {"S": "active"},
            }
        },
    )
    stubber.add_response(
        "get_item",
        {
            "Item": {
                "partner_id": {"S": "shop-a"},
                "allowed_domains": {"L": [{"S": "shop-a.example"}]},
                "attribution_window_days": {"N": "30"},
            }
        },
    )
    for _ in range(runs + 1):
        stubber.add_response("update_item", {})
    handler_module.get_click_redirector = lambda: redirector
    event = json.loads(EVENT.read_text())
    context = LocalLambdaContext("ClickRedirectFunction", spec.memory_mb, spec.timeout_seconds, "us-east-1")
    samples = []
    with stubber, _silenced_stdout():
        handler_module.lambda_handler(event, context)  # first click: crawler patterns compiled, link cached
        for _ in range(runs):
            started = time.perf_counter_ns()
            answer = handler_module.lambda_handler(event, context)
            samples.append((time.perf_counter_ns() - started) / 1000)
    assert answer["statusCode"] == 302
    return {
        "warm click, DynamoDB stubbed (median us)": statistics.median(samples),
        "warm click, DynamoDB stubbed (p95 us)": statistics.quantiles(samples, n=20)[-1],
    }


_FIRST_CLICK_PROBE = """
import json, sys, time
started = time.perf_counter()
import app
imported = time.perf_counter()
from crawlerdetect import CrawlerDetect
CrawlerDetect().isCrawler(sys.argv[1])
print(json.dumps({"import": imported - started, "crawler_patterns": time.perf_counter() - imported}))
"""


def cold_first_click_costs(stack: LocalStack, runs: int) -> dict[str, float]:
    """What a cold start pays after the import, on the first click: the crawler patterns are compiled
    lazily (kept out of the import on purpose), plus one DynamoDB and one Secrets Manager client."""
    spec = function_specs(stack)["ClickRedirectFunction"]
    layer = str(PROJECT_ROOT / "layers" / "core")
    env = {
        **os.environ,
        **stack.runtime_environment("ClickRedirectFunction"),
        "PYTHONPATH": f"{spec.code_dir}:{layer}",
    }
    patterns = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _FIRST_CLICK_PROBE, BROWSER],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        patterns.append(json.loads(out.stdout.strip().splitlines()[-1])["crawler_patterns"])
    started = time.perf_counter()
    boto3.session.Session().client("dynamodb", region_name="us-east-1")
    client_ms = (time.perf_counter() - started) * 1000
    return {
        "crawler patterns compiled on the first click (ms)": statistics.median(patterns) * 1000,
        "a DynamoDB client created on the first click (ms, new session)": client_ms,
    }
