"""The GX asset checks on a tiny DuckDB file: pass on good data, block downstream on bad data,
append to audit.quality_results, render Data Docs; accuracy per source and day."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, asset, materialize
from dagster_duckdb import DuckDBResource

from orchestration import settings
from orchestration.quality import gx_suites
from orchestration.quality.checks import build_gx_check, build_quality_checks, quality_checks
from orchestration.quality.gx_suites import SUITES_DIR, load_suite
from orchestration.quality.results import accuracy_by_source_day

STORES_SUITE = load_suite(SUITES_DIR / "raw" / "stores.json")
ORDERS_SUITE = load_suite(SUITES_DIR / "raw" / "ecom_orders.json")


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setattr(settings, "PUBLISHED_WAREHOUSE_PATH", tmp_path / "warehouse.duckdb")
    path = tmp_path / "build.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE SCHEMA raw; CREATE SCHEMA audit")
        conn.execute(
            "CREATE TABLE audit.load_log (source VARCHAR, partition_day DATE, rows_loaded BIGINT,"
            " rows_quarantined BIGINT, rows_rejected BIGINT, is_current BOOLEAN)"
        )
        conn.execute(
            "INSERT INTO audit.load_log VALUES ('stores', '2026-01-01', 100, 0, 0, true),"
            " ('ecom_orders', '2026-01-01', 97, 3, 0, true),"
            " ('ecom_orders', '2026-01-02', 50, 0, 10, true),"
            " ('ecom_orders', '2026-01-02', 40, 40, 0, false)"
        )
        conn.execute(
            "CREATE TABLE raw.stores AS SELECT 'S' || lpad(i::VARCHAR, 4, '0') AS store_id,"
            " 'Store ' || i AS store_name, CASE WHEN i % 3 = 0 THEN 'franchise' ELSE 'owned' END"
            " AS store_type, 'Shanghai' AS city, 'East' AS region,"
            " TIMESTAMP '2026-01-01 02:00:00' AS _loaded_at FROM range(100) t(i)"
        )
    return path


def load_stores(path: Path, first: int, count: int, store_type: str, loaded_at: str) -> None:
    """Append `count` stores S<first>.. of one type, loaded at `loaded_at`."""
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "INSERT INTO raw.stores SELECT 'S' || lpad(i::VARCHAR, 4, '0'), 'Store ' || i, ?,"
            " 'Shanghai', 'East', ?::TIMESTAMP FROM range(?, ?) t(i)",
            [store_type, loaded_at, first, first + count],
        )


def corrupt_stores(path: Path, n: int) -> None:
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            f"UPDATE raw.stores SET store_type = 'pop_up' WHERE store_id IN "
            f"(SELECT store_id FROM raw.stores ORDER BY store_id LIMIT {n})"
        )


STAGING_STORES = AssetKey(["staging", "stg_stores__stores"])


@asset(key=STAGING_STORES)
def staging_stores() -> None:
    pass


@asset(deps=[STAGING_STORES])
def downstream_mart() -> None:
    pass


def run(path: Path):
    return materialize(
        [staging_stores, downstream_mart, build_gx_check(STORES_SUITE)],
        resources={"warehouse": DuckDBResource(database=str(path))},
        raise_on_error=False,
    )


def evaluations(result):
    return [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]


def test_check_passes_on_good_data_and_records_results_and_data_docs(warehouse):
    result = run(warehouse)
    assert result.success
    (evaluation,) = evaluations(result)
    assert evaluation.check_name == "gx_raw__stores" and evaluation.passed
    assert evaluation.asset_key == STAGING_STORES
    metadata = evaluation.metadata
    assert metadata["rows"].value == 100
    assert any("in_set [store_type]" in k for k in metadata)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute(
            'SELECT suite, "table", expectation, rows_checked, success, run_id '
            "FROM audit.quality_results"
        ).fetchall()
    assert len(rows) == len(STORES_SUITE.suite.expectations)
    assert {r[0] for r in rows} == {"raw.stores"} and all(r[4] for r in rows)
    assert {r[5] for r in rows} == {result.run_id}
    docs = settings.PUBLISHED_WAREHOUSE_PATH.parent / "reports" / "data_docs"
    assert gx_suites.data_docs_dir() == docs
    assert (docs / "index.html").is_file()
    assert "raw.stores" in (docs / "index.html").read_text()


def test_check_blocks_downstream_on_corrupted_data(warehouse):
    corrupt_stores(warehouse, 5)  # 5% not allowed: above the 2% tolerated
    result = run(warehouse)
    assert not result.success
    (evaluation,) = evaluations(result)
    assert not evaluation.passed
    assert "store_type" in evaluation.description and "pop_up" in evaluation.description
    failing = next(v.value for k, v in evaluation.metadata.items() if "in_set [store_type]" in k)
    assert failing["unexpected_percent"] == pytest.approx(5.0)
    assert failing["sample_failing"][:1] == ["pop_up"]
    materialized = {
        m.event_specific_data.materialization.asset_key
        for m in result.all_events
        if m.event_type_value == "ASSET_MATERIALIZATION"
    }
    assert AssetKey("downstream_mart") not in materialized
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        sample = conn.execute(
            "SELECT sample_failing FROM audit.quality_results "
            "WHERE NOT success AND \"column\" = 'store_type'"
        ).fetchone()[0]
    assert json.loads(sample)[0] == "pop_up"


def test_a_little_noise_within_the_target_passes(warehouse):
    corrupt_stores(warehouse, 1)
    assert run(warehouse).success


def test_volume_is_judged_against_the_previous_run(warehouse):
    assert run(warehouse).success
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("DELETE FROM raw.stores WHERE store_id >= 'S0050'")
    result = run(warehouse)
    assert not result.success
    (evaluation,) = evaluations(result)
    assert "expect_table_row_count_to_be_between" in evaluation.description
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        runs = conn.execute("SELECT count(DISTINCT run_id) FROM audit.quality_results").fetchone()
    assert runs[0] == 2  # appended, not replaced


def checked(path: Path, run_id: str) -> dict[str, tuple[int, int | None]]:
    """Per expectation (and column) of a run: rows checked and unexpected count."""
    with duckdb.connect(str(path), read_only=True) as conn:
        rows = conn.execute(
            "SELECT expectation || coalesce(' ' || \"column\", ''), rows_checked, unexpected_count"
            " FROM audit.quality_results WHERE run_id = ?",
            [run_id],
        ).fetchall()
    return {name: (rows_checked, unexpected) for name, rows_checked, unexpected in rows}


IN_SET = "expect_column_values_to_be_in_set store_type"


def test_a_batched_suite_validates_the_new_rows_and_counts_the_whole_table(warehouse):
    first = run(warehouse)
    assert first.success
    assert checked(warehouse, first.run_id)[IN_SET] == (100, 0)
    load_stores(warehouse, 100, 20, "owned", "2026-01-02 02:00:00")
    second = run(warehouse)
    assert second.success
    figures = checked(warehouse, second.run_id)
    assert figures[IN_SET] == (20, 0)
    assert figures["expect_table_row_count_to_be_between"][0] == 120
    (evaluation,) = evaluations(second)
    assert (evaluation.metadata["rows"].value, evaluation.metadata["table_rows"].value) == (20, 120)
    assert "on 20 new rows (row count: the table's 120)" in evaluation.description


def test_bad_rows_in_a_new_batch_fail_the_check_until_replaced(warehouse):
    assert run(warehouse).success
    # 5 of 10 new rows are bad: under 5% of the table, but half of the batch
    load_stores(warehouse, 100, 5, "owned", "2026-01-02 02:00:00")
    load_stores(warehouse, 105, 5, "pop_up", "2026-01-02 02:00:00")
    failed = run(warehouse)
    assert not failed.success
    (evaluation,) = evaluations(failed)
    assert "pop_up" in evaluation.description
    assert checked(warehouse, failed.run_id)[IN_SET] == (10, 5)
    # a failed validation does not advance the watermark: the next run sees the bad rows again
    again = run(warehouse)
    assert checked(warehouse, again.run_id)[IN_SET] == (10, 5)
    # the partition is reloaded, fixed: its new rows are validated, the bad ones are gone
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("DELETE FROM raw.stores WHERE store_id >= 'S0100'")
    load_stores(warehouse, 100, 10, "owned", "2026-01-02 05:00:00")
    fixed = run(warehouse)
    assert fixed.success
    assert checked(warehouse, fixed.run_id)[IN_SET] == (10, 0)
    # nothing loaded since: only the table-level expectation runs
    quiet = run(warehouse)
    assert quiet.success
    assert checked(warehouse, quiet.run_id) == {"expect_table_row_count_to_be_between": (110, None)}


def test_freshness_is_relative_to_the_latest_export_day(warehouse):
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(
            "CREATE TABLE raw.ecom_orders (platform VARCHAR, order_id VARCHAR, buyer_id VARCHAR,"
            " order_time TIMESTAMP, status VARCHAR, gross_amount DECIMAL(18,2),"
            " discount_amount DECIMAL(18,2), updated_at TIMESTAMP, _partition_day DATE)"
        )
        conn.execute(
            "INSERT INTO raw.ecom_orders VALUES ('jd', 'J1', 'b', '2026-01-01', 'paid', 1, 0,"
            " '2026-01-01', '2026-01-01')"
        )
        frame = gx_suites.read_frame(conn, ORDERS_SUITE)
    assert frame.export_lag_days.tolist() == [1]  # latest current export day is 2026-01-02
    result = gx_suites.validate_frame(frame, ORDERS_SUITE.suite, {"volume_floor": 0})
    assert result.success
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(
            "INSERT INTO audit.load_log VALUES ('pos_receipts', '2026-01-09', 5, 0, 0, true)"
        )
        frame = gx_suites.read_frame(conn, ORDERS_SUITE)
    result = gx_suites.validate_frame(frame, ORDERS_SUITE.suite, {"volume_floor": 0})
    assert not result.success


def test_accuracy_by_source_day(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        frame = accuracy_by_source_day(conn)
    orders = frame[frame.source == "ecom_orders"]
    day = orders.set_index(orders.export_day.astype(str))
    assert day.loc["2026-01-01", "accuracy"] == pytest.approx(0.97)
    assert day.loc["2026-01-02", "accuracy"] == 1.0  # rejected files and old versions apart
    assert day.loc["2026-01-02", "rows_rejected"] == 10


def test_quality_checks_cover_every_suite_and_filter_by_existing_assets():
    assert len(quality_checks) == len(gx_suites.load_suites())
    only = build_quality_checks(asset_keys=[STAGING_STORES])
    assert {k.name for c in only for k in c.check_keys} == {
        "gx_raw__stores",
        "gx_staging__stg_stores__stores",
    }
