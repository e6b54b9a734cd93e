"""Writing a compact pandas result of a Python step into the warehouse, typed explicitly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd

from orchestration.ingest.validation import quote


def replace_table(
    conn, schema: str, table: str, frame: pd.DataFrame, types: dict[str, str] | None = None
) -> None:
    """CREATE OR REPLACE schema.table from `frame`, casting the columns named in `types` (so an
    all-null column still gets its SQL type) and keeping the frame's column order."""
    types = types or {}
    columns = ", ".join(
        f"CAST({quote(c)} AS {types[c]}) AS {quote(c)}" if c in types else quote(c)
        for c in frame.columns
    )
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
    conn.register("python_step_frame", frame)
    try:
        conn.execute(
            f"CREATE OR REPLACE TABLE {quote(schema)}.{quote(table)} AS "
            f"SELECT {columns} FROM python_step_frame"
        )
    finally:
        conn.unregister("python_step_frame")


def table_exists(conn, schema: str, table: str) -> bool:
    return bool(
        conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


@contextmanager
def registered(conn, name: str, frame: pd.DataFrame) -> Iterator[None]:
    """`frame` readable as the view `name` on `conn` for the duration of the block."""
    conn.register(name, frame)
    try:
        yield
    finally:
        conn.unregister(name)
