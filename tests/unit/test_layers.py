"""Handlers are thin: they parse and call the logic; they never reach into the dal or AWS themselves.
(The layers inside the package are held by import-linter's contracts in pyproject.toml: `make lint`.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from partnerpoints_infra.template import PROJECT_ROOT

HANDLERS = sorted((PROJECT_ROOT / "functions").glob("*/app.py"))
FORBIDDEN_IN_HANDLERS = ("partnerpoints.dal", "boto3", "botocore", "pynamodb")


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def reaches_below_logic(path: Path) -> list[str]:
    return sorted(
        module
        for module in imported_modules(path)
        if any(module == name or module.startswith(f"{name}.") for name in FORBIDDEN_IN_HANDLERS)
    )


@pytest.mark.parametrize("handler", HANDLERS, ids=lambda path: path.parent.name)
def test_a_handler_imports_neither_the_dal_nor_aws(handler: Path) -> None:
    assert reaches_below_logic(handler) == []


def test_the_check_sees_a_handler_that_reaches_into_the_dal(tmp_path: Path) -> None:
    handler = tmp_path / "app.py"
    handler.write_text("import boto3\nfrom partnerpoints.dal.ledger_store import LedgerStore\n")
    assert reaches_below_logic(handler) == ["boto3", "partnerpoints.dal.ledger_store"]
