"""The one DuckDB resource every asset writes through, and the dbt CLI resource."""

from __future__ import annotations

import sys
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource
from packaging.version import Version

from orchestration import settings
from orchestration.transform.project import dbt_project


def warehouse_resource() -> DuckDBResource:
    settings.WAREHOUSE_PATH.parent.mkdir(parents=True, exist_ok=True)
    return DuckDBResource(
        database=str(settings.WAREHOUSE_PATH),
        connection_config={"memory_limit": settings.DUCKDB_MEMORY_LIMIT},
    )


class WarehouseDbtCliResource(DbtCliResource):
    """dagster-dbt's CLI resource without two costs this project never uses.

    Before every `dbt` invocation dagster-dbt asks the executable for its version (a second dbt
    process) and loads the profile, project and macros into an in-process dbt adapter, which
    serves only `fetch_column_metadata` / `fetch_row_counts`; neither is called here. Together
    they cost 7 s a run on one machine measured, the adapter alone 19 s on a slower one (issue
    8). The executable is the dbt beside this interpreter: its version is dbt-core's.
    """

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):  # noqa: ARG002 - signature of the parent
        return None


def dbt_resource() -> WarehouseDbtCliResource:
    # The dbt installed beside this interpreter, whether or not the venv is on PATH.
    return WarehouseDbtCliResource(
        project_dir=dbt_project, dbt_executable=str(Path(sys.executable).parent / "dbt")
    )
