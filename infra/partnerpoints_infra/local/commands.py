"""`partnerpoints local serve | invoke | token`: the local stack's command line."""

from __future__ import annotations

import argparse
import base64
import contextlib
import errno
import json
import os
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from partnerpoints_infra.dynamodb_local import DynamoDBLocalUnavailable
from partnerpoints_infra.functions import forget_execution_environments, function_specs, invoke
from partnerpoints_infra.local.authorizers import JwtAuthorizer, create_token
from partnerpoints_infra.local.http_gateway import routes_of
from partnerpoints_infra.local.serve import (
    DEFAULT_STATE_DIR,
    LOCAL_CREDENTIALS,
    STATE_FILE,
    ServeOptions,
    serve,
)
from partnerpoints_infra.provision import Endpoints, LocalStack, function_resources, provision
from partnerpoints_infra.template import TEMPLATE_PATH, load_sam_template, translate_template


class CommandError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


def template_only_stack(template_path: Path) -> LocalStack:
    """The template's parameters, pseudo parameters and function ARNs, for reading its configuration
    (routes, authorizers) without provisioning anything."""
    template = translate_template(template_path)
    endpoints = Endpoints()
    return LocalStack(
        stack_name="partnerpoints-local",
        endpoints=endpoints,
        sam_template=load_sam_template(template_path),
        template=template,
        resources=function_resources(template, endpoints.region),
        template_path=template_path,
    )


def jwt_authorizers(template_path: Path) -> dict[str, JwtAuthorizer]:
    routes = routes_of(template_only_stack(template_path))
    return {route.jwt.name: route.jwt for route in routes if route.jwt is not None}


def running_lambda_url(state_dir: Path) -> str | None:
    """The Lambda API of a stack serving from `state_dir`, if one answers."""
    try:
        described = json.loads((state_dir / STATE_FILE).read_text(encoding="utf-8"))
        url = str(described["lambda_url"])
        with urllib.request.urlopen(f"{url}/2015-03-31/functions/", timeout=2):  # noqa: S310 - loopback
            return url
    except (OSError, ValueError, KeyError):
        return None


def _invoke_remote(url: str, function: str, event: Any) -> tuple[Any, bool]:
    client = boto3.client(
        "lambda",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    try:
        answer = client.invoke(FunctionName=function, Payload=json.dumps(event).encode(), LogType="Tail")
    except client.exceptions.ResourceNotFoundException as error:
        raise CommandError(str(error)) from error
    print(base64.b64decode(answer.get("LogResult", "")).decode(errors="replace"), file=sys.stderr, end="")
    return json.loads(answer["Payload"].read() or b"null"), "FunctionError" not in answer


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Everything written to stdout meanwhile goes to stderr, at the file-descriptor level too: a
    Logger made before this block still holds the original stdout object."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _invoke_in_process(template_path: Path, function: str, event: Any) -> tuple[Any, bool]:
    # Function logs go to stderr, as with `sam local invoke`; stdout carries the response only.
    for name, value in {**LOCAL_CREDENTIALS, "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    with mock_aws(), _stdout_to_stderr():
        stack = provision(template_path=template_path)
        forget_execution_environments()  # a new stack: nothing cached from another one
        if function not in function_specs(stack):
            raise CommandError(f"{function} is not a function of {template_path.name}")
        try:
            return invoke(stack, function, event), True
        except Exception as error:  # the handler's own failure, reported as Lambda would
            return {"errorType": type(error).__name__, "errorMessage": str(error)}, False


def invoke_command(args: argparse.Namespace) -> int:
    try:
        event = json.loads(args.event.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise CommandError(f"no event file {args.event}") from error
    except ValueError as error:
        raise CommandError(f"{args.event} is not JSON: {error}") from error
    url = running_lambda_url(args.state_dir)
    if url is not None:
        print(f"invoking {args.function} on the running stack at {url}", file=sys.stderr)
        payload, ok = _invoke_remote(url, args.function, event)
    else:
        print(f"no running stack in {args.state_dir}/: invoking {args.function} in-process", file=sys.stderr)
        payload, ok = _invoke_in_process(args.template, args.function, event)
    print(json.dumps(payload, indent=2))
    return 0 if ok else 1


def token_command(args: argparse.Namespace) -> int:
    authorizers = jwt_authorizers(args.template)
    if not authorizers:
        raise CommandError(f"{args.template.name} declares no JWT authorizer")
    if args.authorizer is None and len(authorizers) > 1:
        raise CommandError(
            f"several JWT authorizers ({', '.join(sorted(authorizers))}): pick one with --authorizer"
        )
    name = args.authorizer or next(iter(authorizers))
    if name not in authorizers:
        raise CommandError(f"no JWT authorizer {name!r}; the template has {', '.join(sorted(authorizers))}")
    print(create_token(authorizers[name], args.member_id, args.scope))
    return 0


def fault_rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        rate = -1.0
    if not 0 <= rate < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a share of calls from 0 to below 1, e.g. 0.1")
    return rate


def add_parser(commands: Any) -> None:
    local = commands.add_parser("local", help="the local stack: serve, invoke, token")
    actions = local.add_subparsers(dest="action", required=True)

    serve_parser = actions.add_parser("serve", help="serve the whole template on this machine")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=3000, help="HTTP API port (0: any free port)")
    serve_parser.add_argument("--lambda-port", type=int, default=3001, help="Lambda Invoke API port")
    serve_parser.add_argument(
        "--dynamodb-local", action="store_true", help="keep tables in AWS DynamoDB Local"
    )
    serve_parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    serve_parser.add_argument("--template", type=Path, default=TEMPLATE_PATH)
    serve_parser.add_argument(
        "--faults",
        type=fault_rate,
        default=0.0,
        metavar="RATE",
        help="fail this share of the functions' DynamoDB calls as DynamoDB does (e.g. 0.1)",
    )

    invoke_parser = actions.add_parser("invoke", help="run one function once with an event file")
    invoke_parser.add_argument("function", help="the function's logical id, e.g. HealthFunction")
    invoke_parser.add_argument("-e", "--event", type=Path, required=True, help="a JSON event file")
    invoke_parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    invoke_parser.add_argument("--template", type=Path, default=TEMPLATE_PATH)

    token_parser = actions.add_parser("token", help="print a member token the local JWT authorizer accepts")
    token_parser.add_argument("member_id")
    token_parser.add_argument("--scope", action="append", default=[], help="a scope to grant (repeatable)")
    token_parser.add_argument("--authorizer", help="which JWT authorizer, when the template has several")
    token_parser.add_argument("--template", type=Path, default=TEMPLATE_PATH)


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "serve":
            options = ServeOptions(
                host=args.host,
                port=args.port,
                lambda_port=args.lambda_port,
                use_dynamodb_local=args.dynamodb_local,
                state_dir=args.state_dir,
                template_path=args.template.resolve(),
                faults=args.faults,
            )
            try:
                return serve(options)
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise
                raise CommandError(
                    f"a port is already in use ({error}): choose others with --port/--lambda-port"
                ) from error
        if args.action == "invoke":
            return invoke_command(args)
        return token_command(args)
    except (CommandError, DynamoDBLocalUnavailable) as error:
        print(f"partnerpoints local {args.action}: {error}", file=sys.stderr)
        return 2
