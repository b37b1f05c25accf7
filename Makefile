# RunWei API — developer commands. `make run` and `make test` are all a newcomer needs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint typecheck pytest fmt install install-dev node clean openapi

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "need Python 3.11 on PATH (python3.11 or python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev node_modules/.installed

## Serve the API on the embedded in-memory MongoDB (or MONGODB_URL when set).
## --no-proxy-headers: the app derives the client IP from TRUSTED_PROXIES, not uvicorn.
run: install
	$(BIN)/uvicorn app.main:create_app --factory --host $(HOST) --port $(PORT) --no-access-log --no-proxy-headers

## Every check CI runs: lint, format check, types, static validators, tests.
## Tests run in parallel: one worker per CPU core, at most PYTEST_MAX_WORKERS (each worker
## starts its own Azurite, Redis and servers on free ports); a test file stays on one worker.
PYTEST_MAX_WORKERS ?= 4
PYTEST_PARALLEL ?= -n auto --maxprocesses $(PYTEST_MAX_WORKERS) --dist loadfile
test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app scripts
	$(BIN)/pytest $(PYTEST_PARALLEL) --cov --cov-report=term:skip-covered

fmt: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

openapi: install
	$(BIN)/python scripts/export_openapi.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .coverage
