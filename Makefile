# Two commands: `make run` sets everything up and serves the app; `make test` sets up and tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := app.py

.PHONY: run test setup db sysdeps sysdeps-test translations lint format bench clean-db

run: setup db
	@echo
	@echo "  Koperasi Karanganyar is served at http://$(HOST):$(PORT)"
	@if [ -f instance/demo-logins.txt ]; then echo "  Demo logins (username password):"; cat instance/demo-logins.txt; fi
	@echo
	@HOST="$(HOST)" PORT="$(PORT)" bash scripts/serve.sh

test: sysdeps-test $(VENV)/.dev-installed translations
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest $(PYTEST_ARGS)

setup: sysdeps $(VENV)/.installed translations

# Migrations, reference data, and the demo register when the database is empty.
db: setup
	$(BIN)/flask setup
	$(BIN)/flask demo seed --if-empty

sysdeps:
	@bash scripts/sysdeps.sh

sysdeps-test:
	@bash scripts/sysdeps.sh test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=25.3"

$(VENV)/.installed: requirements.txt build-constraints.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet --build-constraint build-constraints.txt -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt build-constraints.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet --build-constraint build-constraints.txt -r requirements-dev.txt
	touch $(VENV)/.installed $@

translations: $(VENV)/.installed
	@$(BIN)/flask translate compile >/dev/null

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean-db:
	rm -f instance/coop_audit.sqlite3 instance/demo-logins.txt
