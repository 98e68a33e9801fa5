# The two commands of the README, and the checks CI runs.
#   make run   -> a hub on SQLite with the demo network at http://127.0.0.1:8000
#   make test  -> formatting, lint, types, layers, then the test suite (SQLite + PostgreSQL)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Test processes (pytest-xdist); each makes its own PostgreSQL database.
TEST_WORKERS ?= 2

.PHONY: run test lint pytest schema bench bench-run clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "The hub needs Python 3.11 or newer (found " + sys.version.split()[0] + "); set PYTHON=python3.12 for example.")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/federation demo
	$(BIN)/federation serve --host $(HOST) --port $(PORT)

test: lint pytest

lint: $(VENV)/.test-installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

pytest: $(VENV)/.test-installed
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Write schema/schema.graphql from the code (a test fails when it is stale).
schema: $(VENV)/.run-installed
	$(BIN)/python -m federation.schema > schema/schema.graphql
	$(BIN)/python -m federation.sync.contract > schema/sync-batch.schema.json

# The benchmark suite (BENCHMARKS.md): the national dataset on the local PostgreSQL, then
# real servers under load. `make bench BENCH_SCALE=0.1` for a shorter one; `make bench-run`
# measures again without regenerating.
BENCH_DB    ?= postgresql://postgres@127.0.0.1:5432/federation_bench
BENCH_SCALE ?= 1
BENCH_ARGS  ?= --concurrency 1,8,32 --duration 10 --workers 2

bench: $(VENV)/.test-installed
	$(BIN)/python -m bench generate --scale $(BENCH_SCALE) --db $(BENCH_DB)
	$(BIN)/python -m bench run --db $(BENCH_DB) $(BENCH_ARGS)

bench-run: $(VENV)/.test-installed
	$(BIN)/python -m bench run --db $(BENCH_DB) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
