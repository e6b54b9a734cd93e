"""Rows obey the contract unless spoiled on purpose, and then break exactly the expected rule."""

import re
from datetime import date

import pandas as pd

from orchestration.ingest.contracts import SOURCES_BY_NAME, Column

from .conftest import original_files, read_rows
from .test_defects import end_of_export_day, parse_ts

NUMBER = {"integer": r"-?\d+", "decimal": r"-?\d+\.\d{2}"}


def _type_ok(column: Column, value: str) -> bool:
    try:
        if column.type in NUMBER:
            return re.fullmatch(NUMBER[column.type], value) is not None
        if column.type == "boolean":
            return value in ("true", "false")
        if column.type == "date":
            return date.fromisoformat(value) is not None
        if column.type == "timestamp":
            return parse_ts(value) is not None
    except ValueError:
        return False
    return True


def violations(source: str, row: dict, folder: str, known: dict[str, set]) -> set[str]:
    found = set()
    for column in SOURCES_BY_NAME[source].columns:
        value, name = row.get(column.name), column.name
        if value in (None, ""):
            if column.required:
                found.add(f"missing_required:{name}")
            continue
        if not _type_ok(column, value):
            found.add(f"invalid_type:{name}")
            continue
        if column.allowed and value not in column.allowed:
            found.add(f"not_allowed:{name}")
        if column.type in NUMBER and column.non_negative and float(value) < 0:
            found.add(f"negative_value:{name}")
        if column.type in NUMBER and column.positive and float(value) <= 0:
            found.add(f"not_positive:{name}")
        if column.not_in_future and parse_ts(value) > end_of_export_day(folder):
            found.add(f"future_timestamp:{name}")
        if column.references and value not in known[column.references]:
            found.add(f"unknown_reference:{name}")
    return found


def test_rows_break_only_the_rules_they_were_meant_to(defective_world):
    landing = defective_world / "landing"
    defects = pd.read_parquet(defective_world / "truth" / "defects.parquet")
    expected = {
        (d.file, int(d.line)): d.expected_reason
        for d in defects.itertuples()
        if d.line == d.line and isinstance(d.expected_reason, str)  # line not NaN
    }
    known = {
        "stores.store_id": set(),
        "products.sku_id": set(),
        "campaigns.campaign_id": set(),
    }
    checked = 0
    masters = ("stores", "products", "campaigns")  # a day's master data loads first
    order = lambda p: (p.parent.name, p.parent.parent.name not in masters)  # noqa: E731
    for path in sorted(original_files(defective_world), key=order):
        source = path.parent.parent.name
        rows = read_rows(path)
        for key, column in (
            ("stores", "store_id"),
            ("products", "sku_id"),
            ("campaigns", "campaign_id"),
        ):
            if source == key:
                known[f"{key}.{column}"] |= {r[column] for r in rows}
        rel = str(path.relative_to(landing))
        for row in rows:
            reason = expected.get((rel, row["_line"]))
            wanted = set() if reason in (None, "duplicate_row") else {reason}
            assert violations(source, row, path.parent.name, known) == wanted, (rel, row)
            checked += 1
    assert checked > 10_000
