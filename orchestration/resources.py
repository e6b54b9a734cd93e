"""The one DuckDB resource every asset writes through, and the dbt CLI resource."""

from __future__ import annotations

import sys
from pathlib import Path

from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from orchestration import settings
from orchestration.transform.project import dbt_project


def warehouse_resource() -> DuckDBResource:
    settings.WAREHOUSE_PATH.parent.mkdir(parents=True, exist_ok=True)
    return DuckDBResource(
        database=str(settings.WAREHOUSE_PATH),
        connection_config={"memory_limit": settings.DUCKDB_MEMORY_LIMIT},
    )


def dbt_resource() -> DbtCliResource:
    # The dbt installed beside this interpreter, whether or not the venv is on PATH.
    return DbtCliResource(
        project_dir=dbt_project, dbt_executable=str(Path(sys.executable).parent / "dbt")
    )
