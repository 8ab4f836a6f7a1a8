"""Unit-level fixtures."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

CLICK_HANDLER = Path(__file__).resolve().parents[2] / "functions/click_redirect/app.py"


@pytest.fixture(scope="session")
def click_handler() -> ModuleType:
    """The click function's app.py, loaded once under a name of its own (its Logger binds stdout)."""
    spec = importlib.util.spec_from_file_location("click_redirect_app_under_test", CLICK_HANDLER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
