from __future__ import annotations

import pytest

from partnerpoints.settings import Settings, SettingsError


def test_settings_come_from_the_environment() -> None:
    settings = Settings.from_environment(
        {
            "AWS_REGION": "eu-west-1",
            "LEDGER_ENTRIES_TABLE_NAME": "stack-LedgerEntriesTable-1",
            "ACCOUNT_BALANCES_TABLE_NAME": "stack-AccountBalancesTable-1",
            "PARTNERS_TABLE_NAME": "stack-PartnersTable-1",
            "LINKS_TABLE_NAME": "stack-LinksTable-1",
            "CLICKS_TABLE_NAME": "stack-ClicksTable-1",
            "PARTNER_CREDENTIALS_TABLE_NAME": "stack-PartnerCredentialsTable-1",
            "ORDERS_TABLE_NAME": "stack-OrdersTable-1",
            "POSTBACK_DELIVERIES_TABLE_NAME": "stack-PostbackDeliveriesTable-1",
            "ORDER_POINTS_TABLE_NAME": "stack-OrderPointsTable-1",
            "IDEMPOTENCY_TABLE_NAME": "stack-IdempotencyTable-1",
            "PROMO_CAMPAIGNS_TABLE_NAME": "stack-PromoCampaignsTable-1",
            "PROMO_CODES_TABLE_NAME": "stack-PromoCodesTable-1",
            "PROMO_CODE_BATCHES_TABLE_NAME": "stack-PromoCodeBatchesTable-1",
            "PROMO_REDEMPTIONS_TABLE_NAME": "stack-PromoRedemptionsTable-1",
            "PROMO_HOLDINGS_TABLE_NAME": "stack-PromoHoldingsTable-1",
            "PROMO_ATTEMPTS_TABLE_NAME": "stack-PromoAttemptsTable-1",
            "ORDER_CHANGES_TABLE_NAME": "stack-OrderChangesTable-1",
            "PROMO_CODE_BATCH_FUNCTION_NAME": "stack-PromoCodeBatchFunction-1",
            "MAX_ORDERS_PER_HOUR": "3",
            "EARNING_RULES": '{"reference_currency": "EUR"}',
        }
    )
    assert settings.region == "eu-west-1"
    assert settings.ledger_entries_table_name == "stack-LedgerEntriesTable-1"
    assert settings.links_table_name == "stack-LinksTable-1"
    assert settings.dynamodb_endpoint_url is None
    assert (settings.orders_table_name, settings.max_orders_per_hour) == ("stack-OrdersTable-1", 3)
    assert settings.order_points_table_name == "stack-OrderPointsTable-1"
    assert settings.earning_rules_json == '{"reference_currency": "EUR"}'
    assert settings.promo_codes_table_name == "stack-PromoCodesTable-1"
    assert settings.promo_code_batch_function_name == "stack-PromoCodeBatchFunction-1"


def test_a_missing_table_name_is_a_clear_startup_error() -> None:
    with pytest.raises(SettingsError, match="ledger_entries_table_name"):
        Settings.from_environment({"AWS_REGION": "eu-west-1", "ACCOUNT_BALANCES_TABLE_NAME": "abc"})
