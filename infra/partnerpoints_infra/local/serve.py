"""`partnerpoints local serve`: the whole template on one machine.

    backends (moto server, or DynamoDB Local + moto)  <- provision(template)  -> LocalStack
    FunctionPool (one process per execution environment, each with its template environment)
      <- HttpGateway   (every HttpApi route, payload 2.0, JWT and IAM authorizers)   on --port
      <- LambdaApi     (the Lambda Invoke API)                                       on --lambda-port
      <- StreamPump    (each DynamoDB stream event source mapping)
      <- Scheduler     (each schedule)
    BucketMirror (objects of the template's buckets -> files under --state-dir)

A running stack describes itself in <state-dir>/stack.json, which `partnerpoints local invoke` and the
tests read to find it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any

import boto3
from werkzeug.serving import BaseWSGIServer, make_server

from partnerpoints_infra import faults
from partnerpoints_infra.functions import function_specs
from partnerpoints_infra.local.alarms import local_alarms
from partnerpoints_infra.local.backends import backends
from partnerpoints_infra.local.bucket_mirror import BucketMirror
from partnerpoints_infra.local.function_pool import FunctionPool, InvocationResult, Printer, console_printer
from partnerpoints_infra.local.http_gateway import HttpGateway
from partnerpoints_infra.local.lambda_api import (
    ASYNC_ATTEMPTS,
    LambdaApi,
    async_failure_destinations,
    invocation_record,
)
from partnerpoints_infra.local.queue_pump import QueuePump, queue_mappings
from partnerpoints_infra.local.schedules import Scheduler, schedules_of
from partnerpoints_infra.local.stream_pump import AwsClients, StreamPump, stream_mappings
from partnerpoints_infra.processes import OWNER_VARIABLE, child_pids, kill
from partnerpoints_infra.provision import LOCAL_ACCOUNT_ID, Endpoints, LocalStack, provision
from partnerpoints_infra.template import TEMPLATE_PATH, resources_of_type

DEFAULT_STATE_DIR = Path(".local")
STATE_FILE = "stack.json"
STOP_TIMEOUT_SECONDS = 20.0  # stopping in order takes a second or two; past this, stop at once
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
# Passed through from the developer's shell; everything else a function sees comes from the template.
# (COVERAGE_PROCESS_CONFIG lets the test suite's coverage follow functions into their processes;
# OWNER_VARIABLE lets whoever started the stack find its functions' processes too.)
_INHERITED = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "VIRTUAL_ENV",
    "COVERAGE_PROCESS_CONFIG",
    OWNER_VARIABLE,
)


# Template parameters the served stack sets otherwise than AWS would: the test receivers of webhooks
# run on this machine (docs/webhooks.md). Tests of a stack built without serving keep AWS's defaults.
LOCAL_PARAMETERS = {"WebhookPrivateTargets": "allow-loopback"}


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 3000
    lambda_port: int = 3001
    use_dynamodb_local: bool = False
    state_dir: Path = DEFAULT_STATE_DIR
    template_path: Path = TEMPLATE_PATH
    # The rate at which the functions' DynamoDB calls fail as DynamoDB fails them (faults.py); 0: none.
    faults: float = 0.0

    @property
    def fault_log(self) -> Path:
        return self.state_dir / "faults"


def lambda_environment(
    stack: LocalStack, name: str, spec_memory: int, lambda_url: str | None = None
) -> dict[str, str]:
    """What Lambda sets in a function's environment, with the template's variables resolved locally;
    `lambda_url` is the local Lambda API, where a function's own Lambda client (an asynchronous
    invocation of another function) is sent."""
    endpoints = stack.endpoints
    variables = {key: os.environ[key] for key in _INHERITED if key in os.environ}
    variables.update(LOCAL_CREDENTIALS)
    variables.update(
        {
            "AWS_REGION": endpoints.region,
            "AWS_DEFAULT_REGION": endpoints.region,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec_memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "TZ": "UTC",
            # No X-Ray daemon runs locally; Tracer would only complain about it.
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    for service, url in (
        ("DYNAMODB", endpoints.dynamodb),
        ("S3", endpoints.s3),
        ("SQS", endpoints.sqs),
        ("SECRETS_MANAGER", endpoints.secretsmanager),
        ("LAMBDA", lambda_url),
    ):
        if url:
            variables[f"AWS_ENDPOINT_URL_{service}"] = url
    variables.update(stack.runtime_environment(name))
    return variables


def _serve(app: Any, host: str, port: int, listening: socket.socket | None = None) -> BaseWSGIServer:
    # Bound here (or before, by the caller) so that a port in use is an OSError to report, not
    # werkzeug's own exit.
    listening = listening or socket.create_server((host, port))
    server = make_server(host, port, app, threaded=True, fd=listening.fileno())
    listening.detach()
    threading.Thread(target=server.serve_forever, name=f"http-{port}", daemon=True).start()
    return server


@dataclass
class RunningStack:
    stack: LocalStack
    pool: FunctionPool
    gateway: HttpGateway
    http_url: str
    lambda_url: str
    scheduler: Scheduler
    pumps: list[StreamPump]
    queue_pumps: list[QueuePump]
    mirror: BucketMirror
    state_dir: Path

    def describe(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "http_url": self.http_url,
            "lambda_url": self.lambda_url,
            "region": self.stack.endpoints.region,
            "dynamodb": self.stack.endpoints.dynamodb,
            "moto": self.stack.endpoints.s3,
            "functions": sorted(self.pool.specs),
            "routes": [f"{route.method} {route.path}" for route in self.gateway.routes],
            "resources": {logical_id: resource.ref for logical_id, resource in self.stack.resources.items()},
        }

    def banner(self) -> str:
        backend = (
            f"DynamoDB Local at {self.stack.endpoints.dynamodb}, S3 and SQS in moto"
            if self.stack.endpoints.dynamodb != self.stack.endpoints.s3
            else f"moto at {self.stack.endpoints.s3}"
        )
        lines = [
            f"Partner Points local stack from {self.stack.template_path.name} ({backend})",
            f"  HTTP API    {self.http_url}",
            f"  Lambda API  {self.lambda_url}   (aws lambda invoke --endpoint-url {self.lambda_url} ...)",
            f"  state       {self.state_dir}/  (buckets mirrored under {self.state_dir}/buckets/)",
            "Routes:",
        ]
        for route in self.gateway.routes:
            auth = f"jwt:{route.jwt.name}" if route.jwt else "iam" if route.iam else "public"
            lines.append(f"  {route.method:<7}{route.path:<46}{route.function:<28}{auth}")
        lines.append("Functions:")
        for name, spec in sorted(self.pool.specs.items()):
            lines.append(f"  {name:<32}{spec.memory_mb} MB, {spec.timeout_seconds} s, {spec.handler_path}")
        for pump in self.pumps:
            mapping = pump.mapping
            table = mapping.stream_arn.split("/")[1]
            lines.append(f"Stream: {table} -> {mapping.function} (batch {mapping.batch_size})")
        for queue_pump in self.queue_pumps:
            queue = queue_pump.mapping.queue_arn.rsplit(":", 1)[-1]
            lines.append(
                f"Queue: {queue} -> {queue_pump.mapping.function} (batch {queue_pump.mapping.batch_size})"
            )
        for schedule in self.scheduler.schedules:
            lines.append(
                f"Schedule: {schedule.name} {schedule.expression} {schedule.timezone} -> {schedule.function}"
            )
        lines.append("Ready. Ctrl-C stops the stack.")
        return "\n".join(lines)


def _visible_messages(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def _queue_urls(stack: LocalStack) -> dict[str, str]:
    return {
        resource.attributes["Arn"]: resource.ref
        for logical_id, resource in stack.resources.items()
        if logical_id in resources_of_type(stack.template, "AWS::SQS::Queue")
    }


def _start_event_sources(
    stack: LocalStack, pool: FunctionPool, clients: AwsClients, printer: Printer, cleanup: ExitStack
) -> tuple[list[StreamPump], list[QueuePump]]:
    """A pump per enabled stream and queue event source mapping, each stopped with the stack."""
    streams = [StreamPump(m, pool, clients, printer) for m in stream_mappings(stack) if m.enabled]
    queues = [QueuePump(m, pool, clients, printer) for m in queue_mappings(stack) if m.enabled]
    for pump in [*streams, *queues]:
        pump.start()
        cleanup.callback(pump.stop)
    return streams, queues


def _inject_faults(options: ServeOptions, environments: dict[str, dict[str, str]]) -> None:
    if not options.faults:
        return
    shutil.rmtree(options.fault_log, ignore_errors=True)
    options.fault_log.mkdir(parents=True)
    for variables in environments.values():
        variables[faults.RATE_VARIABLE] = str(options.faults)
        variables[faults.LOG_VARIABLE] = str(options.fault_log)


def _write_state(state_dir: Path, described: dict[str, Any]) -> Path:
    """stack.json, whole or not at all: whoever waits for it (the admin command, a test) never reads it
    half written. A rename within one directory is atomic."""
    state_file = state_dir / STATE_FILE
    written = state_file.with_name(f"{STATE_FILE}.partial")
    written.write_text(json.dumps(described, indent=2) + "\n", encoding="utf-8")
    written.replace(state_file)
    return state_file


@contextmanager
def running_stack(options: ServeOptions, printer: Printer | None = None) -> Iterator[RunningStack]:
    """Start everything, yield it ready, and stop it all (in reverse order) when the block ends."""
    for name, value in {**LOCAL_CREDENTIALS, "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(name, value)
    printer = printer or console_printer()
    with ExitStack() as cleanup:
        endpoints: Endpoints = cleanup.enter_context(backends(options.use_dynamodb_local))
        stack = provision(endpoints, template_path=options.template_path)
        stack.parameters.update(LOCAL_PARAMETERS)
        specs = function_specs(stack)
        session = boto3.session.Session(region_name=endpoints.region)
        sqs = session.client("sqs", endpoint_url=endpoints.sqs)
        alarms = local_alarms(stack, partial(_visible_messages, sqs), printer)
        # The Lambda API's port is bound first: functions that invoke others are told where it is.
        lambda_socket = socket.create_server((options.host, options.lambda_port))
        cleanup.callback(lambda_socket.close)
        client_host = "127.0.0.1" if options.host in ("0.0.0.0", "::") else options.host  # noqa: S104
        lambda_url = f"http://{client_host}:{lambda_socket.getsockname()[1]}"
        environments = {
            name: lambda_environment(stack, name, spec.memory_mb, lambda_url) for name, spec in specs.items()
        }
        _inject_faults(options, environments)
        pool = FunctionPool(specs, environments, endpoints.region, LOCAL_ACCOUNT_ID, alarms.tapping(printer))
        cleanup.callback(pool.close)
        pool.warm()

        s3 = session.client("s3", endpoint_url=endpoints.s3)
        clients = AwsClients(
            streams=session.client("dynamodbstreams", endpoint_url=endpoints.dynamodb),
            sqs=sqs,
            queue_urls=_queue_urls(stack),
        )

        destinations = async_failure_destinations(stack)

        def async_failed(name: str, event: Any, result: InvocationResult) -> None:
            destination = destinations.get(name)
            if destination is None:
                printer(name, f"asynchronous invocation {result.request_id} failed after its retries")
                return
            clients.sqs.send_message(
                QueueUrl=clients.queue_urls[destination],
                MessageBody=json.dumps(invocation_record(pool.arn(name), event, result, ASYNC_ATTEMPTS)),
            )
            printer(
                name,
                f"asynchronous invocation {result.request_id} failed after its retries; to {destination}",
            )

        gateway = HttpGateway(stack, pool)
        http_server = _serve(gateway, options.host, options.port)
        cleanup.callback(http_server.shutdown)
        lambda_server = _serve(
            LambdaApi(pool, async_failed), options.host, options.lambda_port, lambda_socket
        )
        cleanup.callback(lambda_server.shutdown)

        pumps, queue_pumps = _start_event_sources(stack, pool, clients, printer, cleanup)
        scheduler = Scheduler(schedules_of(stack), pool, clients, printer)
        scheduler.start()
        cleanup.callback(scheduler.stop)
        alarms.start()
        cleanup.callback(alarms.stop)

        buckets = {
            logical_id: stack.resources[logical_id].ref
            for logical_id in resources_of_type(stack.template, "AWS::S3::Bucket")
        }
        mirror = BucketMirror(s3, buckets, options.state_dir / "buckets")
        mirror.start()
        cleanup.callback(mirror.stop)

        running = RunningStack(
            stack=stack,
            pool=pool,
            gateway=gateway,
            http_url=f"http://{options.host}:{http_server.port}",
            lambda_url=f"http://{options.host}:{lambda_server.port}",
            scheduler=scheduler,
            pumps=pumps,
            queue_pumps=queue_pumps,
            mirror=mirror,
            state_dir=options.state_dir,
        )
        options.state_dir.mkdir(parents=True, exist_ok=True)
        state_file = _write_state(options.state_dir, running.describe())
        cleanup.callback(state_file.unlink, missing_ok=True)
        yield running


def _stop_now(out: IO[str] | None, why: str) -> None:
    """No more waiting: end every process this stack started (function environments, DynamoDB Local)
    and exit, so that nothing outlives the command."""
    print(f"Stopping now ({why}).", file=out, flush=True)
    kill(child_pids(os.getpid()))
    os._exit(1)


def stop_signals(out: IO[str] | None) -> tuple[threading.Event, threading.Timer]:
    """Ctrl-C and SIGTERM set the event (a second one stops at once), and the watchdog to start when
    stopping in order begins: past STOP_TIMEOUT_SECONDS it stops at once too."""
    stopping = threading.Event()

    def on_signal(signum: int, _: Any) -> None:
        if stopping.is_set():
            _stop_now(out, f"{signal.Signals(signum).name} while stopping")
        stopping.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    watchdog = threading.Timer(STOP_TIMEOUT_SECONDS, _stop_now, args=(out, "stopping took too long"))
    watchdog.daemon = True
    return stopping, watchdog


def serve(options: ServeOptions, out: IO[str] | None = None) -> int:
    """Run until Ctrl-C or SIGTERM; stop in order, or at once on a second signal or when stopping in
    order takes longer than STOP_TIMEOUT_SECONDS."""
    stopping, watchdog = stop_signals(out)
    with running_stack(options) as running:
        print(running.banner(), file=out, flush=True)
        if options.faults:
            print(f"Injecting faults into {options.faults:.0%} of the functions' DynamoDB calls", file=out)
        while not stopping.wait(0.5):
            pass
        print("Stopping the local stack...", file=out, flush=True)
        watchdog.start()
    watchdog.cancel()
    if options.faults:
        print(f"Faults: {faults.describe(faults.read_counts(options.fault_log))}", file=out, flush=True)
    print("Stopped.", file=out, flush=True)
    return 0
