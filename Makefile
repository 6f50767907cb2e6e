# make run   - the server on the embedded default: SQLite, the shipped menus.yaml, demo data
# make test  - the whole test suite (PostgreSQL too when TEST_DATABASE_URL is set)
# make lint  - ruff and mypy over the whole project (settings in pyproject.toml)
# make cluster - the production layout on this machine (nginx, instances, PostgreSQL)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export FLASK_APP := app
# A development token so the demo works out of the box; production sets the real one.
export TWILIO_AUTH_TOKEN ?= demo-auth-token
export BCRYPT_ROUNDS ?= 12
# The demo token is public: the demo server listens on this machine only.
export GUNICORN_BIND ?= 127.0.0.1:8000

.PHONY: run test lint bench call cluster

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(BIN)/.installed
	$(BIN)/flask db upgrade
	$(BIN)/flask data import demo/demo-data.json
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(BIN)/.installed
	$(BIN)/python scripts/bench.py

# make call ARGS="--keys 7 --at 2026-12-01T10:00:00-03:00": in-process, no server needed
call: $(BIN)/.installed
	$(BIN)/flask db upgrade
	$(BIN)/flask data import demo/demo-data.json
	$(BIN)/flask call $(ARGS)

# nginx on 127.0.0.1:$(PORT) (8080) in front of $(INSTANCES) (2) instances on DATABASE_URL
# (PostgreSQL), in the foreground until Ctrl-C: scripts/cluster.py.
cluster: $(BIN)/.installed
	$(BIN)/python scripts/cluster.py
