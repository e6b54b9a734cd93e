"""The data tests of incremental models check the rows built since the latest publication."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from tests.incremental import run_dbt

NEW_ROW_TESTS = "test_name:unique_since_last_publication test_name:sums_match_total"


def _failed_tests(warehouse) -> dict[str, int]:
    """dbt test of the new-row tests on a warehouse copy: failing test name -> failing rows."""
    run_dbt(warehouse, "test", "--select", NEW_ROW_TESTS)
    results = warehouse.parent / f"{warehouse.stem}_target" / "run_results.json"
    return {
        r["unique_id"].split(".")[2]: r["failures"]
        for r in json.loads(results.read_text())["results"]
        if r["unique_id"].startswith("test.") and r["status"] != "pass"
    }


def _duplicate_a_row(conn, table: str, stamp_sql: str, where: str = "true") -> None:
    conn.execute(
        f"INSERT INTO {table} SELECT * REPLACE ({stamp_sql} AS processed_through_utc) "
        f"FROM {table} WHERE {where} LIMIT 1"
    )


@pytest.fixture
def copy_of_small_world(small_world, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy2(small_world.build_copy, copy)
    return copy


def test_both_builds_were_recorded_as_published(small_world):
    with duckdb.connect(str(small_world.warehouse), read_only=True) as conn:
        published = conn.execute("SELECT version, published_at FROM audit.publications").fetchall()
        (built_through,) = conn.execute(
            "SELECT max(processed_through_utc) FROM marts.fct_touchpoints"
        ).fetchone()
    kept = sorted(p.name for p in (small_world.warehouse.parent / "published").glob("*.duckdb"))
    assert sorted(version for version, _ in published) == kept  # the first build and the night
    assert max(at for _, at in published) > built_through


def test_a_new_row_is_checked_against_every_row(copy_of_small_world):
    with duckdb.connect(str(copy_of_small_world)) as conn:
        # a new touch row whose key an old row holds; a markov credit built now, one cent off
        _duplicate_a_row(conn, "marts.fct_touchpoints", "timezone('UTC', now())")
        conn.execute(
            "UPDATE marts.fct_attribution_credits SET credited_revenue_cny = "
            "credited_revenue_cny + 0.01, processed_through_utc = timezone('UTC', now()) "
            "WHERE credit_key = (SELECT min(credit_key) FROM marts.fct_attribution_credits "
            "WHERE attribution_model = 'markov')"
        )
        # an old duplicate: the tests passed before this build was published, so not re-checked
        _duplicate_a_row(
            conn, "intermediate.int_journeys__journey_touches", "processed_through_utc"
        )
    failed = _failed_tests(copy_of_small_world)
    assert failed == {
        "unique_since_last_publication_fct_touchpoints_touchpoint_key": 1,
        "fct_attribution_credits_credits_sum_to_revenue": 1,
    }


def test_before_any_publication_every_row_is_checked(copy_of_small_world):
    with duckdb.connect(str(copy_of_small_world)) as conn:
        for table in ("int_journeys__journey_touches", "int_customers__touch_records"):
            _duplicate_a_row(conn, f"intermediate.{table}", "processed_through_utc")
        conn.execute("DELETE FROM audit.publications")
    assert _failed_tests(copy_of_small_world) == {
        "unique_since_last_publication_int_journeys__journey_touches_touchpoint_key": 1,
        "unique_since_last_publication_int_customers__touch_records_record_source__record_id": 1,
    }


def test_a_full_refresh_checks_every_row(copy_of_small_world):
    """A --full-refresh build stamps its rows with the newest change, which may be older than
    the latest publication: compiled for such a build, a new-row test reads every row, old
    stamps included (the first test above shows a night's test skipping the same old row)."""
    with duckdb.connect(str(copy_of_small_world)) as conn:
        _duplicate_a_row(
            conn, "intermediate.int_journeys__journey_touches", "processed_through_utc"
        )
    test = "unique_since_last_publication_int_journeys__journey_touches_touchpoint_key"
    result = run_dbt(copy_of_small_world, "compile", "--full-refresh", "--select", test)
    assert result.returncode == 0, result.stdout[-4000:]
    target = copy_of_small_world.parent / f"{copy_of_small_world.stem}_target"
    (compiled,) = (target / "compiled").rglob("*.sql")  # dbt shortens the long test name
    with duckdb.connect(str(copy_of_small_world), read_only=True) as conn:
        assert conn.execute(f"SELECT count(*) FROM ({compiled.read_text()})").fetchone()[0] == 1
