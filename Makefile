# assetflow: `make run` starts everything in the foreground; `make test` runs all test tiers.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3.11
export PYTHONPATH := $(CURDIR)/deploy/local
TOOLS := $(CURDIR)/.local/tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9
RUN := $(UV) run --frozen
DEVSTACK := $(RUN) python -m devstack
PYTEST := $(RUN) pytest

.PHONY: help bootstrap install up down status logs run test packages unit integration e2e lint k8s-lint web web-api reconcile backfill fmt bench clean test-cluster

help:  ## list targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(UV):
	@echo "[make] installing uv $(UV_VERSION) into .local/tools"
	@python3.11 -m venv $(TOOLS) && $(TOOLS)/bin/pip install -q "uv==$(UV_VERSION)"

bootstrap: $(UV)  ## create the Python environment from uv.lock
	@$(UV) sync --frozen --all-packages --quiet

install: bootstrap  ## download or build Kafka, MinIO, MongoDB, nginx, Prometheus, Chromium into .local/ (idempotent)
	@$(DEVSTACK) install

up: bootstrap web  ## start stack + services in the background, return when healthy (CLUSTER=1: the cluster profile)
	@$(DEVSTACK) up --services $(if $(CLUSTER),--cluster,)

down: bootstrap  ## stop everything `up`/`run` started (CLUSTER=1: the cluster profile's)
	@$(DEVSTACK) down $(if $(CLUSTER),--cluster,)

status: bootstrap  ## show what runs (CLUSTER=1: the cluster profile)
	@$(DEVSTACK) status $(if $(CLUSTER),--cluster,)

logs: bootstrap  ## follow all logs
	@$(DEVSTACK) logs -f

run: bootstrap web  ## install, start stack + services in the foreground; Ctrl-C stops all
	@$(DEVSTACK) run

test: bootstrap packages web  ## install what is missing, start the stack if needed, run all tiers, stop what was started
	@cd web && npm test --silent
	@deploy/local/with-stack $(PYTEST) tests/unit tests/integration tests/e2e

SERVICES := api ingest indexer thumbnailer snapshotter notifier
packages: $(UV)  ## each service alone (uv sync --locked --package): a missing dependency fails here
	@for svc in $(SERVICES); do \
	  UV_PROJECT_ENVIRONMENT=$(CURDIR)/.local/venvs/$$svc $(UV) sync --locked --no-dev --quiet \
	    --package assetflow-$$svc && \
	  .local/venvs/$$svc/bin/python -c "import assetflow.$$svc.main" || \
	  { echo "[make] service $$svc does not import with only its own dependencies"; exit 1; }; \
	done; echo "[make] each service imports with only its declared dependencies"

unit: bootstrap web/node_modules/.package-lock.json  ## unit tests only (no I/O), the web UI's too
	@cd web && npm test --silent
	@$(PYTEST) tests/unit

integration: bootstrap  ## integration tests against the local stack
	@deploy/local/with-stack $(PYTEST) tests/integration

e2e: bootstrap  ## end-to-end tests against the local stack
	@deploy/local/with-stack $(PYTEST) tests/e2e

# The chaos suite starts the cluster profile if it does not run, and stops what it started.
test-cluster: bootstrap web  ## chaos suite on the cluster profile (CHAOS_IMAGES=5000 uploads per fault)
	@$(PYTEST) tests/cluster

reconcile: bootstrap  ## recount every dataset's counters from its images; REPAIR=1 fixes drift
	@$(RUN) assetflow reconcile $(if $(REPAIR),--repair,)

backfill: bootstrap  ## compare the bucket listing with the index and publish the differences (ARGS="--prefix ds/ --dry-run --resume")
	@$(RUN) assetflow backfill $(ARGS)

lint: bootstrap web/node_modules/.package-lock.json  ## ruff + import layers + mypy + tsc + dashboards, configuration table and API types up to date; Kubernetes manifests valid
	@$(RUN) ruff check .
	@$(RUN) ruff format --check .
	@$(RUN) lint-imports --no-cache >/dev/null || $(RUN) lint-imports --no-cache
	@$(RUN) mypy libs/contracts/src libs/platform/src libs/readmodel/src libs/storage/src libs/domain/src services/api/src services/ingest/src services/indexer/src services/thumbnailer/src services/snapshotter/src services/notifier/src deploy/local/devstack
	@$(RUN) python deploy/grafana/dashboards.py --check
	@$(RUN) python deploy/config_table.py --check
	@cd web && npm run --silent lint >/dev/null
	@$(MAKE) --no-print-directory openapi >/dev/null
	@cd web && npx --no-install openapi-typescript ../.local/openapi.json -o ../.local/schema.d.ts >/dev/null 2>&1
	@diff -q web/src/api/schema.d.ts .local/schema.d.ts >/dev/null || \
	  { echo "[make] web/src/api/schema.d.ts is out of date with the API: run make web-api"; exit 1; }
	@$(MAKE) --no-print-directory k8s-lint

# Kubernetes manifests (deploy/k8s): kustomize build of each overlay, kubeconform -strict against
# schemas made offline, and the rules of deploy/k8s/policy.py. Installs kustomize and
# kubeconform from the Go module proxy into .local/tools/bin the first time (needs go).
k8s-lint: bootstrap  ## render the Kubernetes overlays and validate them (kustomize, kubeconform)
	@$(RUN) python deploy/k8s/validate.py

# The web UI: npm ci when the lock file changes, a Vite build when a source changes.
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/package.json web/vite.config.ts web/tsconfig.json
web/node_modules/.package-lock.json: web/package-lock.json
	@echo "[make] npm ci (web)"
	@cd web && npm ci --no-audit --no-fund --loglevel=error
web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	@echo "[make] building the web UI"
	@cd web && npm run --silent build >/dev/null
web: web/dist/index.html  ## build the web UI into web/dist (the gateway serves it)

openapi: bootstrap
	@mkdir -p .local && ENV=local $(RUN) python -c "import json; from assetflow.api.main import create_app; print(json.dumps(create_app().openapi(), indent=1))" > .local/openapi.json

web-api: openapi web/node_modules/.package-lock.json  ## regenerate the UI's API types from the API's OpenAPI
	@cd web && npm run --silent gen:api

fmt: bootstrap  ## format with ruff
	@$(RUN) ruff format . && $(RUN) ruff check --fix .

bench: bootstrap web  ## run the benchmarks against the local stack
	@deploy/local/with-stack bash -c '$(RUN) python bench/presign_bench.py && $(RUN) python bench/thumbhash_bench.py && $(RUN) python bench/listing_bench.py && $(RUN) python bench/similar_bench.py && $(RUN) python bench/api_bench.py && $(RUN) python bench/ingest_bench.py && $(RUN) python bench/tags_bench.py && $(RUN) python bench/thumbnail_bench.py && $(RUN) python bench/raw_bench.py && $(RUN) python bench/range_bench.py && $(RUN) python bench/live_bench.py && $(RUN) python bench/web_bench.py && $(RUN) python bench/latency_bench.py'

clean: down  ## stop everything and delete .local/ data (keeps built binaries)
	rm -rf .local/data .local/logs .local/run
