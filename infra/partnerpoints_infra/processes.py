"""Finding the processes a run started, so that none outlives it.

Whoever starts the local stack (a test session, the demo) may set OWNER_VARIABLE in its environment:
every process started from there inherits it, and the local stack passes it on to the function
environments it starts with environments of their own. Linux's /proc tells which processes carry it;
elsewhere nothing is found (the check is a guard, not a feature).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

OWNER_VARIABLE = "PARTNERPOINTS_OWNER"
PROC = Path("/proc")


@dataclass(frozen=True)
class Process:
    pid: int
    command: str


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # gone meanwhile, or not ours to read
        return b""


def owned_processes(owner: str) -> list[Process]:
    """The live processes (not this one) whose environment carries OWNER_VARIABLE=owner."""
    mark = f"{OWNER_VARIABLE}={owner}".encode()
    found = []
    for entry in PROC.glob("[0-9]*"):
        pid = int(entry.name)
        if pid == os.getpid() or mark not in _read(entry / "environ").split(b"\0"):
            continue
        stat = _read(entry / "stat")
        if stat.rpartition(b")")[2].split()[:1] == [b"Z"]:  # a zombie: exited, its parent not told yet
            continue
        command = _read(entry / "cmdline").replace(b"\0", b" ").decode(errors="replace").strip()
        found.append(Process(pid, command))
    return found


def child_pids(pid: int) -> list[int]:
    """The direct children of a process."""
    children = []
    for entry in PROC.glob("[0-9]*"):
        fields = _read(entry / "stat").rpartition(b")")[2].split()
        if len(fields) > 1 and fields[1] == str(pid).encode():
            children.append(int(entry.name))
    return children


def outliving(owner: str, grace_seconds: float) -> list[Process]:
    """What still runs of an owner's processes after giving them `grace_seconds` to finish exiting."""
    deadline = time.monotonic() + grace_seconds
    while (left := owned_processes(owner)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
