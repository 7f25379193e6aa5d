# cxpipe - two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION ?= 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
VENV := .venv
BIN := $(VENV)/bin
DEMO_START ?= 2026-11-01
DEMO_DAYS ?= 1
# `make bench`: scale factors (SF 1 ≈ 100k order lines) and paired repeats per scale factor
SF ?= 1
REPEATS ?= 3

export GX_ANALYTICS_ENABLED := false
# `make demo` and `make run` are the demo: they may pseudonymise with the built-in demo key
demo run: export CX_DEMO_MODE ?= true
export DO_NOT_TRACK := true

.PHONY: help env run demo report status test test-fast lint lint-python lint-sql lint-types lint-contracts format docs bench clean contracts-check contracts-state

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

# Bytecode compiled at install: where PYTHONDONTWRITEBYTECODE is set, every process (dbt, Airflow,
# each test's subprocess) would otherwise compile its imports again (about 10 CPU-s for Airflow, dbt,
# Great Expectations and pandas; 6-7 CPU-s once compiled).
$(VENV)/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen --python 3.11 --compile-bytecode
	@touch $@

env: $(VENV)/.synced ## set up the locked Python environment (uv sync --frozen, bytecode compiled)

demo: env ## write demo landing files for all four sources
	$(BIN)/cxpipe demo --start $(DEMO_START) --days $(DEMO_DAYS)

run: demo ## demo data -> Airflow (ingest, dbt, gate, publish) -> print the reporting tables
	$(BIN)/cxpipe run --start $(DEMO_START) --days $(DEMO_DAYS)

report: env ## write the offline HTML report of the published warehouse (data/reports/report.html)
	$(BIN)/cxpipe report

status: env ## sources, last gate and publication, freshness (exit 0 OK, 3 nothing published, 4 gate failed, 5 stale)
	$(BIN)/cxpipe status

# The checks are independent and each runs on one core: they run side by side (-j3), each one's
# output printed whole when it ends (--output-sync), and lint fails if any of them fails.
LINT_CHECKS := lint-python lint-sql lint-types lint-contracts
lint: env ## ruff, sqlfluff (dbt templater), mypy, the import layers (lint-imports), the reporting contracts
	@$(MAKE) --no-print-directory -j3 --output-sync=target $(LINT_CHECKS)

lint-python:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

lint-sql:
	cd dbt_project && CX_BUILD_DB=:memory: ../$(BIN)/sqlfluff lint models

lint-types:
	$(BIN)/mypy plugins/cxpipe

lint-contracts:
	$(BIN)/cxpipe contract-state check

contracts-check: env ## fail on a breaking change to a reporting table's contract that is not a new model version
	$(BIN)/cxpipe contract-state check

contracts-state: env ## refresh the reference contracts (dbt_project/contracts_state/) once a contract change is published
	$(BIN)/cxpipe contract-state save

format: env ## apply ruff and sqlfluff fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	cd dbt_project && CX_BUILD_DB=:memory: ../$(BIN)/sqlfluff fix models

# pytest-xdist, --dist loadgroup: each e2e module runs on one worker, its tests one after another;
# every other test goes to whichever worker is free (tests/conftest.py). `make test` runs one worker
# more than the 2 cores CI has: the e2e modules wait on Airflow's scheduler loop, servers starting
# and killed processes, and a third worker fills those gaps (TEST_WORKERS to change it).
TEST_WORKERS ?= 3
test: lint ## lint, then every test tier: unit, dbt, integration (PostgreSQL), e2e (Airflow)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup tests

test-fast: env ## the edit loop: unit and dbt tiers but their `slow` tests, no servers, no Airflow runs
	$(BIN)/pytest -n 2 --dist loadgroup -m "not slow" tests/unit tests/dbt

docs: env ## dbt docs site into dbt_project/target/index.html (with the catalog after `make run`)
	cd dbt_project && if [ -f ../data/warehouse/cx.duckdb ]; then \
		../$(BIN)/dbt docs generate --profiles-dir . ; \
	else \
		CX_BUILD_DB=:memory: ../$(BIN)/dbt docs generate --profiles-dir . --empty-catalog ; \
	fi

# Every stage beside its baseline (DuckDB ingest floor, the compiled SQL run directly, a pandas script),
# on the same data, repeated; writes benchmarks/results/bench_sf<SF>.json, docs/benchmarks.md and its plot.
# SPARK=1: also the same dbt build on Apache Spark (local mode), results in benchmarks/results/spark/ (docs/spark.md).
bench: env ## benchmark at scale factors SF="1 10" with REPEATS=3 paired runs -> docs/benchmarks.md (SPARK=1: and Spark)
	$(BIN)/python benchmarks/harness.py --sf $(SF) --repeats $(REPEATS) $(if $(SPARK),--spark --results benchmarks/results/spark --doc benchmarks/results/spark/benchmarks.md --plot benchmarks/results/spark/benchmarks.png)

clean: ## remove all generated state
	rm -rf data .airflow dbt_project/target dbt_project/logs expectations/gx/uncommitted .pytest_cache .ruff_cache .mypy_cache
