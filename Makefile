# The two commands that matter: `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup setup-test run test soak lint typecheck unit asterisk-start asterisk-stop asterisk-status prompts clean

setup:  ## Install everything the engine and the Asterisk test bed need
	bash scripts/setup-host.sh

setup-test:  ## setup, plus PostgreSQL for the suite
	bash scripts/setup-host.sh --test

run: setup  ## Run Asterisk and the engine (SQLite, demo hotline) in the foreground; Ctrl-C stops both
	bash scripts/run.sh

test: setup-test  ## Lint, type-check and run the whole suite, real Asterisk included
	$(MAKE) lint typecheck
	$(VENV)/bin/pytest -q

# Not part of `make test`: it needs the machine to itself for half an hour.
soak: setup-test  ## The real engine at 80 % of benchmark 1's capacity for 30 minutes (docs/reliability.md)
	IVR_SOAK_MINUTES=$(or $(IVR_SOAK_MINUTES),30) $(VENV)/bin/pytest -q -s -m soak tests/integration/test_soak.py

lint:  ## ruff, and the import contracts of the layers (pyproject.toml, docs/architecture.md)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

typecheck:
	$(VENV)/bin/mypy

unit:  ## Only the fast tests that need neither Asterisk nor PostgreSQL
	$(VENV)/bin/pytest -q tests/unit

prompts:
	$(VENV)/bin/ivr-engine prompts build

asterisk-start:
	bash asterisk/ctl.sh start
asterisk-stop:
	bash asterisk/ctl.sh stop
asterisk-status:
	bash asterisk/ctl.sh status

clean:
	-bash asterisk/ctl.sh stop
	rm -rf var prompts/sounds .pytest_cache .mypy_cache .ruff_cache
