# The README's two commands are `make run` and `make test`; the rest are for contributors.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 3000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: widget screenshots venv run test test-unit test-integration test-e2e bench bench-anonymizer lint fmt typecheck contracts pr build deploy trigger clean openapi

venv:
	@bash infra/bootstrap.sh

run: venv widget  ## the whole stack locally, with demo data, on http://127.0.0.1:$(PORT)
	$(PY) -m infra.local run --port $(PORT)

test: venv  ## unit + integration (emulator process) + end to end (local stack over HTTP) + template lint
	$(PY) -m pytest -q -n 2 --dist loadgroup

test-unit: venv
	$(PY) -m pytest -q tests/unit

test-integration: venv
	$(PY) -m pytest -q tests/integration

test-e2e: venv
	$(PY) -m pytest -q tests/e2e

widget: venv  ## copy widget/ into the functions that serve it; check the size budget
	$(PY) -m infra.widget

screenshots: venv  ## the open widget (light/dark, desktop/mobile) into docs/screenshots, through the browser tests
	AIMANAGER_SCREENSHOTS_DIR=docs/screenshots $(PY) -m pytest -q tests/browser -k screenshots

bench: venv  ## figures recorded in docs/benchmarks.md
	$(PY) -m infra.bench --write docs/benchmarks.md

bench-anonymizer: venv  ## the anonymizer's recall/precision per detector and time per description (its section of docs/benchmarks.md)
	$(PY) -m infra.bench.anonymizer --write docs/benchmarks.md

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

fmt: venv
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

typecheck: venv
	$(PY) -m mypy layers/common/python/aimanager functions infra tests

contracts: venv
	cd layers/common/python && ../../../$(VENV)/bin/lint-imports --config ../../../pyproject.toml

openapi: venv  ## regenerate functions/api_docs/openapi.{json,yaml} from template.yaml and the handlers' models
	$(PY) -m infra.openapi

pr: lint typecheck contracts test

trigger: venv  ## make trigger NAME=<schedule rule>: fire a schedule of the running stack now
	$(PY) -m infra.local trigger $(NAME) --port $(PORT)

build: venv  ## needs the SAM CLI's container-free build: `sam build` (python3.12 on the machine)
	$(PY) -m infra.openapi --check
	$(VENV)/bin/sam build --template-file template.yaml

deploy: build
	$(VENV)/bin/sam deploy

clean:
	rm -rf .local .aws-sam
