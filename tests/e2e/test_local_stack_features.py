"""Every feature of the local stack, on a fixture template made to exercise them (tests/fixtures/
local_stack): payload 2.0 events and answers, authorizers, timeouts, the Lambda Invoke API, a stream
with partial batch failures and an on-failure queue, schedules, the bucket mirror. On both backends."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import boto3
import pytest

from partnerpoints_infra.http_client import call
from partnerpoints_infra.local.authorizers import create_token
from partnerpoints_infra.local.commands import jwt_authorizers
from partnerpoints_infra.local.function_pool import console_printer
from partnerpoints_infra.local.serve import RunningStack, ServeOptions, running_stack
from partnerpoints_infra.template import PROJECT_ROOT

FIXTURE = PROJECT_ROOT / "tests/fixtures/local_stack/template.yaml"
T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout: float = 30.0) -> T:
    """Poll until `probe` returns something; streams and mirrors are asynchronous by nature."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("nothing arrived in time")
        time.sleep(0.1)


@pytest.fixture(scope="module", params=["moto", "dynamodb-local"])
def fixture_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    options = ServeOptions(
        port=0,
        lambda_port=0,
        use_dynamodb_local=request.param == "dynamodb-local",
        state_dir=tmp_path_factory.mktemp("fixture-state"),
        template_path=FIXTURE,
    )
    with running_stack(options, printer=console_printer()) as running:
        yield running


def client(running: RunningStack, service: str) -> Any:
    endpoints = running.stack.endpoints
    url = endpoints.dynamodb if service == "dynamodb" else endpoints.s3
    return boto3.client(service, endpoint_url=url, region_name=endpoints.region)


def echo(running: RunningStack, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    answer = call(method, f"{running.http_url}{path}", **kwargs)
    assert answer.status == 200, answer.body
    return answer.json()  # type: ignore[no-any-return]


def test_requests_become_payload_2_0_events(fixture_stack: RunningStack) -> None:
    event = echo(
        fixture_stack,
        "POST",
        "/echo/a/b?x=1&x=2&empty=",
        body={"hello": "world"},
        headers={"X-Custom": "Yes", "Cookie": "one=1; two=2"},
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /echo/{proxy+}"
    assert (event["rawPath"], event["rawQueryString"]) == ("/echo/a/b", "x=1&x=2&empty=")
    assert event["queryStringParameters"] == {"x": "1,2", "empty": ""}
    assert event["pathParameters"] == {"proxy": "a/b"}
    assert event["headers"]["x-custom"] == "Yes"
    assert all(name == name.lower() for name in event["headers"])
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["one=1", "two=2"]
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["http"]["path"] == "/echo/a/b"
    assert event["requestContext"]["stage"] == "$default"
    assert (json.loads(event["body"]), event["isBase64Encoded"]) == ({"hello": "world"}, False)


def test_binary_and_unknown_bodies_arrive_base64_encoded(fixture_stack: RunningStack) -> None:
    payload = bytes(range(256))
    event = echo(
        fixture_stack,
        "PUT",
        "/echo/upload",
        raw=payload,
        headers={"content-type": "application/octet-stream"},
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload
    form = echo(
        fixture_stack,
        "POST",
        "/echo/form",
        raw=b"a=1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert base64.b64decode(form["body"]) == b"a=1"  # as API Gateway HTTP APIs do


def test_the_most_specific_route_wins(fixture_stack: RunningStack) -> None:
    event = echo(fixture_stack, "GET", "/echo/items/42")
    assert event["routeKey"] == "GET /echo/items/{item_id}"
    assert event["pathParameters"] == {"item_id": "42"}
    assert echo(fixture_stack, "DELETE", "/echo/items/42")["routeKey"] == "ANY /echo/{proxy+}"
    assert call("GET", f"{fixture_stack.http_url}/elsewhere").status == 404


def test_answers_become_http_with_cookies_and_binary_bodies(fixture_stack: RunningStack) -> None:
    answer = call("GET", f"{fixture_stack.http_url}/echo/binary")
    assert answer.status == 200
    assert answer.body == b"\x89PNG\r\n\x1a\n\x00\x01"
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers.get_all("set-cookie") == ["session=abc; HttpOnly", "theme=dark"]
    # A return value without statusCode is sent as a 200 JSON document.
    plain = call("GET", f"{fixture_stack.http_url}/echo/plain")
    assert (plain.status, plain.json()) == (200, {"plain": True, "remaining_ms_positive": True})


def test_failures_and_timeouts_are_500_and_the_next_request_is_served(fixture_stack: RunningStack) -> None:
    assert call("GET", f"{fixture_stack.http_url}/echo/crash").json() == {"message": "Internal Server Error"}
    timed_out = call("GET", f"{fixture_stack.http_url}/echo/sleep")
    assert (timed_out.status, timed_out.json()) == (500, {"message": "Internal Server Error"})
    assert echo(fixture_stack, "GET", "/echo/after")["rawPath"] == "/echo/after"
    # A handler that ends its process: 500, and a fresh environment serves the next request.
    assert call("GET", f"{fixture_stack.http_url}/echo/exit").status == 500
    assert echo(fixture_stack, "GET", "/echo/again")["rawPath"] == "/echo/again"


def test_jwt_routes_check_token_audience_issuer_and_scopes(fixture_stack: RunningStack) -> None:
    authorizer = jwt_authorizers(FIXTURE)["FixtureJwt"]
    url = f"{fixture_stack.http_url}/private"
    with_scope = {"authorization": f"Bearer {create_token(authorizer, 'alice', ['read'])}"}
    event = echo(fixture_stack, "GET", "/private", headers=with_scope)
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert (claims["sub"], claims["iss"], claims["aud"]) == (
        "alice",
        "https://issuer.fixture.local/",
        "fixture-app",
    )
    assert isinstance(claims["exp"], str)  # API Gateway passes every claim as a string
    assert event["requestContext"]["authorizer"]["jwt"]["scopes"] == ["read"]

    no_scope = {"authorization": f"Bearer {create_token(authorizer, 'alice', [])}"}
    assert call("GET", url, headers=no_scope).status == 403
    missing = call("GET", url)
    assert (missing.status, missing.json()) == (401, {"message": "Unauthorized"})
    assert "www-authenticate" in missing.headers
    expired = create_token(authorizer, "alice", ["read"], now=time.time() - 13 * 3600)
    assert call("GET", url, headers={"authorization": f"Bearer {expired}"}).status == 401
    other_app = jwt_authorizers(PROJECT_ROOT / "template.yaml")["MemberAuthorizer"]
    wrong_audience = create_token(other_app, "alice", ["read"])
    assert call("GET", url, headers={"authorization": f"Bearer {wrong_audience}"}).status == 401


def test_iam_routes_are_marked_as_called_by_the_local_admin(fixture_stack: RunningStack) -> None:
    event = echo(fixture_stack, "POST", "/ops", body={})
    iam = event["requestContext"]["authorizer"]["iam"]
    assert iam["userArn"] == "arn:aws:iam::123456789012:user/local-admin"


def test_lambda_invoke_api(fixture_stack: RunningStack) -> None:
    lambda_client = boto3.client("lambda", endpoint_url=fixture_stack.lambda_url, region_name="us-east-1")
    answer = lambda_client.invoke(FunctionName="EchoFunction", Payload=json.dumps({"rawPath": "/echo/plain"}))
    assert json.loads(answer["Payload"].read()) == {"plain": True, "remaining_ms_positive": True}

    failed = lambda_client.invoke(
        FunctionName="EchoFunction", Payload=json.dumps({"rawPath": "/echo/crash"}), LogType="Tail"
    )
    assert failed["FunctionError"] == "Unhandled"
    error = json.loads(failed["Payload"].read())
    assert (error["errorType"], error["errorMessage"]) == (
        "ValueError",
        "the echo function failed on purpose",
    )
    assert "ValueError" in base64.b64decode(failed["LogResult"]).decode()

    exited = lambda_client.invoke(FunctionName="EchoFunction", Payload=json.dumps({"rawPath": "/echo/exit"}))
    assert exited["FunctionError"] == "Unhandled"
    assert json.loads(exited["Payload"].read())["errorType"] == "Runtime.ExitError"

    arn = "arn:aws:lambda:us-east-1:123456789012:function:EchoFunction"
    assert lambda_client.invoke(FunctionName=arn, InvocationType="DryRun")["StatusCode"] == 204
    assert lambda_client.invoke(FunctionName=arn, InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    with pytest.raises(lambda_client.exceptions.InvalidRequestContentException):
        lambda_client.invoke(FunctionName="EchoFunction", Payload=b"{not json")


def test_stream_records_reach_their_function_and_failures_end_in_the_queue(
    fixture_stack: RunningStack,
) -> None:
    dynamodb = client(fixture_stack, "dynamodb")
    sqs = client(fixture_stack, "sqs")
    records = fixture_stack.stack.table_name("RecordsTable")
    seen = fixture_stack.stack.table_name("SeenTable")
    queue_url = fixture_stack.stack.resources["FailuresQueue"].ref
    for key, fail in (("ok-1", False), ("bad-1", True), ("ok-2", False)):
        dynamodb.put_item(TableName=records, Item={"pk": {"S": key}, "fail": {"BOOL": fail}})

    def deliveries(key: str) -> int | None:
        item = dynamodb.get_item(TableName=seen, Key={"pk": {"S": key}}, ConsistentRead=True).get("Item")
        return int(item["deliveries"]["N"]) if item else None

    def failure_message() -> dict[str, Any] | None:
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])
        return json.loads(messages[0]["Body"]) if messages else None

    message = eventually(failure_message)
    info = message["DDBStreamBatchInfo"]
    # One delivery plus MaximumRetryAttempts (2) for the failing record. Retries start at the first
    # failed record, so ok-1 before it is never redone; ok-2 is redone only if the stream handed it over
    # in the same batch (after bad-1), and then it is part of the batch sent to the queue.
    assert eventually(lambda: deliveries("ok-2")) in (1, 3)
    assert deliveries("bad-1") == 3
    assert deliveries("ok-1") == 1
    assert info["batchSize"] == (2 if deliveries("ok-2") == 3 else 1)
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 3
    assert info["streamArn"] == fixture_stack.stack.resources["RecordsTable"].attributes["StreamArn"]
    # The batch info locates the failed record in the stream, as in AWS.
    streams = boto3.client(
        "dynamodbstreams", endpoint_url=fixture_stack.stack.endpoints.dynamodb, region_name="us-east-1"
    )
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    failed_record = streams.get_records(ShardIterator=iterator, Limit=1)["Records"][0]
    assert failed_record["dynamodb"]["Keys"] == {"pk": {"S": "bad-1"}}


def test_schedules_fire_their_target_with_its_input_and_dead_letter_on_failure(
    fixture_stack: RunningStack,
) -> None:
    (tick,) = fixture_stack.scheduler.schedules
    assert (tick.function, tick.expression, tick.timezone) == (
        "EchoFunction",
        "cron(0 3 * * ? *)",
        "Europe/Berlin",
    )
    assert fixture_stack.scheduler.fire(tick) is True
    dynamodb = client(fixture_stack, "dynamodb")
    seen = fixture_stack.stack.table_name("SeenTable")
    assert "Item" in dynamodb.get_item(TableName=seen, Key={"pk": {"S": "tick"}})

    failing = type(tick)(**{**tick.__dict__, "input": json.dumps({"action": "explode"})})
    assert fixture_stack.scheduler.fire(failing) is False
    sqs = client(fixture_stack, "sqs")
    queue_url = fixture_stack.stack.resources["FailuresQueue"].ref
    messages = sqs.receive_message(QueueUrl=queue_url, MessageAttributeNames=["All"], WaitTimeSeconds=1)[
        "Messages"
    ]
    dead = [message for message in messages if "ERROR_CODE" in message.get("MessageAttributes", {})]
    assert json.loads(dead[0]["Body"]) == {"action": "explode"}
    assert dead[0]["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "RuntimeError"


def test_bucket_objects_are_mirrored_under_the_state_dir(fixture_stack: RunningStack) -> None:
    assert call("GET", f"{fixture_stack.http_url}/echo/write").status == 201
    mirrored = fixture_stack.state_dir / "buckets/FixtureBucket/reports/2026/summary.json"
    eventually(lambda: mirrored if mirrored.exists() else None)
    assert json.loads(mirrored.read_text()) == {"ok": True}


def test_stack_json_describes_the_running_stack(fixture_stack: RunningStack) -> None:
    described = json.loads(Path(fixture_stack.state_dir, "stack.json").read_text())
    assert described["http_url"] == fixture_stack.http_url
    assert set(described["functions"]) == {"EchoFunction", "RecorderFunction"}
    assert "GET /private" in described["routes"]
