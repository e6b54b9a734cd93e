"""Build the dbt project on Apache Spark (dbt-spark, `method: session`, local PySpark).

The path past one machine (issue 8): the same dbt project, unchanged, builds on Spark. DuckDB stays
the primary engine; this module proves the portability on a sample and is the recipe for a
cluster:

1. export every table dbt reads through `source()` (the raw, audit, identity and predictions
   schemas, as the parsed manifest lists them) from a DuckDB warehouse to Parquet;
2. start a local SparkSession whose catalog registers each of them as a table of the same
   schema and name (on a cluster: the same tables in the metastore, as Parquet or Delta);
3. run dbt in this process with `--target spark`: dbt-spark's session method picks up the active
   SparkSession (`SparkSession.builder.getOrCreate()`), so it sees the registered sources.

Models are written as tables under the session's warehouse directory
(`<warehouse>/<schema>.db/<model>/`, Parquet), where DuckDB can read them back to compare.

Needs the `spark` dependency group (`uv sync --group spark`) and Java 17.
Command line:
`python -m orchestration.spark --duckdb <warehouse.duckdb> --workdir <dir> [dbt args]`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
# The profile output in dbt_project/profiles.yml, and the variable its warehouse dir comes from.
SPARK_TARGET = "spark"
WAREHOUSE_DIR_VARIABLE = "SPARK_WAREHOUSE_DIR"

# Settings of the local session. Parquet timestamps are read as instants (TIMESTAMP, UTC), not as
# TIMESTAMP_NTZ, so that they behave like DuckDB's UTC timestamps in date arithmetic.
SESSION_CONFIG = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.catalogImplementation": "in-memory",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "false",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.adaptive.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "2g",
}


@dataclass(frozen=True)
class SparkBuild:
    workdir: Path

    @property
    def warehouse_dir(self) -> Path:
        return self.workdir / "warehouse"

    @property
    def sources_dir(self) -> Path:
        return self.workdir / "sources"

    @property
    def target_path(self) -> Path:
        """dbt's target path for Spark runs: never the project's own target/ (Dagster reads it)."""
        return self.workdir / "target"

    def table_dir(self, schema: str, table: str) -> Path:
        """Where the session's catalog keeps a managed table: Parquet files DuckDB can read."""
        return self.warehouse_dir / f"{schema}.db" / table


def dbt_invoke(build: SparkBuild, args: Sequence[str]):
    """Run dbt in this process against the Spark target (the session method needs that)."""
    from dbt.cli.main import dbtRunner

    os.environ[WAREHOUSE_DIR_VARIABLE] = str(build.warehouse_dir)
    return dbtRunner().invoke(
        [
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target",
            SPARK_TARGET,
            "--target-path",
            str(build.target_path),
        ]
    )


def source_tables(build: SparkBuild) -> list[tuple[str, str]]:
    """Every (schema, table) the project reads through source(), from the parsed manifest."""
    result = dbt_invoke(build, ["parse", "--quiet"])
    if not result.success:
        raise RuntimeError(f"dbt parse failed: {result.exception}")
    manifest = json.loads((build.target_path / "manifest.json").read_text(encoding="utf-8"))
    return sorted({(s["schema"], s["identifier"]) for s in manifest["sources"].values()})


def export_sources(
    duckdb_path: Path, tables: Sequence[tuple[str, str]], out_dir: Path
) -> dict[tuple[str, str], Path]:
    """Copy each source table from the DuckDB warehouse to one Parquet file per table.

    Timestamps without time zone hold UTC (the project's convention): they are exported as
    TIMESTAMPTZ so that Parquet marks them as instants.
    """
    files = {}
    with duckdb.connect(str(duckdb_path), read_only=True) as conn:
        conn.execute("set TimeZone = 'UTC'")
        for schema, table in tables:
            columns = conn.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            if not columns:
                raise LookupError(f"source {schema}.{table} is not in {duckdb_path}")
            select = ", ".join(_export_expression(name, data_type) for name, data_type in columns)
            path = out_dir / schema / f"{table}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            conn.execute(
                f'copy (select {select} from "{schema}"."{table}") to \'{path}\' (format parquet)'
            )
            files[(schema, table)] = path
    return files


def _export_expression(name: str, data_type: str) -> str:
    quoted = '"' + name.replace('"', '""') + '"'
    upper = data_type.upper()
    if upper in ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATETIME"):
        return f"cast({quoted} as timestamptz) as {quoted}"
    if upper == "JSON":
        return f"cast({quoted} as varchar) as {quoted}"
    if upper in ("HUGEINT", "UHUGEINT", "UBIGINT"):
        return f"cast({quoted} as decimal(38, 0)) as {quoted}"
    if upper in ("UINTEGER",):
        return f"cast({quoted} as bigint) as {quoted}"
    if upper in ("USMALLINT", "UTINYINT"):
        return f"cast({quoted} as integer) as {quoted}"
    return quoted


def spark_session(build: SparkBuild, master: str = "local[2]"):
    """The local SparkSession dbt-spark's session method will pick up."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName("omnichannel-dbt")
    config = {**SESSION_CONFIG, "spark.sql.warehouse.dir": str(build.warehouse_dir)}
    for key, value in config.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def register_sources(spark, files: dict[tuple[str, str], Path]) -> None:
    """Register each exported Parquet file as a table `<schema>.<table>` of the session."""
    for (schema, table), path in sorted(files.items()):
        spark.sql(f"create database if not exists `{schema}`")
        spark.sql(f"drop table if exists `{schema}`.`{table}`")
        spark.sql(f"create table `{schema}`.`{table}` using parquet location '{path}'")


def build_on_spark(duckdb_path: Path, workdir: Path, dbt_args: Sequence[str]):
    """Export the sources of a DuckDB warehouse, register them in Spark and run dbt there."""
    build = SparkBuild(Path(workdir).resolve())
    build.workdir.mkdir(parents=True, exist_ok=True)
    tables = source_tables(build)
    files = export_sources(Path(duckdb_path), tables, build.sources_dir)
    spark = spark_session(build)
    register_sources(spark, files)
    return build, dbt_invoke(build, dbt_args)
