"""The guard that no process outlives the tests: it sees a tagged process while it runs and not after."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from partnerpoints_infra.processes import OWNER_VARIABLE, child_pids, kill, outliving, owned_processes


def test_a_tagged_process_is_found_while_it_runs_and_not_once_it_ended() -> None:
    owner = f"unit-{uuid.uuid4().hex}"
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"],
        env={**os.environ, OWNER_VARIABLE: owner},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sleeper.stdout is not None
        assert sleeper.stdout.readline() == "up\n"  # running its own program, not the fork of ours
        assert [process.pid for process in owned_processes(owner)] == [sleeper.pid]
        assert sleeper.pid in child_pids(os.getpid())
        assert owned_processes(f"unit-{uuid.uuid4().hex}") == []
    finally:
        kill([sleeper.pid])
        sleeper.communicate()
    assert outliving(owner, grace_seconds=5) == []
