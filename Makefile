# Thin targets over uv and the lifecycle CLI. `make run` and `make test` are the README's two commands.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
UV ?= uv

.PHONY: setup run test lint typecheck serve ui bench clean

setup:  ## install uv if missing, then the locked environment
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --quiet --user uv
	$(UV) sync --frozen --quiet --compile-bytecode

run: setup  ## the whole lifecycle, end to end, on embedded defaults
	$(UV) run lifecycle run

test: setup  ## lint, types, then every test (slow ones included)
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run pytest

lint:
	$(UV) run ruff check . && $(UV) run ruff format --check .

typecheck:
	$(UV) run mypy

ui:  ## the MLflow UI on the embedded store
	$(UV) run mlflow ui --backend-store-uri sqlite:///mlflow.db --port 5000

bench:
	$(UV) run python benchmarks/pipeline.py

clean:
	rm -rf data/raw data/batches data/validated data/processed data/reference reports mlflow.db mlartifacts
