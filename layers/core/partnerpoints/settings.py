"""The program's settings: one registry of the environment variables the functions read, parsed once
per process. Each function declares the variables it needs (`Requirements` in its `app.py`), so a
deployment that forgets one fails the function's init with a message naming it, never a request.

A table's variable is derived from its logical id in the template (`LedgerEntriesTable` ->
`LEDGER_ENTRIES_TABLE_NAME`), so adding a table adds no setting here.

A plain dataclass rather than a pydantic model: the click function reads it too, and its cold start is
budgeted (pydantic alone costs a fifth of it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

DEFAULT_MAX_ORDERS_PER_HOUR = 5
DEFAULT_EXPIRY_MONTHS = 24
DEFAULT_CLOCK_TOLERANCE_SECONDS = 300  # as far as a postback's signature timestamp may be off
REGION_VARIABLE = "AWS_REGION"  # Lambda sets it; AWS_DEFAULT_REGION is read where it does not
_TABLE_SUFFIX = "_TABLE_NAME"
_TABLE_VARIABLE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_TABLE_NAME$")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


class SettingsError(ValueError):
    """The function's environment is incomplete or malformed: a deployment mistake, raised at init."""


def table_variable(logical_id: str) -> str:
    """The environment variable the template's Globals give a table's name in: `OrdersTable` ->
    `ORDERS_TABLE_NAME`."""
    if not logical_id.endswith("Table") or not logical_id[:1].isupper():
        raise ValueError(f"{logical_id} is not a table's logical id (CamelCase, ending in Table)")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", logical_id).upper() + "_NAME"


def _table_logical_id(variable: str) -> str:
    words = variable.removesuffix(_TABLE_SUFFIX).split("_")
    return "".join(word.capitalize() for word in words) + "Table"


def _whole_number(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
            raise ValueError(f"must be a whole number from {low} to {high}, not {raw!r}")
        return int(raw)

    return parse


def _text(raw: str) -> str:
    return raw


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, not {raw!r}")
        return raw

    return parse


@dataclass(frozen=True)
class Variable:
    """One environment variable: the setting it feeds, how it is parsed (a ValueError says what is
    wrong) and its value when the function is not given it."""

    name: str
    parse: Callable[[str], Any] = _text
    default: Any = None


# Settings field -> its variable. Only these, the region and the tables' names are read.
VARIABLES: dict[str, Variable] = {
    # Fraud review: a member with more attributed orders than this in an hour has the next reviewed.
    "max_orders_per_hour": Variable(
        "MAX_ORDERS_PER_HOUR", _whole_number(1, 10_000), DEFAULT_MAX_ORDERS_PER_HOUR
    ),
    # The program's earning rules as JSON; parsed where points are computed (logic.earning), so the
    # click function never pays for it.
    "earning_rules_json": Variable("EARNING_RULES", default=""),
    "click_signing_secret_arn": Variable("CLICK_SIGNING_SECRET_ARN"),
    "promo_code_batch_function_name": Variable("PROMO_CODE_BATCH_FUNCTION_NAME"),
    "statements_bucket_name": Variable("STATEMENTS_BUCKET_NAME"),
    "statement_tasks_queue_url": Variable("STATEMENT_TASKS_QUEUE_URL"),
    # Read by the operator console only: how many failed batches and tasks wait there.
    "dead_letter_queue_url": Variable("DEAD_LETTER_QUEUE_URL"),
    # Months without qualifying activity after which a member's available main points expire.
    "expiry_months": Variable("EXPIRY_MONTHS", _whole_number(1, 120), DEFAULT_EXPIRY_MONTHS),
    # How far a partner's clock may be off ours: an order stamped up to this much before its click is
    # that click's; a stamp further ahead of ours than this is refused.
    "clock_tolerance_seconds": Variable(
        "CLOCK_TOLERANCE_SECONDS", _whole_number(0, 3600), DEFAULT_CLOCK_TOLERANCE_SECONDS
    ),
    # Where webhooks may go besides public addresses: nowhere in AWS; the local stack's own loopback
    # receivers locally (logic.webhook_targets).
    "webhook_private_targets": Variable(
        "WEBHOOK_PRIVATE_TARGETS", _one_of("refuse", "allow-loopback"), "refuse"
    ),
    # Set only locally (DynamoDB Local); in AWS boto3 finds the regional endpoint itself.
    "dynamodb_endpoint_url": Variable("DYNAMODB_ENDPOINT_URL"),
}
_FIELD_OF_VARIABLE = {variable.name: setting for setting, variable in VARIABLES.items()}


@dataclass(frozen=True)
class Settings:
    region: str
    # Template logical id -> the deployed table's name, for every *_TABLE_NAME variable given.
    table_names: Mapping[str, str] = field(default_factory=dict)
    max_orders_per_hour: int = DEFAULT_MAX_ORDERS_PER_HOUR
    earning_rules_json: str = ""
    click_signing_secret_arn: str | None = None
    promo_code_batch_function_name: str | None = None
    statements_bucket_name: str | None = None
    statement_tasks_queue_url: str | None = None
    dead_letter_queue_url: str | None = None
    webhook_private_targets: str = "refuse"
    expiry_months: int = DEFAULT_EXPIRY_MONTHS
    clock_tolerance_seconds: int = DEFAULT_CLOCK_TOLERANCE_SECONDS
    dynamodb_endpoint_url: str | None = None

    def table_name(self, logical_id: str) -> str:
        name = self.table_names.get(logical_id)
        if name is None:
            raise SettingsError(f"{table_variable(logical_id)} is not set: this function has no such table")
        return name

    def value_of(self, variable: str) -> Any:
        """The parsed value of one variable of the registry (None when the function is not given it)."""
        if variable == REGION_VARIABLE:
            return self.region or None
        if variable.endswith(_TABLE_SUFFIX):
            return self.table_names.get(_table_logical_id(variable))
        return getattr(self, _FIELD_OF_VARIABLE[variable])

    def required(self, setting: str) -> Any:
        """A setting the caller cannot work without (its function's Requirements checked it at init)."""
        value = getattr(self, setting)
        if value is None:
            raise SettingsError(f"{VARIABLES[setting].name} is not set")
        return value

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Every variable of the registry that is given, parsed; all malformed ones named at once."""
        env = os.environ if environ is None else environ
        problems: list[str] = []
        values: dict[str, Any] = {}
        for setting, variable in VARIABLES.items():
            raw = env.get(variable.name, "")
            if raw == "":
                values[setting] = variable.default
                continue
            try:
                values[setting] = variable.parse(raw)
            except ValueError as error:
                problems.append(f"{variable.name} {error}")
        tables = {}
        for name, raw in env.items():
            if _TABLE_VARIABLE.match(name) and raw:
                if _TABLE_NAME.match(raw):
                    tables[_table_logical_id(name)] = raw
                else:
                    problems.append(f"{name} must name a table (3 to 255 letters, digits, '_', '-', '.')")
        if problems:
            raise SettingsError("invalid settings: " + "; ".join(sorted(problems)))
        region = env.get(REGION_VARIABLE) or env.get("AWS_DEFAULT_REGION") or ""
        return cls(region=region, table_names=tables, **values)


@dataclass(frozen=True)
class Requirements:
    """What one function needs from its environment, declared in its `app.py` and checked at import
    (the function's init): the tables it touches (by template logical id; the region comes with them)
    and the registry's other variables it cannot work without."""

    tables: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for logical_id in self.tables:
            table_variable(logical_id)  # a ValueError for anything but a table's logical id
        unknown = [name for name in self.variables if name not in _FIELD_OF_VARIABLE]
        if unknown:
            raise ValueError(f"not variables of the settings registry: {', '.join(unknown)}")
        defaulted = [name for name in self.variables if VARIABLES[_FIELD_OF_VARIABLE[name]].default]
        if defaulted:
            raise ValueError(f"these have a default, so nothing to require: {', '.join(defaulted)}")

    @property
    def variable_names(self) -> tuple[str, ...]:
        region = (REGION_VARIABLE,) if self.tables else ()
        return (*region, *(table_variable(logical_id) for logical_id in self.tables), *self.variables)

    def check(self, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings, or one SettingsError naming every variable that is missing or malformed."""
        settings = Settings.from_environment(environ)
        missing = [name for name in self.variable_names if settings.value_of(name) in (None, "")]
        if missing:
            raise SettingsError(f"this function cannot start: {', '.join(missing)} not set")
        return settings


@cache
def get_settings() -> Settings:
    return Settings.from_environment()
