"""Create the template's tables, buckets, queues and secrets in moto or DynamoDB Local, and resolve its
references.

`provision(...)` walks the *translated* template, so what exists locally is exactly what CloudFormation
would create: keys, GSIs, LSIs, streams and TTL for tables, plus buckets, queues and Secrets Manager
secrets (generated ones get a random value of the template's length). The returned
`LocalStack` answers `!Ref`, `!GetAtt` and `!Sub` the way CloudFormation would, which is how functions
get their environment variables locally.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from partnerpoints_infra.template import (
    TEMPLATE_PATH,
    Template,
    load_sam_template,
    resources_of_type,
    translate_template,
)

LOCAL_ACCOUNT_ID = "123456789012"
DEFAULT_STACK_NAME = "partnerpoints-local"

# CreateTable accepts these properties as they are written in CloudFormation.
_TABLE_PROPERTIES = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "ProvisionedThroughput",
    "StreamSpecification",
)
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class UnresolvableReference(Exception):
    """The template uses a reference or intrinsic that the local stack cannot answer."""


@dataclass
class PhysicalResource:
    """What CloudFormation would report for one resource: its `Ref` and its `GetAtt` attributes."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class Endpoints:
    """Where each service is reached; None means boto3's default (which moto intercepts)."""

    region: str = "us-east-1"
    dynamodb: str | None = None
    s3: str | None = None
    sqs: str | None = None
    secretsmanager: str | None = None


@dataclass
class LocalStack:
    stack_name: str
    endpoints: Endpoints
    sam_template: Template
    template: Template
    resources: dict[str, PhysicalResource]
    template_path: Path = TEMPLATE_PATH
    # Template parameters given a value other than their Default (as `sam deploy --parameter-overrides`).
    parameters: dict[str, str] = field(default_factory=dict)

    def pseudo_parameters(self) -> dict[str, str]:
        return {
            "AWS::Region": self.endpoints.region,
            "AWS::AccountId": LOCAL_ACCOUNT_ID,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": "",
        }

    def _ref(self, name: str) -> str:
        if name in self.resources:
            return self.resources[name].ref
        pseudo = self.pseudo_parameters()
        if name in pseudo:
            return pseudo[name]
        parameter = self.template.get("Parameters", {}).get(name)
        if parameter is not None and name in self.parameters:
            return self.parameters[name]
        if parameter is not None and "Default" in parameter:
            return str(parameter["Default"])
        raise UnresolvableReference(
            f"Ref {name!r}: not a provisioned resource, parameter or pseudo parameter"
        )

    def _get_att(self, logical_id: str, attribute: str) -> str:
        resource = self.resources.get(logical_id)
        if resource is None or attribute not in resource.attributes:
            raise UnresolvableReference(f"Fn::GetAtt {logical_id}.{attribute}: not available locally")
        return resource.attributes[attribute]

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return self.resolve(variables[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self._get_att(logical_id, attribute)
            return self._ref(name)

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")

    def resolve(self, value: Any) -> str:
        """A template value (literal or intrinsic) as the string CloudFormation would give a function."""
        if isinstance(value, str | int | float | bool):
            return str(value).lower() if isinstance(value, bool) else str(value)
        if isinstance(value, dict) and len(value) == 1:
            ((function, argument),) = value.items()
            if function == "Ref":
                return self._ref(argument)
            if function == "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self._get_att(logical_id, attribute)
            if function == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                return self._sub(text, variables)
            if function == "Fn::Join":
                delimiter, parts = argument
                return str(delimiter).join(self.resolve(part) for part in parts)
        raise UnresolvableReference(f"cannot resolve {value!r} locally")

    def environment(self) -> dict[str, str]:
        """The variables every function gets (the template's Globals), resolved."""
        variables = self.sam_template.get("Globals", {}).get("Function", {}).get("Environment", {})
        return {name: self.resolve(value) for name, value in variables.get("Variables", {}).items()}

    def function_environment(self, logical_id: str) -> dict[str, str]:
        """One function's environment as Lambda would set it (Globals merged by the SAM transform)."""
        function = self.template["Resources"][logical_id]
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        return {name: self.resolve(value) for name, value in variables.items()}

    def runtime_environment(self, logical_id: str | None = None) -> dict[str, str]:
        """What code running on this stack sees: one function's variables (or the Globals ones when
        no function is named), plus the region and, for DynamoDB Local, its endpoint."""
        variables = self.function_environment(logical_id) if logical_id else self.environment()
        variables["AWS_REGION"] = self.endpoints.region
        if self.endpoints.dynamodb:
            variables["DYNAMODB_ENDPOINT_URL"] = self.endpoints.dynamodb
        return variables

    def table_name(self, logical_id: str) -> str:
        return self.resources[logical_id].ref


def _create_table(client: Any, name: str, properties: dict[str, Any]) -> dict[str, Any]:
    request = {key: properties[key] for key in _TABLE_PROPERTIES if key in properties}
    if "StreamSpecification" in request:
        request["StreamSpecification"] = {"StreamEnabled": True, **request["StreamSpecification"]}
    try:
        client.create_table(TableName=name, **request)
    except ClientError as error:
        # A persistent DynamoDB Local keeps tables between runs; reuse what is there.
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        current = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
    table: dict[str, Any] = client.describe_table(TableName=name)["Table"]
    return table


def _create_secret(client: Any, name: str, properties: dict[str, Any]) -> str:
    """A secret as CloudFormation makes it: a literal SecretString, or one generated to the template's
    GenerateSecretString length (letters and digits: stricter than any exclusion it may ask for)."""
    generate = properties.get("GenerateSecretString")
    if generate is not None:
        length = int(generate.get("PasswordLength", 32))
        value = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))
    else:
        value = properties["SecretString"]
    try:
        arn: str = client.create_secret(Name=name, SecretString=value)["ARN"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceExistsException":
            raise
        arn = client.describe_secret(SecretId=name)["ARN"]
    return arn


@cache
def _shared_session() -> boto3.session.Session:
    # One session for every provisioning in a process: loading service models dominates client creation.
    return boto3.session.Session()


def function_resources(template: Template, region: str) -> dict[str, PhysicalResource]:
    """Functions keep their logical id as their name locally, so `--function-name StatementsFunction`
    works as it does with `sam local`."""
    return {
        logical_id: PhysicalResource(
            ref=logical_id,
            attributes={"Arn": f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT_ID}:function:{logical_id}"},
        )
        for logical_id in resources_of_type(template, "AWS::Lambda::Function")
    }


def _physical_name(stack_name: str, logical_id: str) -> str:
    return f"{stack_name}-{logical_id}"


def provision(
    endpoints: Endpoints | None = None,
    stack_name: str = DEFAULT_STACK_NAME,
    session: boto3.session.Session | None = None,
    template_path: Path = TEMPLATE_PATH,
) -> LocalStack:
    """Create every table, bucket, queue and secret of the template and return how to reach them."""
    endpoints = endpoints or Endpoints()
    session = session or _shared_session()
    template = translate_template(template_path)
    resources: dict[str, PhysicalResource] = {}

    resources.update(function_resources(template, endpoints.region))

    dynamodb = session.client("dynamodb", region_name=endpoints.region, endpoint_url=endpoints.dynamodb)
    for logical_id, resource in resources_of_type(template, "AWS::DynamoDB::Table").items():
        name = _physical_name(stack_name, logical_id)
        table = _create_table(dynamodb, name, resource["Properties"])
        attributes = {"Arn": table["TableArn"]}
        if "LatestStreamArn" in table:
            attributes["StreamArn"] = table["LatestStreamArn"]
        resources[logical_id] = PhysicalResource(ref=name, attributes=attributes)

    s3 = session.client("s3", region_name=endpoints.region, endpoint_url=endpoints.s3)
    for logical_id in resources_of_type(template, "AWS::S3::Bucket"):
        name = _physical_name(stack_name, logical_id).lower()
        try:
            s3.create_bucket(Bucket=name)
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        resources[logical_id] = PhysicalResource(
            ref=name,
            attributes={"Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com"},
        )

    sqs = session.client("sqs", region_name=endpoints.region, endpoint_url=endpoints.sqs)
    for logical_id, resource in resources_of_type(template, "AWS::SQS::Queue").items():
        name = _physical_name(stack_name, logical_id)
        queue_attributes = {
            key: str(resource["Properties"][key])
            for key in ("MessageRetentionPeriod", "VisibilityTimeout")
            if key in resource.get("Properties", {})
        }
        url = sqs.create_queue(QueueName=name, Attributes=queue_attributes)["QueueUrl"]
        arn = f"arn:aws:sqs:{endpoints.region}:{LOCAL_ACCOUNT_ID}:{name}"
        resources[logical_id] = PhysicalResource(ref=url, attributes={"Arn": arn, "QueueName": name})

    secrets = session.client(
        "secretsmanager", region_name=endpoints.region, endpoint_url=endpoints.secretsmanager
    )
    for logical_id, resource in resources_of_type(template, "AWS::SecretsManager::Secret").items():
        arn = _create_secret(secrets, _physical_name(stack_name, logical_id), resource["Properties"])
        resources[logical_id] = PhysicalResource(ref=arn, attributes={"Id": arn})

    return LocalStack(
        stack_name=stack_name,
        endpoints=endpoints,
        sam_template=load_sam_template(template_path),
        template=template,
        resources=resources,
        template_path=template_path,
    )
