"""What each function needs from its environment: declared once in its app.py, given by the template,
matching what its IAM policy lets it touch, and checked at init (a missing variable stops the function
before any request, with a message naming it)."""

from __future__ import annotations

import json
import re

import pytest

from partnerpoints.settings import REGION_VARIABLE, Requirements, SettingsError, table_variable
from partnerpoints_infra.functions import cold_start, function_specs
from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import load_sam_template, resources_of_type, translate_template

FUNCTIONS = sorted(resources_of_type(load_sam_template(), "AWS::Serverless::Function"))


def _requirements(stack: LocalStack, logical_id: str) -> Requirements:
    module = cold_start(stack, logical_id, stack.runtime_environment(logical_id))
    requirements: Requirements = module.REQUIREMENTS
    return requirements


def _tables_in_policy(logical_id: str) -> set[str]:
    template = translate_template()
    tables = resources_of_type(template, "AWS::DynamoDB::Table")
    policies = json.dumps(template["Resources"][f"{logical_id}Role"]["Properties"].get("Policies", []))
    return {table for table in tables if re.search(rf"(?<![A-Za-z]){table}(?![A-Za-z])", policies)}


def test_every_table_of_the_template_gives_its_name_to_the_functions_under_its_derived_variable() -> None:
    template = load_sam_template()
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    tables = resources_of_type(template, "AWS::DynamoDB::Table")
    given = {name: value["Ref"] for name, value in variables.items() if name.endswith("_TABLE_NAME")}
    assert given == {table_variable(logical_id): logical_id for logical_id in tables}


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_a_function_declares_the_tables_its_policy_grants_and_the_template_gives_what_it_declares(
    moto_stack: LocalStack, logical_id: str
) -> None:
    requirements = _requirements(moto_stack, logical_id)
    assert set(requirements.tables) == _tables_in_policy(logical_id)
    environment = moto_stack.runtime_environment(logical_id)
    assert [name for name in requirements.variable_names if not environment.get(name)] == []


# Those that need nothing but what every function is given (no table, no setting of their own).
@pytest.mark.parametrize(
    "logical_id", [name for name in FUNCTIONS if name not in ("HealthFunction", "PortalFunction")]
)
def test_a_function_without_a_required_variable_fails_its_init_naming_it(
    moto_stack: LocalStack, logical_id: str
) -> None:
    requirements = _requirements(moto_stack, logical_id)
    # Its own variables first (the ones a deployment most easily forgets), else a table's.
    own, tables = requirements.variables, requirements.tables
    missing = own[-1] if own else table_variable(tables[-1])
    environment = {
        name: value for name, value in moto_stack.runtime_environment(logical_id).items() if name != missing
    }
    with pytest.raises(SettingsError, match=rf"cannot start: {missing} not set"):
        cold_start(moto_stack, logical_id, environment)


def test_a_malformed_value_fails_the_init_naming_the_variable(moto_stack: LocalStack) -> None:
    environment = {**moto_stack.runtime_environment("PostbackFunction"), "CLOCK_TOLERANCE_SECONDS": "1h"}
    with pytest.raises(SettingsError, match="CLOCK_TOLERANCE_SECONDS must be a whole number from 0 to 3600"):
        cold_start(moto_stack, "PostbackFunction", environment)


def test_malformed_earning_rules_fail_the_init_of_a_function_that_earns(moto_stack: LocalStack) -> None:
    environment = {**moto_stack.runtime_environment("AccrualFunction"), "EARNING_RULES": '{"tiers": 3}'}
    with pytest.raises(SettingsError, match="EARNING_RULES is not valid earning rules"):
        cold_start(moto_stack, "AccrualFunction", environment)


def test_the_health_function_needs_nothing_but_the_region_is_not_asked_of_it(moto_stack: LocalStack) -> None:
    module = cold_start(moto_stack, "HealthFunction", {})
    assert module.REQUIREMENTS.variable_names == ()
    assert REGION_VARIABLE not in module.REQUIREMENTS.variable_names
    assert set(function_specs(moto_stack)) == set(FUNCTIONS)
