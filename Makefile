# Two commands for a newcomer: `make demo` and `make test`. Each sets itself up.
VENV   ?= .venv
PYTHON ?= python3
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-$(shell md5sum pyproject.toml | cut -c1-8)

.PHONY: install services setup demo test lint typecheck unit bench schemas docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

services:  ## start RabbitMQ and PostgreSQL when they are not running
	bash scripts/services.sh

setup: install services  ## database, habilitations of the demo agency, topology
	$(BIN)/particulier db migrate
	$(BIN)/particulier habilitations seed-demo
	$(BIN)/particulier editors create "Passerelle REST" --user particulier_gateway --password particulier_gateway > /dev/null
	$(BIN)/particulier topology apply

demo: setup
	$(BIN)/particulier demo

lint: install
	$(BIN)/ruff check broker workers tests benchmarks
	$(BIN)/ruff format --check broker workers tests benchmarks
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy broker workers

test: install services lint typecheck
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python -m benchmarks.run

schemas: install  ## regenerate every file derived from the declarations
	$(BIN)/particulier schemas export
	$(BIN)/particulier docs datasets
	$(BIN)/python deploy/rabbitmq/generate.py
	$(BIN)/python deploy/grafana/generate.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
