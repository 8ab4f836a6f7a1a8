"""Provisioning builds exactly what the template declares, and resolves references as CloudFormation does."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from partnerpoints_infra.local.backends import backends
from partnerpoints_infra.provision import (
    Endpoints,
    LocalStack,
    PhysicalResource,
    UnresolvableReference,
    provision,
)
from partnerpoints_infra.template import resources_of_type, translate_template


def test_every_template_table_exists_with_its_keys_and_indexes(moto_stack: LocalStack) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    for logical_id, resource in resources_of_type(translate_template(), "AWS::DynamoDB::Table").items():
        table = client.describe_table(TableName=moto_stack.table_name(logical_id))["Table"]
        properties = resource["Properties"]
        assert table["KeySchema"] == properties["KeySchema"]
        declared = {
            index["IndexName"]: index["KeySchema"] for index in properties.get("GlobalSecondaryIndexes", [])
        }
        created = {
            index["IndexName"]: index["KeySchema"] for index in table.get("GlobalSecondaryIndexes", [])
        }
        assert created == declared
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_ttl_is_switched_on_where_the_template_says(moto_stack: LocalStack) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    ttl = client.describe_time_to_live(TableName=moto_stack.table_name("IdempotencyTable"))
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}


def test_bucket_and_queue_exist(moto_stack: LocalStack) -> None:
    boto3.client("s3", region_name="us-east-1").head_bucket(
        Bucket=moto_stack.resources["StatementsBucket"].ref
    )
    queue_url = moto_stack.resources["DeadLetterQueue"].ref
    attributes = boto3.client("sqs", region_name="us-east-1").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["MessageRetentionPeriod"]
    )["Attributes"]
    assert attributes["MessageRetentionPeriod"] == "1209600"


def test_provisioning_twice_reuses_what_exists(moto_stack: LocalStack) -> None:
    again = provision()
    assert again.resources.keys() == moto_stack.resources.keys()
    assert again.environment() == moto_stack.environment()


def test_function_environment_has_the_resolved_table_names(moto_stack: LocalStack) -> None:
    environment = moto_stack.function_environment("HealthFunction")
    assert environment["LEDGER_ENTRIES_TABLE_NAME"] == "partnerpoints-local-LedgerEntriesTable"
    assert environment["POWERTOOLS_LOG_LEVEL"] == "INFO"  # the parameter's default


@pytest.fixture
def resolver() -> LocalStack:
    return LocalStack(
        stack_name="demo",
        endpoints=Endpoints(region="eu-west-1"),
        sam_template={},
        template={"Parameters": {"Stage": {"Type": "String", "Default": "dev"}}},
        resources={
            "Orders": PhysicalResource(
                ref="demo-Orders",
                attributes={
                    "Arn": "arn:aws:dynamodb:eu-west-1:123456789012:table/demo-Orders",
                    "StreamArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/demo-Orders/stream/1",
                },
            )
        },
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "plain"),
        (30, "30"),
        (True, "true"),
        ({"Ref": "Orders"}, "demo-Orders"),
        ({"Ref": "Stage"}, "dev"),
        ({"Ref": "AWS::Region"}, "eu-west-1"),
        (
            {"Fn::GetAtt": ["Orders", "StreamArn"]},
            "arn:aws:dynamodb:eu-west-1:123456789012:table/demo-Orders/stream/1",
        ),
        ({"Fn::GetAtt": "Orders.Arn"}, "arn:aws:dynamodb:eu-west-1:123456789012:table/demo-Orders"),
        ({"Fn::Sub": "${AWS::StackName}-${Orders}-${Stage}"}, "demo-demo-Orders-dev"),
        (
            {"Fn::Sub": "${Orders.Arn}/index/*"},
            "arn:aws:dynamodb:eu-west-1:123456789012:table/demo-Orders/index/*",
        ),
        ({"Fn::Sub": ["${Name}-x", {"Name": {"Ref": "Stage"}}]}, "dev-x"),
        ({"Fn::Sub": "literal ${!NotAVariable}"}, "literal ${NotAVariable}"),
        ({"Fn::Join": ["/", ["a", {"Ref": "Stage"}]]}, "a/dev"),
    ],
)
def test_references_resolve_like_cloudformation(resolver: LocalStack, value: Any, expected: str) -> None:
    assert resolver.resolve(value) == expected


@pytest.mark.parametrize(
    "value",
    [{"Ref": "Nope"}, {"Fn::GetAtt": ["Orders", "Nope"]}, {"Fn::ImportValue": "x"}, ["a", "list"]],
)
def test_what_cannot_be_resolved_says_so(resolver: LocalStack, value: Any) -> None:
    with pytest.raises(UnresolvableReference):
        resolver.resolve(value)


def test_a_stack_started_after_another_in_one_process_starts_empty() -> None:
    """moto's backends are process globals: without a reset, the demo run after a test in one pytest
    process found that test's partner and answered its create 409."""
    for _ in range(2):
        with backends(use_dynamodb_local=False) as endpoints:
            s3 = boto3.client("s3", endpoint_url=endpoints.s3, region_name=endpoints.region)
            assert s3.list_buckets()["Buckets"] == []
            s3.create_bucket(Bucket="left-behind-by-the-previous-stack")
