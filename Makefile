# Two commands set everything up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

SIZE ?= 20000
DAYS ?= 180
SEED ?= 7
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export UV_PYTHON ?= 3.11
RUN := $(UV) run --frozen --no-sync
# Two pytest workers: one builds and tests the small world, the other the default world.
TEST_WORKERS ?= 2
LANDING := data/landing

.PHONY: help install install-spark manifest sample sample-if-empty run dev test lint clean bench rollback

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m pip install --quiet --user uv

install: $(UV)  ## Create .venv from uv.lock
	$(UV) sync --frozen --inexact --quiet
	@mkdir -p $(DAGSTER_HOME) && cp orchestration/instance/dagster.yaml $(DAGSTER_HOME)/dagster.yaml

manifest: install  ## Parse the dbt project into its manifest (Dagster reads it)
	cd dbt_project && $(RUN) dbt parse --quiet --profiles-dir .

sample: install  ## Regenerate the sample world (SIZE customers, DAYS days, SEED)
	$(RUN) python -m orchestration.sample_world --customers $(SIZE) --days $(DAYS) --seed $(SEED) --out data --force

sample-if-empty: install
	@if [ -z "$$(ls -A $(LANDING) 2>/dev/null)" ]; then \
		$(RUN) python -m orchestration.sample_world --customers $(SIZE) --days $(DAYS) --seed $(SEED) --out data; \
	else echo "Landing zone $(LANDING) has data: using it (make sample to regenerate)"; fi

run: manifest sample-if-empty  ## Build the warehouse from the landing zone and print a summary
	$(RUN) python -m orchestration.run_pipeline

dev: manifest  ## Open the Dagster UI on localhost:3000
	$(RUN) dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

install-spark: install  # the `spark` group: dbt-spark and PySpark for the Spark-target test
	$(UV) sync --frozen --inexact --quiet --group spark

test: manifest install-spark  ## Run the test suite (includes the Spark target; needs Java 17)
	$(RUN) pytest -q -n $(TEST_WORKERS) --dist loadgroup

lint: install  ## ruff (Python) and sqlfluff (SQL)
	$(RUN) ruff check orchestration tests
	$(RUN) ruff format --check orchestration tests
	WAREHOUSE_PATH=$$(mktemp -d)/lint.duckdb $(RUN) sqlfluff lint dbt_project/models dbt_project/macros

bench: manifest  ## Benchmark generation and build at SIZE customers (BENCH_ARGS="--workdir DIR --reuse-world")
	$(RUN) python -m orchestration.bench --customers $(SIZE) --days $(DAYS) --seed $(SEED) $(BENCH_ARGS)

rollback: install  ## Publish the previous warehouse version again
	$(RUN) python -m orchestration.publish.rollback

clean:  ## Remove the warehouse, generated data, dbt artifacts and Dagster history
	rm -rf data/warehouse.duckdb* data/build data/landing data/truth data/published data/reports \
		dbt_project/target dbt_project/logs $(DAGSTER_HOME)
