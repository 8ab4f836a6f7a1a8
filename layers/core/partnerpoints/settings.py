"""The program's settings: read from the environment once per process and checked at start-up.

A plain dataclass rather than a pydantic model: the click function reads it too, and its cold start
is kept within 1.3x a bare `import boto3` (pydantic alone costs a fifth of that).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

# Setting -> environment variable (the template's `!Ref` names, never literals in code).
_TABLE_VARIABLES = {
    "ledger_entries_table_name": "LEDGER_ENTRIES_TABLE_NAME",
    "account_balances_table_name": "ACCOUNT_BALANCES_TABLE_NAME",
    "partners_table_name": "PARTNERS_TABLE_NAME",
    "links_table_name": "LINKS_TABLE_NAME",
    "clicks_table_name": "CLICKS_TABLE_NAME",
    "partner_credentials_table_name": "PARTNER_CREDENTIALS_TABLE_NAME",
    "orders_table_name": "ORDERS_TABLE_NAME",
    "postback_deliveries_table_name": "POSTBACK_DELIVERIES_TABLE_NAME",
    "order_points_table_name": "ORDER_POINTS_TABLE_NAME",
    "idempotency_table_name": "IDEMPOTENCY_TABLE_NAME",
    "promo_campaigns_table_name": "PROMO_CAMPAIGNS_TABLE_NAME",
    "promo_codes_table_name": "PROMO_CODES_TABLE_NAME",
    "promo_code_batches_table_name": "PROMO_CODE_BATCHES_TABLE_NAME",
    "promo_redemptions_table_name": "PROMO_REDEMPTIONS_TABLE_NAME",
    "promo_holdings_table_name": "PROMO_HOLDINGS_TABLE_NAME",
    "promo_attempts_table_name": "PROMO_ATTEMPTS_TABLE_NAME",
    "order_changes_table_name": "ORDER_CHANGES_TABLE_NAME",
}
DEFAULT_MAX_ORDERS_PER_HOUR = 5
DEFAULT_EXPIRY_MONTHS = 24
DEFAULT_CLOCK_TOLERANCE_SECONDS = 300  # as far as a postback's signature timestamp may be off


class SettingsError(ValueError):
    """The function's environment is incomplete: a deployment mistake, reported at start-up."""


@dataclass(frozen=True)
class Settings:
    region: str
    ledger_entries_table_name: str
    account_balances_table_name: str
    partners_table_name: str
    links_table_name: str
    clicks_table_name: str
    partner_credentials_table_name: str
    orders_table_name: str
    postback_deliveries_table_name: str
    order_points_table_name: str
    idempotency_table_name: str
    promo_campaigns_table_name: str
    promo_codes_table_name: str
    promo_code_batches_table_name: str
    promo_redemptions_table_name: str
    promo_holdings_table_name: str
    promo_attempts_table_name: str
    order_changes_table_name: str
    # Fraud review: a member with more attributed orders than this in an hour has the next reviewed.
    max_orders_per_hour: int = DEFAULT_MAX_ORDERS_PER_HOUR
    # The program's earning rules as JSON (template parameter EarningRules); parsed where points are
    # computed (logic.earning), so the click function never pays for it.
    earning_rules_json: str = ""
    # Only the functions that sign or verify (clicks, member links) are given the secret's ARN.
    click_signing_secret_arn: str | None = None
    # Only the operators' promo function starts code batches on the generator function.
    promo_code_batch_function_name: str | None = None
    # Only the nightly statements function: where statements go, its shard queue, and how many months
    # without qualifying activity make a member's available main points expire.
    statements_bucket_name: str | None = None
    statement_tasks_queue_url: str | None = None
    expiry_months: int = DEFAULT_EXPIRY_MONTHS
    # Only the postback function: how far a partner's clock may be off ours. An order stamped up to this
    # much before its click is that click's; a stamp further ahead of ours than this is refused.
    clock_tolerance_seconds: int = DEFAULT_CLOCK_TOLERANCE_SECONDS
    # Set only locally (DynamoDB Local); in AWS boto3 finds the regional endpoint itself.
    dynamodb_endpoint_url: str | None = None

    def __post_init__(self) -> None:
        problems = [] if self.region else ["region: AWS_REGION is not set"]
        for setting, variable in _TABLE_VARIABLES.items():
            name = getattr(self, setting)
            if not 3 <= len(name) <= 255:
                problems.append(f"{setting}: {variable} must name a table (3 to 255 characters)")
        if self.max_orders_per_hour < 1:
            problems.append("max_orders_per_hour: MAX_ORDERS_PER_HOUR must be a positive integer")
        if not 1 <= self.expiry_months <= 120:
            problems.append("expiry_months: EXPIRY_MONTHS must be a whole number of months from 1 to 120")
        if not 0 <= self.clock_tolerance_seconds <= 3600:
            problems.append(
                "clock_tolerance_seconds: CLOCK_TOLERANCE_SECONDS must be whole seconds from 0 to 3600"
            )
        if problems:
            raise SettingsError("invalid settings: " + "; ".join(problems))

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        tables = {setting: env.get(variable, "") for setting, variable in _TABLE_VARIABLES.items()}
        per_hour = env.get("MAX_ORDERS_PER_HOUR") or str(DEFAULT_MAX_ORDERS_PER_HOUR)
        expiry_months = env.get("EXPIRY_MONTHS") or str(DEFAULT_EXPIRY_MONTHS)
        tolerance = env.get("CLOCK_TOLERANCE_SECONDS") or str(DEFAULT_CLOCK_TOLERANCE_SECONDS)
        return cls(
            max_orders_per_hour=int(per_hour) if per_hour.isdigit() else 0,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "",
            earning_rules_json=env.get("EARNING_RULES", ""),
            click_signing_secret_arn=env.get("CLICK_SIGNING_SECRET_ARN") or None,
            promo_code_batch_function_name=env.get("PROMO_CODE_BATCH_FUNCTION_NAME") or None,
            statements_bucket_name=env.get("STATEMENTS_BUCKET_NAME") or None,
            statement_tasks_queue_url=env.get("STATEMENT_TASKS_QUEUE_URL") or None,
            expiry_months=int(expiry_months) if expiry_months.isdigit() else 0,
            clock_tolerance_seconds=int(tolerance) if tolerance.isdigit() else -1,
            dynamodb_endpoint_url=env.get("DYNAMODB_ENDPOINT_URL") or None,
            **tables,
        )


@cache
def get_settings() -> Settings:
    return Settings.from_environment()
