"""No analyst-facing table holds a raw phone, name or platform identifier."""

from __future__ import annotations

import re

import duckdb
import pandas as pd

ANALYST_SCHEMAS = ("marts", "predictions")
PHONE_LIKE = re.compile(r"(\+?86)?[\s-]*1[3-9]\d[\s-]*\d{4}[\s-]*\d{4}|1[3-9]\d\*{4}\d{4}")


def _string_values(warehouse) -> list[tuple[str, str, str, str]]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        columns = conn.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            f"WHERE data_type = 'VARCHAR' AND table_schema IN {ANALYST_SCHEMAS}"
        ).fetchall()
        return [
            (schema, table, column, value)
            for schema, table, column in columns
            for (value,) in conn.execute(
                f'SELECT DISTINCT "{column}" FROM "{schema}"."{table}" WHERE "{column}" IS NOT NULL'
            ).fetchall()
        ]


def test_no_analyst_facing_column_contains_a_phone_number(small_world):
    values = _string_values(small_world.warehouse)
    assert len({(s, t) for s, t, _, _ in values}) >= 20  # the scan covers the marts
    assert [v for v in values if PHONE_LIKE.search(v[3])] == []


def test_no_analyst_facing_column_contains_a_name_or_platform_id(small_world):
    persons = pd.read_parquet(small_world.truth / "persons.parquet")
    identities = pd.read_parquet(small_world.truth / "identities.parquet")
    personal = set(identities.identity_value) | set(persons.name.dropna())
    leaked = [v for v in _string_values(small_world.warehouse) if v[3] in personal]
    assert leaked == []
