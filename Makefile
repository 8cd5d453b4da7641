# Quick start: `make run` (the service in sandbox mode) and `make test` (lint, types, tests).
# `make run PORT=9000` listens elsewhere.
PYTHON ?= python3
PORT ?= 8080
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint types unit bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/userpkg serve --sandbox --host 127.0.0.1 --port $(PORT)

test: lint types unit

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python benchmarks/all.py $(if $(PG),--postgres $(PG))
	@echo "with PostgreSQL: make bench PG=postgresql://postgres@127.0.0.1:5432/postgres;"
	@echo "  benchmarks/api.py, ingest.py and shared_state.py also take --postgres URL"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
