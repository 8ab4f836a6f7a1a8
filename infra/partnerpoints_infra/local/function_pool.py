"""Run the template's functions as Lambda does: one process per execution environment, each with the
function's own environment variables, code and layers on its path, a deadline from its Timeout, and
its logs on the console prefixed by its name.

A pool keeps warm environments per function and starts another when all are busy, so concurrent
requests run concurrently; an environment that times out is killed and replaced, as in Lambda.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from partnerpoints_infra.functions import FunctionSpec

MAX_ENVIRONMENTS_PER_FUNCTION = 8
INIT_TIMEOUT_SECONDS = 60.0
LOG_TAIL_BYTES = 4096

Printer = Callable[[str, str], None]


@dataclass
class InvocationResult:
    """What one invocation returned: its payload (or Lambda's error object) and its log lines."""

    request_id: str
    payload: Any
    function_error: str | None = None  # "Unhandled" as Lambda reports it, None on success
    logs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.function_error is None

    def log_tail(self) -> str:
        """The last 4 KB of the invocation's log, as `LogType: Tail` returns it."""
        text = "\n".join(self.logs) + "\n"
        return text.encode()[-LOG_TAIL_BYTES:].decode(errors="ignore")


class _Environment:
    """One worker process; used by one invocation at a time."""

    def __init__(self, spec: FunctionSpec, variables: dict[str, str], printer: Printer) -> None:
        self.spec = spec
        self._printer = printer
        self._results: queue.Queue[dict[str, Any]] = queue.Queue()
        self._current: list[str] | None = None
        self._report_seen = threading.Event()
        read_fd, write_fd = os.pipe()
        python_path = [str(spec.code_dir), *(str(layer) for layer in spec.layer_dirs)]
        env = {**variables, "PYTHONPATH": os.pathsep.join(python_path), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "partnerpoints_infra.local.worker", spec.handler_path, str(write_fd)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(write_fd,),
            cwd=spec.code_dir,
            env=env,
            text=True,
        )
        os.close(write_fd)
        self._result_pipe = os.fdopen(read_fd, encoding="utf-8")
        threading.Thread(target=self._pump_logs, daemon=True).start()
        threading.Thread(target=self._pump_results, daemon=True).start()

    def _pump_logs(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.rstrip("\n")
            self._printer(self.spec.logical_id, line)
            if self._current is not None:
                self._current.append(line)
            if line.startswith("REPORT RequestId:"):
                self._report_seen.set()

    def _pump_results(self) -> None:
        for line in self._result_pipe:
            self._results.put(json.loads(line))
        # The pipe closes when the process ends: whoever waits learns it now, not at the timeout.
        self._results.put({"exited": True})

    def wait_ready(self) -> bool:
        try:
            return bool(self._results.get(timeout=INIT_TIMEOUT_SECONDS).get("ready"))  # False if it exited
        except queue.Empty:
            return False

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def invoke(self, request: dict[str, Any], timeout_seconds: float) -> InvocationResult:
        request_id = request["request_id"]
        self._current = logs = []
        self._report_seen.clear()
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            answer = self._results.get(timeout=timeout_seconds)
        except (queue.Empty, BrokenPipeError, OSError):
            self.stop(graceful=False)
            message = f"{request_id} Task timed out after {timeout_seconds:.2f} seconds"
            self._printer(self.spec.logical_id, message)
            logs.append(message)
            error = {"errorMessage": message, "errorType": "Sandbox.Timedout"}
            return InvocationResult(request_id, error, "Unhandled", logs)
        if answer.get("exited"):
            # The handler ended the process (sys.exit, os._exit, a crash): Lambda's Runtime.ExitError.
            code = self.process.wait()
            message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}"
            self._printer(self.spec.logical_id, message)
            logs.append(message)
            return InvocationResult(
                request_id, {"errorMessage": message, "errorType": "Runtime.ExitError"}, "Unhandled", logs
            )
        # The REPORT line is printed before the answer is sent; wait until the log pump has read it.
        self._report_seen.wait(timeout=2)
        self._current = None
        return InvocationResult(request_id, answer["payload"], None if answer["ok"] else "Unhandled", logs)

    def stop(self, graceful: bool = True) -> None:
        """End the environment; gracefully means closing its input so that it exits on its own."""
        if graceful and self.alive and self.process.stdin is not None:
            self.process.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        if self.alive:
            self.process.kill()
        self.process.wait()


class FunctionPool:
    """Warm execution environments for every function of the stack."""

    def __init__(
        self,
        specs: dict[str, FunctionSpec],
        environments: dict[str, dict[str, str]],
        region: str,
        account_id: str,
        printer: Printer,
    ) -> None:
        self.specs = specs
        self._variables = environments
        self._region = region
        self._account_id = account_id
        self._printer = printer
        self._idle: dict[str, list[_Environment]] = {name: [] for name in specs}
        self._count: dict[str, int] = dict.fromkeys(specs, 0)
        self._available = threading.Condition()
        self._closed = False

    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self._region}:{self._account_id}:function:{name}"

    def _start(self, name: str) -> _Environment:
        environment = _Environment(self.specs[name], self._variables[name], self._printer)
        if not environment.wait_ready():
            environment.stop()
            raise RuntimeError(f"{name}: the execution environment did not start")
        return environment

    def warm(self) -> None:
        """Start one environment per function, all at once (imports dominate and run in parallel)."""
        starting = {
            name: _Environment(self.specs[name], self._variables[name], self._printer) for name in self.specs
        }
        for name, environment in starting.items():
            if environment.wait_ready():
                with self._available:
                    self._idle[name].append(environment)
                    self._count[name] += 1
            else:
                environment.stop()

    def _acquire(self, name: str) -> _Environment:
        with self._available:
            while True:
                if self._closed:
                    raise RuntimeError("the local stack is stopping")
                if self._idle[name]:
                    return self._idle[name].pop()
                if self._count[name] < MAX_ENVIRONMENTS_PER_FUNCTION:
                    self._count[name] += 1
                    break
                self._available.wait()
        try:
            return self._start(name)
        except Exception:
            with self._available:
                self._count[name] -= 1
                self._available.notify_all()
            raise

    def _release(self, name: str, environment: _Environment) -> None:
        with self._available:
            if environment.alive and not self._closed:
                self._idle[name].append(environment)
            else:
                self._count[name] -= 1
                environment.stop()
            self._available.notify_all()

    def invoke(self, name: str, event: Any, client_context: str | None = None) -> InvocationResult:
        """Run `name` once with `event`, synchronously, as a RequestResponse invocation."""
        spec = self.specs[name]
        request = {
            "request_id": str(uuid.uuid4()),
            "event": event,
            "function_name": name,
            "invoked_function_arn": self.arn(name),
            "memory_mb": spec.memory_mb,
            "deadline_ms": int(time.time() * 1000) + spec.timeout_seconds * 1000,
            "client_context": client_context,
        }
        environment = self._acquire(name)
        try:
            return environment.invoke(request, spec.timeout_seconds)
        finally:
            self._release(name, environment)

    def close(self) -> None:
        with self._available:
            self._closed = True
            environments = [environment for idle in self._idle.values() for environment in idle]
            for idle in self._idle.values():
                idle.clear()
            self._available.notify_all()
        for environment in environments:
            environment.stop()


def console_printer(stream: IO[str] | None = None) -> Printer:
    """Print each log line prefixed by its function's name; one lock so lines never interleave."""
    lock = threading.Lock()
    width = 24

    def printer(name: str, line: str) -> None:
        with lock:
            print(f"{name:<{width}}| {line}", file=stream or sys.stdout, flush=True)

    return printer
