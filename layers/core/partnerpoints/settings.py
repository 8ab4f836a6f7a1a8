"""The program's settings: one validated model read from the environment once per process."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """Names reach code only from the template (`!Ref` environment variables), never from literals."""

    model_config = ConfigDict(frozen=True)

    region: str = Field(min_length=1)
    ledger_entries_table_name: str = Field(min_length=3, max_length=255)
    account_balances_table_name: str = Field(min_length=3, max_length=255)
    partners_table_name: str = Field(min_length=3, max_length=255)
    links_table_name: str = Field(min_length=3, max_length=255)
    # Set only locally (DynamoDB Local); in AWS boto3 finds the regional endpoint itself.
    dynamodb_endpoint_url: str | None = None

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "",
            ledger_entries_table_name=env.get("LEDGER_ENTRIES_TABLE_NAME", ""),
            account_balances_table_name=env.get("ACCOUNT_BALANCES_TABLE_NAME", ""),
            partners_table_name=env.get("PARTNERS_TABLE_NAME", ""),
            links_table_name=env.get("LINKS_TABLE_NAME", ""),
            dynamodb_endpoint_url=env.get("DYNAMODB_ENDPOINT_URL") or None,
        )


@cache
def get_settings() -> Settings:
    return Settings.from_environment()
