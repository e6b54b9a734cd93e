"""No analyst-facing table holds a raw phone, name or platform identifier."""

from __future__ import annotations

import re

import duckdb
import pandas as pd

ANALYST_SCHEMAS = ("marts", "predictions")
# A Chinese mobile in any spelling the exports use, standing alone: not a run of digits inside a
# longer token such as a hexadecimal hash or a customer id.
PHONE_LIKE = re.compile(
    r"(?<![0-9A-Za-z])(\+?86[\s-]?)?1[3-9]\d[\s-]?(\d{4}|\*{4})[\s-]?\d{4}(?![0-9A-Za-z])"
)


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


def test_the_phone_pattern_finds_phones_and_only_phones():
    for phone in (
        "13800138000",
        "+86 138 0013 8000",
        "138-0013-8000",
        "138****8000",
        "x 13800138000",
    ):
        assert PHONE_LIKE.search(phone), phone
    for other in ("C156582494474", "3ca68c6813800138000ccc", "2026-01-13"):
        assert not PHONE_LIKE.search(other), other


def test_no_analyst_facing_column_contains_a_phone_number(small_world):
    values = _string_values(small_world.warehouse)
    assert len({(s, t) for s, t, _, _ in values}) >= 20  # the scan covers the marts
    assert [v for v in values if PHONE_LIKE.search(v[3])] == []


def test_no_analyst_facing_column_contains_a_name_or_platform_id(small_world):
    persons = pd.read_parquet(small_world.truth / "persons.parquet")
    identities = pd.read_parquet(small_world.truth / "identities.parquet")
    with duckdb.connect(str(small_world.warehouse), read_only=True) as conn:
        # A person may be called 沈阳 like the city: place names are the stores', not personal.
        places = {
            v
            for row in conn.execute(
                "SELECT city, region, store_name FROM marts.dim_stores"
            ).fetchall()
            for v in row
        }
    personal = (set(identities.identity_value) | set(persons.name.dropna())) - places
    leaked = [v for v in _string_values(small_world.warehouse) if v[3] in personal]
    assert leaked == []
