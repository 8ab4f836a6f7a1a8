"""The local stack for end-to-end tests: started on free ports, driven over real HTTP, once on moto
and once with AWS DynamoDB Local (stricter than moto on several points; both must pass)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from partnerpoints_infra.local.serve import STATE_FILE
from partnerpoints_infra.processes import child_pids, kill
from partnerpoints_infra.template import PROJECT_ROOT

BACKENDS = ["moto", "dynamodb-local"]
STARTUP_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 60.0  # serve stops in order within seconds, or at once after its own 20 s


@dataclass
class ServedStack:
    """A running `partnerpoints local serve` and what its stack.json says about it."""

    process: subprocess.Popen[str]
    state_dir: Path
    described: dict[str, Any]
    # Read as it comes: an undrained pipe fills up and then blocks the stack's console (and with it
    # the function logs that LogType Tail returns).
    output: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def start_reading(self) -> None:
        assert self.process.stdout is not None
        stream = self.process.stdout
        self.reader = threading.Thread(target=lambda: self.output.extend(stream), daemon=True)
        self.reader.start()

    @property
    def http_url(self) -> str:
        return str(self.described["http_url"])

    @property
    def lambda_url(self) -> str:
        return str(self.described["lambda_url"])

    def lambda_client(self) -> Any:
        return boto3.client("lambda", endpoint_url=self.lambda_url, region_name="us-east-1")

    def stop(self, signum: signal.Signals = signal.SIGINT) -> str:
        """Ctrl-C (or another signal), as a developer would; returns what the stack printed. A stack
        that does not stop is killed with everything it started, and the test fails."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            kill([*child_pids(self.process.pid), self.process.pid])
            self.process.wait()
            tail = "".join(self.output[-40:])
            raise AssertionError(
                f"local serve did not stop on {signum.name}; it printed last:\n{tail}"
            ) from None
        finally:
            if self.reader is not None:
                self.reader.join(timeout=10)
        return "".join(self.output)


def serve_command(state_dir: Path, *extra: str, port: int = 0) -> list[str]:
    """The command a developer types, on free ports unless told otherwise."""
    return [
        sys.executable,
        "-m",
        "partnerpoints_infra.cli",
        "local",
        "serve",
        *("--port", str(port), "--lambda-port", "0", "--state-dir", str(state_dir)),
        *extra,
    ]


def _unmeasured(variables: dict[str, str]) -> dict[str, str]:
    """The environment without what makes coverage measure the processes started from it."""
    return {
        name: value for name, value in variables.items() if not name.startswith(("COVERAGE_", "COV_CORE_"))
    }


def start_served_stack(
    state_dir: Path, *extra: str, environment: dict[str, str] | None = None, measured: bool = True
) -> ServedStack:
    """`measured=False` runs the stack and its functions outside coverage, which slows every
    invocation several times over: for runs that test answers in bulk, not which lines ran."""
    base = dict(os.environ) if measured else _unmeasured(dict(os.environ))
    process = subprocess.Popen(
        serve_command(state_dir, *extra),
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**base, "POWERTOOLS_LOG_LEVEL": "INFO", **(environment or {})},
    )
    state_file = state_dir / STATE_FILE
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not state_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output, _ = process.communicate()
            raise RuntimeError(f"the local stack did not start:\n{output}")
        time.sleep(0.1)
    served = ServedStack(process, state_dir, json.loads(state_file.read_text()))
    served.start_reading()
    return served


@pytest.fixture(scope="module", params=BACKENDS)
def app_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedStack]:
    """template.yaml served by the real command line."""
    extra = ["--dynamodb-local"] if request.param == "dynamodb-local" else []
    # Outside coverage: these tests are about answers over HTTP; the stack's own code is measured where
    # it runs in the test process (test_local_stack_features) and by test_serve_command.
    served = start_served_stack(tmp_path_factory.mktemp(f"state-{request.param}"), *extra, measured=False)
    yield served
    served.stop()
