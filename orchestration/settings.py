"""Paths and settings shared by Dagster, dbt and the command-line entry points.

Every path can be overridden by an environment variable; the defaults put everything under
`data/` of the repository so that `make run` works on a fresh clone.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent


def _path_from_env(variable: str, default: Path) -> Path:
    return Path(os.environ.get(variable, default)).expanduser().resolve()


# Write-audit-publish: every run writes the build copy; only an audited build is published, as
# the file analysts open. Earlier published versions are kept for rollback.
WAREHOUSE_PATH = _path_from_env("WAREHOUSE_PATH", REPO_ROOT / "data" / "build" / "warehouse.duckdb")
PUBLISHED_WAREHOUSE_PATH = _path_from_env(
    "PUBLISHED_WAREHOUSE_PATH", REPO_ROOT / "data" / "warehouse.duckdb"
)
PUBLISHED_VERSIONS_DIR = _path_from_env(
    "PUBLISHED_VERSIONS_DIR", PUBLISHED_WAREHOUSE_PATH.parent / "published"
)
PUBLISHED_VERSIONS_KEPT = int(os.environ.get("PUBLISHED_VERSIONS_KEPT", "5"))
# DuckDB's memory limit in every process that opens the warehouse (dbt reads the same variable in
# profiles.yml); past it DuckDB spills to disk. A percentage of RAM or a size such as "8GB".
DUCKDB_MEMORY_LIMIT = os.environ.get("DUCKDB_MEMORY_LIMIT", "50%")
LANDING_PATH = _path_from_env("LANDING_PATH", REPO_ROOT / "data" / "landing")
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
# First export day that daily partitions cover; the sample world starts here by default.
PARTITION_START_DATE = os.environ.get("PARTITION_START_DATE", "2026-01-01")
LOCAL_TIMEZONE = "Asia/Shanghai"

# dbt reads the warehouse path from the same variable (dbt_project/profiles.yml).
os.environ["WAREHOUSE_PATH"] = str(WAREHOUSE_PATH)
# Dagster runs dbt in several steps around the Python assets (identity, CLV, attribution). A test
# must run only in the step where every model it reads exists: dbt's "buildable" selection.
os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")


def dbt_var(name: str):
    """A business threshold defined once, as a dbt var, and read here by the Python steps."""
    with (DBT_PROJECT_DIR / "dbt_project.yml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)["vars"][name]


# The business plan's data-accuracy target: share of rows passing every row-level check.
ACCURACY_TARGET = float(dbt_var("accuracy_target"))
