"""`partnerpoints local serve` as a developer uses it: a banner when ready, a clean stop on Ctrl-C,
a clear answer when its port is taken."""

from __future__ import annotations

import json
import signal
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlparse

from partnerpoints_infra.http_client import call
from partnerpoints_infra.processes import OWNER_VARIABLE, outliving
from partnerpoints_infra.template import PROJECT_ROOT, load_sam_template, resources_of_type
from tests.e2e.conftest import serve_command, start_served_stack


def test_serve_prints_what_it_serves_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    served = start_served_stack(tmp_path)
    try:
        assert call("GET", f"{served.http_url}/health").status == 200
        port = urlparse(served.http_url).port
        second = subprocess.run(
            serve_command(tmp_path / "second", port=port or 0),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=PROJECT_ROOT,
        )
        assert second.returncode == 2
        assert "already in use" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        output = served.stop()
    assert served.process.returncode == 0
    assert f"HTTP API    {served.http_url}" in output
    assert "GET    /members/{member_id}/balance" in output
    assert "Ready. Ctrl-C stops the stack." in output
    assert output.rstrip().endswith("Stopped.")
    assert "HealthFunction          | START RequestId:" in output  # logs prefixed by the function
    assert not (tmp_path / "stack.json").exists()
    described = served.described
    assert json.dumps(described)  # what stack.json said while it ran
    assert set(described["functions"]) == set(
        resources_of_type(load_sam_template(), "AWS::Serverless::Function")
    )


def test_serve_stops_on_sigterm_and_leaves_no_process_behind(tmp_path: Path) -> None:
    owner = f"serve-{uuid.uuid4().hex}"  # carried by the stack and every process it starts
    served = start_served_stack(tmp_path, "--dynamodb-local", environment={OWNER_VARIABLE: owner})
    assert call("GET", f"{served.http_url}/health").status == 200
    output = served.stop(signal.SIGTERM)
    assert served.process.returncode == 0
    assert output.rstrip().endswith("Stopped.")
    assert outliving(owner, grace_seconds=10) == []  # its function environments and DynamoDB Local too
