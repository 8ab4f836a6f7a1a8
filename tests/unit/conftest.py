"""Unit-level fixtures."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

CLICK_HANDLER = Path(__file__).resolve().parents[2] / "functions/click_redirect/app.py"
UNIT_ENVIRONMENT = {
    "AWS_REGION": "eu-west-1",
    "CLICKS_TABLE_NAME": "unit-ClicksTable",
    "LINKS_TABLE_NAME": "unit-LinksTable",
    "PARTNERS_TABLE_NAME": "unit-PartnersTable",
    "CLICK_SIGNING_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:000000000000:secret:unit",
}


@pytest.fixture(scope="session")
def click_handler() -> ModuleType:
    """The click function's app.py, loaded once under a name of its own (its Logger binds stdout), with
    the variables its init requires (the tests replace the redirector it would build from them)."""
    spec = importlib.util.spec_from_file_location("click_redirect_app_under_test", CLICK_HANDLER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with pytest.MonkeyPatch.context() as environment:
        for name, value in UNIT_ENVIRONMENT.items():
            environment.setenv(name, value)
        spec.loader.exec_module(module)
    return module
