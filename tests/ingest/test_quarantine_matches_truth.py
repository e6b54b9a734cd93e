"""Every defect the generator injected is quarantined with the right reason, and nothing else."""

from __future__ import annotations

import duckdb
import pandas as pd


def test_quarantine_is_exactly_the_injected_defects(small_world):
    defects = pd.read_parquet(small_world.truth / "defects.parquet")
    expected = defects.dropna(subset=["expected_reason"])
    row_level = expected[expected.line.notna()]
    with duckdb.connect(str(small_world.warehouse), read_only=True) as conn:
        quarantined = conn.execute(
            "SELECT file_path, line, reason FROM audit.quarantine WHERE line IS NOT NULL"
        ).fetchall()
        erased = conn.execute("SELECT sum(quarantine_erased) FROM audit.load_log").fetchall()[0][0]
        duplicate_files = {
            path
            for (path,) in conn.execute(
                "SELECT file_path FROM audit.load_log "
                "WHERE is_current AND status = 'duplicate_file'"
            ).fetchall()
        }
    truth_rows = {
        (f, int(line), reason)
        for f, line, reason in row_level[["file", "line", "expected_reason"]].itertuples(
            index=False
        )
    }
    got = set(quarantined)
    assert len(truth_rows) > 50  # the world has defects of every kind to find
    assert got <= truth_rows, sorted(got - truth_rows)[:10]
    # Only records of people erased on request may be missing, and the load log counts them.
    assert len(truth_rows - got) == erased
    truth_files = set(expected.loc[expected.expected_reason == "duplicate_file", "file"])
    assert duplicate_files == truth_files


def test_every_defect_kind_is_present_in_the_world(small_world):
    kinds = set(pd.read_parquet(small_world.truth / "defects.parquet").defect_kind)
    assert {
        "duplicate_row",
        "duplicate_file",
        "negative_quantity",
        "unknown_store",
        "missing_order_id",
        "future_date",
    } <= kinds
