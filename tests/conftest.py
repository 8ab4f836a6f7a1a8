"""Shared fixtures: every table comes from template.yaml, in moto or in AWS DynamoDB Local."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
import time_machine

# Before any AWS client exists: fake credentials, a region, and no X-Ray daemon to talk to.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_METRICS_NAMESPACE="PartnerPoints",
    POWERTOOLS_SERVICE_NAME="partnerpoints",
    POWERTOOLS_LOG_LEVEL="WARNING",
    # botocore sends stream calls to account-based endpoints ({account}.streams-ddb...), which moto's
    # in-process mock does not route; the regional endpoint behaves the same.
    AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
)

from moto import mock_aws

from partnerpoints.dal.ledger_store import LedgerStore
from partnerpoints.logic.ledger import Ledger
from partnerpoints.settings import Settings
from partnerpoints_infra.dynamodb_local import dynamodb_local
from partnerpoints_infra.functions import forget_execution_environments
from partnerpoints_infra.processes import OWNER_VARIABLE, kill, outliving
from partnerpoints_infra.provision import Endpoints, LocalStack, provision

# Every process the tests start inherits this tag (and the local stack hands it to its functions), so
# the session can tell at its end whether any outlived its test.
SESSION_OWNER = os.environ[OWNER_VARIABLE] = f"tests-{uuid.uuid4().hex}"
LEFTOVER_GRACE_SECONDS = 15.0  # a stopped process may take a moment to finish exiting


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a process a test started is still alive once every test and fixture has
    finished: it would otherwise run on after CI, holding ports and memory. The leftovers are killed."""
    leftovers = outliving(SESSION_OWNER, LEFTOVER_GRACE_SECONDS)
    if not leftovers:
        return
    kill([process.pid for process in leftovers])
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"  {process.pid} {process.command[:200]}" for process in leftovers]
    message = "processes started by the tests outlived them (now killed):\n" + "\n".join(lines)
    if reporter is not None:
        reporter.write_line(message, red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--calendar-date",
        metavar="ISO-MOMENT[@TZ]",
        help="run the tests marked `calendar` with the clock moved to this moment (it keeps ticking), "
        "in time zone TZ (the process's local zone) when given: `make calendar` passes each awkward date",
    )


@pytest.fixture(autouse=True)
def calendar_date(request: pytest.FixtureRequest) -> Iterator[None]:
    """The date-sensitive tests at the moment --calendar-date names, as if the machine's clock said so:
    datetime.now, time.time and date.today all move (time-machine), for the test and its fixtures."""
    moment = request.config.getoption("--calendar-date")
    if moment is None or request.node.get_closest_marker("calendar") is None:
        yield
        return
    at, _, zone = moment.partition("@")
    saved_zone = os.environ.get("TZ")
    os.environ["TZ"] = zone or saved_zone or "UTC"
    time.tzset()
    try:
        with time_machine.travel(datetime.fromisoformat(at), tick=True):
            yield
    finally:
        del os.environ["TZ"]
        if saved_zone is not None:
            os.environ["TZ"] = saved_zone
        time.tzset()


def forget_deployment() -> None:
    """Each test stack is a new deployment: drop what functions cache per execution environment
    (settings, clients, the signing key read from the stack's secret)."""
    forget_execution_environments()


def settings_for(stack: LocalStack) -> Settings:
    return Settings.from_environment(stack.runtime_environment())


@pytest.fixture
def moto_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    """A fresh in-memory AWS (moto) with every resource of the template; its names in os.environ."""
    with mock_aws():
        stack = provision()
        forget_deployment()
        for name, value in stack.environment().items():
            monkeypatch.setenv(name, value)
        yield stack


@pytest.fixture
def ledger(moto_stack: LocalStack) -> Ledger:
    return Ledger(LedgerStore(settings_for(moto_stack)))


@pytest.fixture(scope="session")
def dynamodb_local_endpoint() -> Iterator[str]:
    """One DynamoDB Local for the whole run (it takes seconds to start); each test gets its own tables."""
    with dynamodb_local() as endpoint:
        yield endpoint


@pytest.fixture
def dynamodb_local_stack(dynamodb_local_endpoint: str) -> Iterator[LocalStack]:
    """Tables in DynamoDB Local (a real storage engine, safe under concurrency); S3 and SQS in moto."""
    with mock_aws():
        stack = provision(Endpoints(dynamodb=dynamodb_local_endpoint), stack_name=f"t{uuid.uuid4().hex[:10]}")
        forget_deployment()
        yield stack


@pytest.fixture
def local_ledger(dynamodb_local_stack: LocalStack) -> Ledger:
    return Ledger(LedgerStore(settings_for(dynamodb_local_stack)))
