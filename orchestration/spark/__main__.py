"""Build the dbt project on a local Spark from a DuckDB warehouse's sources.

    python -m orchestration.spark --duckdb data/warehouse.duckdb --workdir /tmp/spark_build \
        build --exclude ...

Everything after the options is passed to dbt (default: `build --exclude tag:needs_built_model`:
unit tests of an incremental batch need the model already built, and on Spark those models are
plain tables). Exits with dbt's status.
"""

from __future__ import annotations

import argparse
import sys
import time

from orchestration.spark import build_on_spark


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duckdb", required=True, help="DuckDB warehouse whose sources to use")
    parser.add_argument("--workdir", required=True, help="Parquet sources, Spark warehouse, target")
    args, dbt_args = parser.parse_known_args(argv)
    started = time.monotonic()
    dbt_args = dbt_args or ["build", "--exclude", "tag:needs_built_model"]
    build, result = build_on_spark(args.duckdb, args.workdir, dbt_args)
    print(
        f"Spark build {'succeeded' if result.success else 'FAILED'} in "
        f"{time.monotonic() - started:.0f}s; tables under {build.warehouse_dir}"
    )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
