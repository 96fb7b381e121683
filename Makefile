# journey: `make run` starts the embedded server with the demo (development mode); `make test` runs lint and
# every test on SQLite and PostgreSQL. Both create .venv and install what they need; nothing is installed by hand.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-future lint unit install install-dev postgres browser promtool clean bench reliability docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# `make run` is for trying journey on your machine: development mode and the demo workspace (its password is
# published). `journey serve` alone runs as production and never loads the demo.
# `JOURNEY_DEMO=0 make run` starts on an empty database instead.
JOURNEY_DEMO ?= 1
RUN_ENV := JOURNEY_ENVIRONMENT=development JOURNEY_DEMO=$(JOURNEY_DEMO)

run: install
	$(RUN_ENV) $(BIN)/journey db upgrade
	$(RUN_ENV) $(BIN)/journey serve --host $(HOST) --port $(PORT)

# ruff, the layers (import-linter contracts in pyproject.toml), and no import cycle nor module over 400 lines.
lint: install-dev
	$(BIN)/ruff check journey flows tests bench scripts/import_graph.py
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/import_graph.py --check

postgres:
	@bash scripts/ensure-postgres.sh

# Debian's Chromium for the Playwright browser tests (tests/e2e); Playwright's own download does not work here.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/dev/null \
	      || echo "could not install chromium: browser tests will skip (and fail where CI=true)" >&2; \
	  else echo "chromium is missing and we are not root: browser tests will skip (and fail where CI=true)" >&2; fi; }

# promtool checks deploy/prometheus/alerts.yml (tests/integration/test_metrics.py): taken from Debian's prometheus
# package, unpacked into .venv/bin (`apt-get download`, no root, nothing installed or started system-wide).
promtool: | $(BIN)/python
	@command -v promtool >/dev/null 2>&1 || [ -x $(BIN)/promtool ] || { \
	  tmp=$$(mktemp -d); \
	  (cd $$tmp && apt-get download -q prometheus >/dev/null 2>&1 && dpkg -x prometheus_*.deb x \
	    && cp x/usr/bin/promtool $(CURDIR)/$(BIN)/promtool) \
	    || echo "could not fetch promtool: its check of the alert rules will skip (and fail where CI=true)" >&2; \
	  rm -rf $$tmp; }

test: install-dev lint postgres browser promtool
	@$(BIN)/python -m pytest -m "not reliability" $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest ran no tests: that proves nothing, failing" >&2; fi; exit $$rc

# The unit, API and integration tiers again with the clock about 400 days ahead (time-machine): a test that
# silently depends on today's date fails the day it is written. Tests that need a date set it themselves.
CLOCK_SHIFT_DAYS ?= 400
test-future: install-dev postgres
	@TEST_CLOCK_SHIFT_DAYS=$(CLOCK_SHIFT_DAYS) $(BIN)/python -m pytest tests/unit tests/api tests/integration $(PYTEST_ARGS); \
	  rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest ran no tests: that proves nothing, failing" >&2; fi; exit $$rc

# The generated lists of docs/reference.md (commands, variables, routes, roles) and .env.example, from the code;
# tests/unit/test_docs.py and tests/unit/test_deploy_files.py fail until they are regenerated.
docs: install
	$(BIN)/python scripts/gen_docs.py
	$(BIN)/journey config env-example > .env.example

unit: install-dev
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

# Benchmarks: each regenerates its section of bench/RESULTS.md. BENCH_ARGS=--full for the issue's sizes.
bench: install-dev
	$(BIN)/python -m bench.run_all $(BENCH_ARGS)

# Reliability scenarios (tests/reliability, tests/fuzz marked `reliability`): full sizes by default.
# RELIABILITY_SCALE=0.1 shrinks them; RELIABILITY_ORCHESTRATOR=inline skips Prefect's engine.
RELIABILITY_SCALE ?= 1
RELIABILITY_ORCHESTRATOR ?= prefect
reliability: install-dev postgres
	@RELIABILITY_SCALE=$(RELIABILITY_SCALE) RELIABILITY_ORCHESTRATOR=$(RELIABILITY_ORCHESTRATOR) \
	  $(BIN)/python -m pytest tests/reliability tests/fuzz -m reliability -p no:cacheprovider $(RELIABILITY_ARGS); \
	  rc=$$?; if [ $$rc -eq 5 ]; then echo "no reliability scenario ran: failing" >&2; fi; exit $$rc

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
