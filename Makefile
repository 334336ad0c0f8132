# The two commands a newcomer needs: `make run` (the demo) and `make test` (the suite).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

WHEELHOUSE := $(VENV)/wheelhouse

.PHONY: run test setup lint bench translations stress

# The tests need redis-server (unless REDIS_URL is set), chromium and caddy: without them
# `make test` stops here, before setting anything up, with one line saying what to install.
ifneq ($(filter test stress,$(MAKECMDGOALS)),)
MISSING := $(shell $(PY) tests/prerequisites.py)
ifneq ($(MISSING),)
$(error $(MISSING))
endif
endif

$(BIN)/flask: pyproject.toml dev/pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]' -e ./dev
	touch $(BIN)/flask

# The image's dependencies and build backend as wheels, fetched while there is a network, so
# tests/test_packaging.py can install them into a fresh virtualenv offline.
$(WHEELHOUSE)/requirements.txt: pyproject.toml | $(BIN)/flask
	$(BIN)/python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb")); \
		print(*p["build-system"]["requires"], *p["project"]["dependencies"], sep="\n")' \
		> $(WHEELHOUSE).txt
	$(BIN)/pip wheel -q -w $(WHEELHOUSE) -r $(WHEELHOUSE).txt
	mv $(WHEELHOUSE).txt $@

setup: $(BIN)/flask $(WHEELHOUSE)/requirements.txt

run: setup
	$(BIN)/python -m feedapp_dev.demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python -m tests.bench $(BENCH_ARGS)

# Find races before CI does: `slow or browser` tests 5 times, then 2 more beside two CPU-bound
# processes; exits 1 if any run failed. Pytest arguments: make stress STRESS_ARGS='-- -x'
stress: setup
	$(BIN)/python -m tests.stress $(STRESS_ARGS)

# After changing interface text: refresh the .pot and merge it into every .po (then translate
# the new or fuzzy entries in es and pt). The .po files are read directly: nothing to compile.
translations: setup
	$(BIN)/pybabel extract -F feedapp/translations/babel.cfg -k N_ --add-comments=Translators: \
		--project=feedapp -o feedapp/translations/messages.pot .
	$(BIN)/pybabel update -i feedapp/translations/messages.pot -d feedapp/translations
