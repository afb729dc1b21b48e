# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUNTIME := $(VENV)/.installed-runtime
STAMP_DEV := $(VENV)/.installed-dev
STAMP_DEMO := $(VENV)/.installed-demo
# `make test` runs on SQLite; `TRYGG_TEST_DATABASE=postgres make test` runs every test's database
# on this PostgreSQL server instead (.ci/run does both).
export TRYGG_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: demo test bench install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP_RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP_RUNTIME) $(STAMP_DEMO)

# The demo serves the API and review console too: the runtime plus the `api` extra.
$(STAMP_DEMO): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[api]'
	touch $@ $(STAMP_RUNTIME)

install: $(STAMP_RUNTIME)
install-dev: $(STAMP_DEV)

# The main job on the demo conversations (SQLite), explained; then the service and console on
# the same data, with the console URL and one-time demo credentials printed (Ctrl-C stops it).
demo: $(STAMP_DEMO)
	$(BIN)/trygg demo
	$(BIN)/trygg demo --serve

test: $(STAMP_DEV)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP_DEV)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info
