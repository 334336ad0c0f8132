# The two commands a newcomer needs: `make run` (the demo) and `make test` (the suite).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test setup lint bench

$(BIN)/flask: pyproject.toml dev/pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]' -e ./dev
	touch $(BIN)/flask

setup: $(BIN)/flask

run: setup
	$(BIN)/python -m feedapp_dev.demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python -m tests.bench
