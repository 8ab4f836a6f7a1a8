from __future__ import annotations

import pytest

from partnerpoints.settings import VARIABLES, Requirements, Settings, SettingsError, table_variable


def test_settings_come_from_the_environment() -> None:
    settings = Settings.from_environment(
        {
            "AWS_REGION": "eu-west-1",
            "LEDGER_ENTRIES_TABLE_NAME": "stack-LedgerEntriesTable-1",
            "PROMO_CODE_BATCHES_TABLE_NAME": "stack-PromoCodeBatchesTable-1",
            "PROMO_CODE_BATCH_FUNCTION_NAME": "stack-PromoCodeBatchFunction-1",
            "MAX_ORDERS_PER_HOUR": "3",
            "EARNING_RULES": '{"reference_currency": "EUR"}',
        }
    )
    assert settings.region == "eu-west-1"
    assert settings.table_name("LedgerEntriesTable") == "stack-LedgerEntriesTable-1"
    assert settings.table_name("PromoCodeBatchesTable") == "stack-PromoCodeBatchesTable-1"
    assert settings.dynamodb_endpoint_url is None
    assert settings.max_orders_per_hour == 3
    assert settings.expiry_months == VARIABLES["expiry_months"].default
    assert settings.earning_rules_json == '{"reference_currency": "EUR"}'
    assert settings.promo_code_batch_function_name == "stack-PromoCodeBatchFunction-1"


@pytest.mark.parametrize(
    ("logical_id", "variable"),
    [
        ("OrdersTable", "ORDERS_TABLE_NAME"),
        ("PromoCodeBatchesTable", "PROMO_CODE_BATCHES_TABLE_NAME"),
        ("IdempotencyTable", "IDEMPOTENCY_TABLE_NAME"),
    ],
)
def test_a_tables_variable_is_derived_from_its_logical_id(logical_id: str, variable: str) -> None:
    assert table_variable(logical_id) == variable
    settings = Settings.from_environment({"AWS_REGION": "eu-west-1", variable: "stack-t-1"})
    assert settings.table_names == {logical_id: "stack-t-1"}


def test_a_table_the_function_is_not_given_is_named_when_asked_for() -> None:
    settings = Settings.from_environment({"AWS_REGION": "eu-west-1"})
    with pytest.raises(SettingsError, match="LINKS_TABLE_NAME is not set"):
        settings.table_name("LinksTable")


def test_every_malformed_value_is_named_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_environment(
            {"EXPIRY_MONTHS": "0", "MAX_ORDERS_PER_HOUR": "five", "ORDERS_TABLE_NAME": "x"}
        )
    message = str(raised.value)
    assert "EXPIRY_MONTHS must be a whole number from 1 to 120" in message
    assert "MAX_ORDERS_PER_HOUR must be a whole number" in message
    assert "ORDERS_TABLE_NAME must name a table" in message


def test_requirements_name_every_missing_variable_and_the_region_with_tables() -> None:
    requirements = Requirements(tables=("ClicksTable",), variables=("CLICK_SIGNING_SECRET_ARN",))
    assert requirements.variable_names == ("AWS_REGION", "CLICKS_TABLE_NAME", "CLICK_SIGNING_SECRET_ARN")
    with pytest.raises(SettingsError, match="cannot start: CLICKS_TABLE_NAME, CLICK_SIGNING_SECRET_ARN"):
        requirements.check({"AWS_REGION": "eu-west-1"})
    given = {"AWS_REGION": "eu-west-1", "CLICKS_TABLE_NAME": "stack-c", "CLICK_SIGNING_SECRET_ARN": "arn:x"}
    assert requirements.check(given).table_name("ClicksTable") == "stack-c"


def test_requirements_refuse_what_the_registry_does_not_know() -> None:
    with pytest.raises(ValueError, match="not variables of the settings registry: CLICK_SECRET"):
        Requirements(variables=("CLICK_SECRET",))
    with pytest.raises(ValueError, match="not a table's logical id"):
        Requirements(tables=("Clicks",))
    with pytest.raises(ValueError, match="have a default, so nothing to require: EXPIRY_MONTHS"):
        Requirements(variables=("EXPIRY_MONTHS",))
