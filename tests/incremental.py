"""Incremental models against a full refresh of the same warehouse."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration import settings

DBT_PROJECT = settings.REPO_ROOT / "dbt_project"


def incremental_models() -> list[tuple[str, str]]:
    """(schema, table) of every incremental model, read from the dbt manifest."""
    manifest = json.loads((DBT_PROJECT / "target" / "manifest.json").read_text())
    return sorted(
        (node["schema"], node["alias"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    )


def run_dbt(warehouse: Path, *args: str) -> subprocess.CompletedProcess:
    """Run dbt on a copy of a warehouse, in its own target path: the project's target/ holds the
    manifest other test processes load."""
    target = warehouse.parent / f"{warehouse.stem}_target"
    target.mkdir(exist_ok=True)
    dbt = Path(sys.executable).with_name("dbt")
    return subprocess.run(
        [str(dbt), *args, "--target-path", str(target), "--log-path", str(target)],
        cwd=DBT_PROJECT,
        env={**os.environ, "WAREHOUSE_PATH": str(warehouse), "DBT_PROFILES_DIR": str(DBT_PROJECT)},
        capture_output=True,
        text=True,
        check=False,
    )


def full_refresh_copy(warehouse: Path, copy: Path) -> None:
    """Copy the warehouse and rebuild its incremental models from scratch in the copy."""
    shutil.copy2(warehouse, copy)
    result = run_dbt(copy, "run", "--full-refresh", "--select", "config.materialized:incremental")
    assert result.returncode == 0, result.stdout[-4000:]


def differences(incremental: Path, full: Path) -> dict[str, tuple[int, int]]:
    """Per incremental model, rows only in the incremental build and rows only in the full
    refresh (multisets; processed_through_utc, the bookkeeping column, left out). Doubles are
    compared to 9 decimal places: a window sum over rows read in another order (a night's batch
    against the whole table) can differ in the last bit."""
    found = {}
    with duckdb.connect(str(incremental), read_only=True) as conn:
        conn.execute(f"ATTACH '{full}' AS full_refresh (READ_ONLY)")
        for schema, table in incremental_models():
            columns = ", ".join(comparable_columns(conn, schema, table))
            mine = f"SELECT {columns} FROM {schema}.{table}"
            theirs = f"SELECT {columns} FROM full_refresh.{schema}.{table}"
            only_mine = conn.execute(f"SELECT count(*) FROM ({mine} EXCEPT ALL {theirs})")
            only_mine = only_mine.fetchall()[0][0]
            only_theirs = conn.execute(f"SELECT count(*) FROM ({theirs} EXCEPT ALL {mine})")
            only_theirs = only_theirs.fetchall()[0][0]
            found[f"{schema}.{table}"] = (only_mine, only_theirs)
    return found


def comparable_columns(conn, schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = ? AND table_name = ? "
        "AND column_name <> 'processed_through_utc' ORDER BY column_index",
        [schema, table],
    ).fetchall()
    return [
        f'round("{name}", 9) AS "{name}"' if kind in ("DOUBLE", "FLOAT") else f'"{name}"'
        for name, kind in rows
    ]


def reprocessed_share(warehouse: Path) -> dict[str, float]:
    """Per incremental model, the share of rows the latest run (re)built."""
    shares = {}
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        for schema, table in incremental_models():
            share = conn.execute(
                f"SELECT avg(CASE WHEN processed_through_utc = latest THEN 1.0 ELSE 0 END) "
                f"FROM {schema}.{table}, "
                f"(SELECT max(processed_through_utc) AS latest FROM {schema}.{table})"
            ).fetchall()[0][0]
            shares[f"{schema}.{table}"] = float(share)
    return shares
