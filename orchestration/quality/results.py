"""The quality results table (audit.quality_results) and accuracy per source and export day."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd

RESULTS_TABLE = "audit.quality_results"

RESULTS_DDL = f"""
CREATE TABLE IF NOT EXISTS {RESULTS_TABLE} (
    run_id VARCHAR NOT NULL,
    checked_at TIMESTAMP NOT NULL,
    suite VARCHAR NOT NULL,
    "table" VARCHAR NOT NULL,
    expectation VARCHAR NOT NULL,
    "column" VARCHAR,
    rows_checked BIGINT,
    unexpected_count BIGINT,
    unexpected_percent DOUBLE,
    success BOOLEAN NOT NULL,
    sample_failing JSON,
    observed_value JSON,
    kwargs JSON,
    batch_through TIMESTAMP
)
"""
# Added after the table's first release: warehouses built before it gain the column in place.
RESULTS_MIGRATIONS = (
    f"ALTER TABLE {RESULTS_TABLE} ADD COLUMN IF NOT EXISTS batch_through TIMESTAMP",
)


def ensure_results_table(conn) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS audit")
    conn.execute(RESULTS_DDL)
    for statement in RESULTS_MIGRATIONS:
        conn.execute(statement)


def record_results(
    conn,
    run_id: str,
    suite: str,
    table: str,
    rows: list[dict],
    batch_through: datetime | None = None,
) -> int:
    """Append one row per expectation of one suite validation. `batch_through`: for a suite
    validated by batch, the newest batch value its passing validation covered (else None)."""
    ensure_results_table(conn)
    checked_at = datetime.now(UTC).replace(tzinfo=None)
    conn.executemany(
        f"INSERT INTO {RESULTS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                run_id,
                checked_at,
                suite,
                table,
                r["expectation"],
                r["column"],
                r["rows_checked"],
                r["unexpected_count"],
                r["unexpected_percent"],
                r["success"],
                json.dumps(r["sample_failing"], ensure_ascii=False),
                json.dumps(r.get("observed_value"), ensure_ascii=False),
                json.dumps(r.get("kwargs"), ensure_ascii=False),
                batch_through,
            )
            for r in rows
        ],
    )
    return len(rows)


def _results_exist(conn) -> bool:
    return bool(
        conn.execute(
            "SELECT count(*) FROM duckdb_tables() "
            "WHERE schema_name = 'audit' AND table_name = 'quality_results'"
        ).fetchone()[0]
    )


def validated_through(conn, suite: str, exclude_run_id: str | None = None) -> datetime | None:
    """The newest batch value an earlier passing validation of the suite covered: rows with a
    batch value at or after it are still to validate (None: validate the whole table)."""
    if not _results_exist(conn):
        return None
    ensure_results_table(conn)
    return conn.execute(
        f"SELECT max(batch_through) FROM {RESULTS_TABLE} "
        "WHERE suite = ? AND run_id IS DISTINCT FROM ?",
        [suite, exclude_run_id],
    ).fetchone()[0]


def previous_row_count(conn, suite: str, exclude_run_id: str | None = None) -> int | None:
    """Row count the latest earlier run observed for the suite's table (its row-count
    expectation), or None before the first run."""
    if not _results_exist(conn):
        return None
    row = conn.execute(
        f"""
        SELECT rows_checked FROM {RESULTS_TABLE}
        WHERE suite = ? AND expectation = 'expect_table_row_count_to_be_between'
          AND run_id IS DISTINCT FROM ?
        ORDER BY checked_at DESC LIMIT 1
        """,
        [suite, exclude_run_id],
    ).fetchone()
    return None if row is None else int(row[0])


def accuracy_by_source_day(conn) -> pd.DataFrame:
    """Data accuracy, defined once: per source and export day, the share of rows that pass every
    row-level check of the data contract, i.e. loaded / (loaded + quarantined) over the current
    version of each file in audit.load_log. Rows of files rejected whole (rows_rejected) are not
    rows that reached a row-level check and are reported apart.

    Columns: source, export_day, rows_checked, rows_valid, rows_quarantined, rows_rejected,
    accuracy (1.0 for a day without rows).
    """
    return conn.execute(
        """
        SELECT
            source,
            partition_day AS export_day,
            sum(rows_loaded + rows_quarantined)::BIGINT AS rows_checked,
            sum(rows_loaded)::BIGINT AS rows_valid,
            sum(rows_quarantined)::BIGINT AS rows_quarantined,
            sum(rows_rejected)::BIGINT AS rows_rejected,
            coalesce(
                sum(rows_loaded) / nullif(sum(rows_loaded + rows_quarantined), 0), 1.0
            )::DOUBLE AS accuracy
        FROM audit.load_log
        WHERE is_current
        GROUP BY source, partition_day
        ORDER BY source, partition_day
        """
    ).df()
