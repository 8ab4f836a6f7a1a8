"""template.yaml is the single source of truth: it translates, lints clean, and the code matches it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from partnerpoints.dal.tables import TEMPLATE_TABLES, bind_tables
from partnerpoints.settings import Settings
from partnerpoints_infra.functions import function_specs
from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import (
    PROJECT_ROOT,
    load_sam_template,
    resources_of_type,
    translate_template,
)

EVENTS = PROJECT_ROOT / "events"


def lint_errors(template: dict[str, Any]) -> list[str]:
    matches = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))
    return [f"{match.rule.id} {match.message}" for match in matches]


def test_translated_template_lints_clean() -> None:
    assert lint_errors(translate_template()) == []


def test_the_lint_would_catch_a_bad_runtime() -> None:
    """Proves the check above can fail: cfn-lint sees the translated functions, not the SAM shorthand."""
    broken = translate_template()
    broken["Resources"]["HealthFunction"]["Properties"]["Runtime"] = "python2.1"
    assert any("python2.1" in error for error in lint_errors(broken))


def _schema_of_resource(properties: dict[str, Any]) -> dict[str, Any]:
    types = {d["AttributeName"]: d["AttributeType"] for d in properties["AttributeDefinitions"]}

    def keys(key_schema: list[dict[str, str]]) -> list[tuple[str, str, str]]:
        return sorted((k["AttributeName"], k["KeyType"], types[k["AttributeName"]]) for k in key_schema)

    def indexes(name: str) -> dict[str, Any]:
        return {
            index["IndexName"]: (keys(index["KeySchema"]), index["Projection"]["ProjectionType"])
            for index in properties.get(name, [])
        }

    return {
        "keys": keys(properties["KeySchema"]),
        "global": indexes("GlobalSecondaryIndexes"),
        "local": indexes("LocalSecondaryIndexes"),
    }


def _schema_of_model(model: Any) -> dict[str, Any]:
    schema = model._get_schema()

    def indexes(name: str) -> list[dict[str, Any]]:
        return [
            {"IndexName": i["index_name"], "KeySchema": i["key_schema"], "Projection": i["projection"]}
            for i in schema[name]
        ]

    properties = {
        "AttributeDefinitions": schema["attribute_definitions"],
        "KeySchema": schema["key_schema"],
        "GlobalSecondaryIndexes": indexes("global_secondary_indexes"),
        "LocalSecondaryIndexes": indexes("local_secondary_indexes"),
    }
    return _schema_of_resource(properties)


@pytest.mark.parametrize("logical_id", sorted(TEMPLATE_TABLES))
def test_pynamodb_model_matches_its_table_in_the_template(logical_id: str) -> None:
    resource = translate_template()["Resources"][logical_id]
    assert resource["Type"] == "AWS::DynamoDB::Table"
    assert _schema_of_model(TEMPLATE_TABLES[logical_id]) == _schema_of_resource(resource["Properties"])


def test_drift_check_notices_a_changed_key() -> None:
    properties = copy.deepcopy(translate_template()["Resources"]["LedgerEntriesTable"]["Properties"])
    properties["GlobalSecondaryIndexes"][0]["KeySchema"][1]["AttributeName"] = "entry_id"
    assert _schema_of_model(TEMPLATE_TABLES["LedgerEntriesTable"]) != _schema_of_resource(properties)


def test_models_are_bound_to_their_own_tables_through_the_template_environment(
    moto_stack: LocalStack,
) -> None:
    bind_tables(Settings.from_environment({**moto_stack.environment(), "AWS_REGION": "us-east-1"}))
    for logical_id, model in TEMPLATE_TABLES.items():
        assert model.Meta.table_name == moto_stack.table_name(logical_id)


def test_every_table_but_powertools_own_has_a_model() -> None:
    tables = set(resources_of_type(translate_template(), "AWS::DynamoDB::Table"))
    assert tables - set(TEMPLATE_TABLES) == {"IdempotencyTable"}


def test_idempotency_table_has_the_shape_powertools_expects() -> None:
    properties = translate_template()["Resources"]["IdempotencyTable"]["Properties"]
    assert properties["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


@pytest.mark.parametrize("logical_id", sorted(TEMPLATE_TABLES))
def test_tables_of_record_are_protected(logical_id: str) -> None:
    resource = translate_template()["Resources"][logical_id]
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"
    assert resource["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert resource["Properties"]["SSESpecification"]["SSEEnabled"] is True


def test_no_table_name_is_hard_coded() -> None:
    for logical_id, resource in resources_of_type(translate_template(), "AWS::DynamoDB::Table").items():
        assert "TableName" not in resource["Properties"], logical_id


def test_statements_bucket_is_private_and_encrypted() -> None:
    properties = translate_template()["Resources"]["StatementsBucket"]["Properties"]
    assert all(properties["PublicAccessBlockConfiguration"].values())
    assert len(properties["PublicAccessBlockConfiguration"]) == 4
    rule = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}


def test_globals_follow_the_platform() -> None:
    sam = load_sam_template()
    function_globals = sam["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]
    assert function_globals["Tracing"] == "Active"
    layer = sam["Resources"]["CoreLayer"]
    assert layer["Metadata"]["BuildMethod"] == "python3.13"
    # SAM adds python/ itself; a ContentUri that already has it would nest the package one level too deep.
    assert (PROJECT_ROOT / layer["Properties"]["ContentUri"] / "partnerpoints" / "__init__.py").is_file()
    assert (PROJECT_ROOT / layer["Properties"]["ContentUri"] / "requirements.txt").is_file()


def test_no_function_role_allows_every_action() -> None:
    for logical_id, role in resources_of_type(translate_template(), "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                assert not any(action == "*" or action.endswith(":*") for action in actions), logical_id


def test_every_function_has_code_and_sample_events(moto_stack: LocalStack) -> None:
    for logical_id, spec in function_specs(moto_stack).items():
        assert (spec.code_dir / f"{spec.module}.py").is_file(), logical_id
        events = list((EVENTS / logical_id).glob("*.json"))
        assert events, f"events/{logical_id}/ has no sample event"
        for event in events:
            json.loads(Path(event).read_text())


def test_the_alarms_operations_relies_on_watch_what_they_say_and_tell_the_alarm_topic() -> None:
    template = translate_template()
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
    assert set(alarms) == {
        "DeadLetterQueueAlarm",
        "StatementMismatchesAlarm",
        "UnrecordedClicksAlarm",
        "HttpApiServerErrorsAlarm",
        "BackgroundFunctionsFailingAlarm",
        "OrderStreamBacklogAlarm",
        "CounterStreamBacklogAlarm",
        "WebhookEventStreamBacklogAlarm",
    }
    dead_letters = alarms["DeadLetterQueueAlarm"]["Properties"]
    assert dead_letters["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}
    ]
    assert alarms["StatementMismatchesAlarm"]["Properties"]["MetricName"] == "StatementMismatches"
    query = alarms["UnrecordedClicksAlarm"]["Properties"]["Metrics"][0]["Expression"]
    assert "SUM(UnrecordedClicks)" in query
    backlog = alarms["OrderStreamBacklogAlarm"]["Properties"]
    assert (backlog["MetricName"], backlog["Dimensions"][0]["Value"]) == (
        "IteratorAge",
        {"Ref": "AccrualFunction"},
    )
    counters = alarms["CounterStreamBacklogAlarm"]["Properties"]
    assert counters["Dimensions"][0]["Value"] == {"Ref": "PartnerCountersFunction"}
    events = alarms["WebhookEventStreamBacklogAlarm"]["Properties"]
    assert events["Dimensions"][0]["Value"] == {"Ref": "WebhookEventsFunction"}
    watched = json.dumps(alarms["BackgroundFunctionsFailingAlarm"]["Properties"]["Metrics"])
    for function in (
        "AccrualFunction",
        "PartnerCountersFunction",
        "StatementsFunction",
        "PromoCodeBatchFunction",
        "WebhookEventsFunction",
    ):
        assert watched.count(f'"Ref": "{function}"') == 2  # its errors and its throttles
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}


def _routes() -> dict[str, str]:
    """Route key -> who may call it (public, MemberAuthorizer or AWS_IAM)."""
    routes = {}
    for function in resources_of_type(load_sam_template(), "AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                properties = event["Properties"]
                caller = properties.get("Auth", {}).get("Authorizer", "public")
                routes[f"{properties['Method']} {properties['Path']}"] = caller
    return routes


def test_every_public_and_member_route_has_its_own_throttle_and_only_real_routes_have_one() -> None:
    api = load_sam_template()["Resources"]["HttpApi"]["Properties"]
    settings = api["RouteSettings"]
    routes = _routes()
    assert set(settings) <= set(routes)
    assert {route for route, caller in routes.items() if caller != "AWS_IAM"} <= set(settings)
    for limits in settings.values():
        assert 0 < limits["ThrottlingRateLimit"] <= limits["ThrottlingBurstLimit"]
        assert limits["ThrottlingRateLimit"] <= api["DefaultRouteSettings"]["ThrottlingRateLimit"]
