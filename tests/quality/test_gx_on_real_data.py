"""Every GX suite passes on a real (small) sample-world warehouse."""

from __future__ import annotations

import duckdb

from orchestration.quality.gx_suites import (
    describe_failures,
    load_suites,
    read_frame,
    summarise,
    validate_frame,
)


def test_every_suite_passes_on_the_small_world(small_world):
    failures = {}
    with duckdb.connect(str(small_world.warehouse), read_only=True) as conn:
        for suite in load_suites():
            frame = read_frame(conn, suite)
            result = validate_frame(frame, suite.suite, {"volume_floor": 0})
            if not result.success:
                failures[suite.name] = describe_failures(summarise(result, len(frame)))
    assert not failures, failures


def test_the_nightly_run_validated_only_the_rows_it_built(small_world):
    """After the small world's nightly run, a suite validated by batch checked the rows whose
    batch value is newer than what the full build's run had covered, and counted the table."""
    with duckdb.connect(str(small_world.build_copy), read_only=True) as conn:
        runs = [
            r
            for (r,) in conn.execute(
                "SELECT run_id FROM audit.quality_results GROUP BY run_id ORDER BY min(checked_at)"
            ).fetchall()
        ]
        nightly = runs[-1]
        for suite in (s for s in load_suites() if s.batch_column):
            covered = conn.execute(
                "SELECT max(batch_through) FROM audit.quality_results"
                " WHERE suite = ? AND run_id <> ?",
                [suite.name, nightly],
            ).fetchone()[0]
            # a table empty in the full build (no deletion requests yet) had nothing to cover
            new_rows, table_rows = conn.execute(
                f'SELECT count(*) FILTER (WHERE ? IS NULL OR "{suite.batch_column}" > ?),'
                f" count(*) FROM {suite.table}",
                [covered, covered],
            ).fetchone()
            checked = dict(
                conn.execute(
                    "SELECT expectation = 'expect_table_row_count_to_be_between', rows_checked"
                    " FROM audit.quality_results WHERE suite = ? AND run_id = ?",
                    [suite.name, nightly],
                ).fetchall()
            )
            assert checked[True] == table_rows, suite.name
            assert checked.get(False, 0) == new_rows, suite.name
            if suite.table in ("marts.fct_touchpoints", "raw.social_events"):
                assert 0 < new_rows < table_rows / 2, suite.name
