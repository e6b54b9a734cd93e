"""The Great Expectations suites in expectations/: they load, validate, and report failures."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from orchestration.ingest.contracts import SOURCES
from orchestration.quality.gx_suites import (
    SUITES_DIR,
    expectation_columns,
    load_suites,
    needed_columns,
    raw_suite,
    suite_from_dict,
    summarise,
    validate_frame,
)
from orchestration.settings import DBT_PROJECT_DIR

SUITES = load_suites()


def test_every_raw_source_and_the_main_marts_have_a_suite():
    names = {s.name for s in SUITES}
    assert {f"raw.{s.name}" for s in SOURCES} <= names
    for mart in (
        "fct_orders",
        "fct_order_lines",
        "dim_customers",
        "customer_identities",
        "dim_products",
        "dim_stores",
    ):
        assert f"marts.{mart}" in names
    assert len({s.check_name for s in SUITES}) == len(SUITES)


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s.name)
def test_suite_file_loads_and_validates(suite):
    assert suite.path.is_relative_to(SUITES_DIR)
    assert suite.table and suite.asset_key
    # Every suite has a volume expectation fed by the previous run's count.
    types = [e.configuration.type for e in suite.suite.expectations]
    assert "expect_table_row_count_to_be_between" in types
    frame = pd.DataFrame({c: ["x", None] for c in needed_columns(suite)} or {"_row": [1, 1]})
    result = validate_frame(frame, suite.suite, {"volume_floor": 0})
    assert len(result.results) == len(suite.suite.expectations)


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_raw_suites_match_the_data_contract(source):
    stored = next(s for s in SUITES if s.name == f"raw.{source.name}")
    generated = raw_suite(source)
    assert [e.configuration.to_json_dict() for e in stored.suite.expectations] == [
        e.configuration.to_json_dict() for e in generated.expectations
    ], "regenerate with `python -m orchestration.quality.gx_suites`"


def _suite(*expectations: dict):
    return suite_from_dict({"name": "t.t", "meta": {}, "expectations": list(expectations)})


def test_a_failing_expectation_reports_its_unexpected_share_and_examples():
    frame = pd.DataFrame(
        {
            "amount": [10.0] * 95 + [-1.0, -2.0, -3.0] + [None, None],
            "channel": ["pos"] * 97 + ["fax", "fax", "telex"],
        }
    )
    suite = _suite(
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "amount", "min_value": 0, "mostly": 0.98},
        },
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "channel", "value_set": ["pos"], "mostly": 0.98},
        },
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "amount", "mostly": 0.98},
        },
    )
    result = validate_frame(frame, suite)
    rows = {(r["expectation"], r["column"]): r for r in summarise(result, len(frame))}
    between = rows[("expect_column_values_to_be_between", "amount")]
    assert not between["success"]
    assert between["unexpected_count"] == 3
    # GX's unexpected_percent (and `mostly`) count non-null rows only: 3 of 98
    assert between["unexpected_percent"] == pytest.approx(300 / 98, abs=1e-3)
    assert sorted(between["sample_failing"]) == [-3.0, -2.0, -1.0]
    in_set = rows[("expect_column_values_to_be_in_set", "channel")]
    assert not in_set["success"] and in_set["unexpected_percent"] == pytest.approx(3.0)
    # 2% missing is within the 98% target
    not_null = rows[("expect_column_values_to_not_be_null", "amount")]
    assert not_null["success"] and not_null["unexpected_percent"] == pytest.approx(2.0)
    assert not result.success


def test_compound_uniqueness_and_volume_floor():
    frame = pd.DataFrame({"a": [1, 1, 2], "b": ["x", "x", "y"]})
    suite = _suite(
        {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["a", "b"]}},
        {
            "type": "expect_table_row_count_to_be_between",
            "kwargs": {"min_value": {"$PARAMETER": "volume_floor"}},
        },
    )
    result = validate_frame(frame, suite, {"volume_floor": 4})
    rows = {r["expectation"]: r for r in summarise(result, len(frame))}
    assert rows["expect_compound_columns_to_be_unique"]["unexpected_count"] == 2
    volume = rows["expect_table_row_count_to_be_between"]
    assert not volume["success"] and volume["observed_value"] == 3


def test_suites_validated_by_batch_follow_how_their_table_is_built():
    """A suite validates by batch only a table whose rows are never changed in place: raw tables
    (partitions appended or replaced, batch `_loaded_at`) and incremental models (records
    replaced whole, batch `processed_through_utc`). Every incremental model's suite does. A
    uniqueness expectation is sound on a batch only on the key the model replaces rows by."""
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    unique_keys = {
        f"{node['schema']}.{node['alias']}": node["config"]["unique_key"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    }
    batched = [s for s in SUITES if s.batch_column]
    assert {s.table for s in batched if s.table.startswith("raw.")} == {
        f"raw.{s.name}" for s in SOURCES
    }
    for suite in batched:
        if suite.table.startswith("raw."):
            assert suite.batch_column == "_loaded_at"
            assert not [e for e in suite.suite.expectations if "unique" in e.configuration.type]
            continue
        assert suite.batch_column == "processed_through_utc" and suite.table in unique_keys
        key = unique_keys[suite.table]
        key = {key} if isinstance(key, str) else set(key)
        for expectation in suite.suite.expectations:
            if "unique" in expectation.configuration.type:
                assert set(expectation_columns(expectation)) == key, suite.name
    assert {s.table for s in SUITES} & set(unique_keys) <= {s.table for s in batched}
    assert {"marts.fct_touchpoints", "staging.stg_social__events"} <= {s.table for s in batched}
