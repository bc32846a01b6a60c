# Thin targets over uv and the lifecycle CLI. `make run` and `make test` are the README's two commands.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
UV ?= uv

.PHONY: setup run test test-fast lint typecheck imports smoke-python serve ui bench clean ci image image-login image-push deploy-flows test-scaleout

setup:  ## install uv if missing, then the locked environment
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --quiet --user uv
	$(UV) sync --frozen --quiet --compile-bytecode

# run: the environment sync is timed (bash's `time`: user, system, wall seconds) and recorded in
# the ledger by `lifecycle run` (LIFECYCLE_SETUP_USAGE), so the ledger holds all `make run` costs
run:  ## the whole lifecycle, end to end, on embedded defaults
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --quiet --user uv
	@exec 3>&2; TIMEFORMAT='%U %S %R'; \
	usage=$$( { time $(UV) sync --frozen --quiet --compile-bytecode >&3 2>&3 ; } 2>&1 ) || exit 1; \
	echo "$(UV) sync --frozen --quiet --compile-bytecode  ($$usage: user, system, wall s)"; \
	LIFECYCLE_SETUP_USAGE="$$usage" $(UV) run --frozen --no-sync lifecycle run

test: setup  ## lint, types, layers, dependencies, then every test (slow ones included)
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run lint-imports
	$(UV) run deptry src
	$(UV) run pytest

test-fast: setup  ## the tests not marked slow (no Prefect flows, no retrain loops): under 5 minutes
	$(UV) run pytest -m "not slow"

lint:
	$(UV) run ruff check . && $(UV) run ruff format --check .

typecheck:
	$(UV) run mypy

imports:  ## the layers (import-linter contracts in pyproject.toml) and declared dependencies
	$(UV) run lint-imports
	$(UV) run deptry src

# The locked environment on another Python, pyenv's or on PATH (uv cannot download one offline):
# `lifecycle --help`, every module imported, a few fast unit tests. Skipped when there is none.
SMOKE_PY ?= 3.12
SMOKE_TESTS ?= tests/unit/test_architecture.py tests/unit/test_metrics.py tests/unit/test_features.py tests/unit/test_evaluate.py
smoke-python: setup  ## the smoke run on Python $(SMOKE_PY) (SMOKE_PY=3.13 for the other one)
	@py="$$(pyenv prefix $(SMOKE_PY) 2>/dev/null)/bin/python$(SMOKE_PY)"; \
	[ -x "$$py" ] || py="$$(command -v python$(SMOKE_PY) || true)"; \
	if [ -z "$$py" ]; then echo "smoke on Python $(SMOKE_PY) skipped: no python$(SMOKE_PY) here"; exit 0; fi; \
	export UV_PROJECT_ENVIRONMENT=.venv-py$(subst .,,$(SMOKE_PY)); \
	set -ex; \
	$(UV) sync --frozen --quiet --python "$$py"; \
	$(UV) run --frozen --no-sync python --version; \
	$(UV) run --frozen --no-sync lifecycle --help >/dev/null; \
	$(UV) run --frozen --no-sync python -c "import importlib, pkgutil, lifecycle; \
	names = [m.name for m in pkgutil.walk_packages(lifecycle.__path__, 'lifecycle.')]; \
	all(importlib.import_module(n) for n in names); print(len(names), 'modules import')"; \
	$(UV) run --frozen --no-sync pytest -q -p no:cacheprovider $(SMOKE_TESTS)

# the MLflow UI's port: MLFLOW_UI_PORT from the environment or `make ui MLFLOW_UI_PORT=5001`
# (keep MLFLOW_UI_URL in step: the reports and the dashboard link to it)
MLFLOW_UI_PORT ?= 5000
ui:  ## the MLflow UI on the project's store (MLFLOW_TRACKING_URI, else the embedded SQLite file), priced in the ledger
	$(UV) run lifecycle ui --host 127.0.0.1 --port $(MLFLOW_UI_PORT)

bench:
	$(UV) run python benchmarks/pipeline.py

clean:
	rm -rf data/raw data/batches data/validated data/processed data/reference reports mlflow.db mlartifacts

# ---- CI and delivery (the GitHub workflows call these, never inline scripts)
IMAGE ?= lifecycle-serve:dev
REGISTRY ?= ghcr.io
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo -E env "PATH=$$PATH")

ci:  ## what CI runs: .ci/run (Debian packages as root, then make test)
	$(SUDO) bash .ci/run

image:  ## build the serving image (IMAGE=registry/name:tag)
	docker build -t $(IMAGE) .

image-login:  ## log in to the registry with REGISTRY_USER / REGISTRY_TOKEN from the environment
	@printf '%s' "$$REGISTRY_TOKEN" | docker login $(REGISTRY) -u "$$REGISTRY_USER" --password-stdin

image-push:
	docker push $(IMAGE)

deploy-flows:  ## register the work pool and deployments on PREFECT_API_URL's server
	$(UV) run python flows/deploy.py

test-scaleout:  ## the scale-out integration test alone (PostgreSQL, moto S3, mlflow server)
	$(UV) run pytest tests/integration/scaleout -q
