"""The loader on hand-written files: one per bad case, each with its expected outcome."""

from __future__ import annotations

import json

import pytest

from orchestration.ingest import loader
from orchestration.ingest.contracts import SOURCES_BY_NAME
from orchestration.ingest.loader import load_partition, load_partitions, reconciliation_mismatches
from tests.ingest.conftest import RECEIPTS_HEADER, receipts, write

STORES = SOURCES_BY_NAME["stores"]
RECEIPTS = SOURCES_BY_NAME["pos_receipts"]
EVENTS = SOURCES_BY_NAME["social_events"]
DAY = "2026-01-02"
GOOD = "R{n},S0001,2026-01-02 10:00:00,M00000001,13800138000,张三,G1,,,100.00,5.00"


def load_receipts(conn, landing):
    load_partition(conn, STORES, landing, "2026-01-01")
    return load_partition(conn, RECEIPTS, landing, DAY)


def quarantine(conn):
    return conn.execute(
        "SELECT file_path, line, reason FROM audit.quarantine ORDER BY file_path, line"
    ).fetchall()


def test_gbk_file_is_detected_and_loaded(conn, landing):
    write(landing, "pos_receipts", DAY, "r.csv", receipts(GOOD.format(n=1)).encode("gbk"))
    [result] = load_receipts(conn, landing)
    assert (result.status, result.encoding, result.rows_loaded) == ("loaded", "gb18030", 1)
    assert conn.execute("SELECT customer_name FROM raw.pos_receipts").fetchone() == ("张三",)


def test_utf8_bom_is_detected_and_stripped(conn, landing):
    write(
        landing, "pos_receipts", DAY, "r.csv", b"\xef\xbb\xbf" + receipts(GOOD.format(n=1)).encode()
    )
    [result] = load_receipts(conn, landing)
    assert (result.encoding, result.rows_loaded) == ("utf-8-sig", 1)
    assert conn.execute("SELECT receipt_id FROM raw.pos_receipts").fetchone() == ("R1",)


def test_naive_times_are_shanghai_and_stored_as_utc(conn, landing):
    write(landing, "pos_receipts", DAY, "r.csv", receipts(GOOD.format(n=1)))
    load_receipts(conn, landing)
    [(ts,)] = conn.execute(
        "SELECT strftime(receipt_time, '%H:%M') FROM raw.pos_receipts"
    ).fetchall()
    assert ts == "02:00"  # 10:00 in Asia/Shanghai


def test_truncated_file_quarantines_the_cut_line(conn, landing):
    content = receipts(GOOD.format(n=1), GOOD.format(n=2)) + "R3,S0001,2026-01-02 1"
    write(landing, "pos_receipts", DAY, "r.csv", content)
    [result] = load_receipts(conn, landing)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    assert quarantine(conn) == [("pos_receipts/2026-01-02/r.csv", 4, "wrong_column_count")]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty_file"),
        (b"\x00\x01\x02\xff\xfe garbage \x00\x9c", "undecodable"),
        (b"\x81\x30\xff\xfe\xfd" * 50, "undecodable"),
        ("receipt_id;store_id;receipt_time\nR1;S0001;2026-01-02 10:00:00\n", "wrong_delimiter"),
        ("receipt_id,store_id,gross_amount\nR1,S0001,10\nR2,S0001,12\n", "missing_column"),
    ],
    ids=["empty", "binary", "undecodable-bytes", "semicolons", "missing-required-column"],
)
def test_bad_file_is_rejected_whole_with_its_reason(conn, landing, content, reason):
    write(landing, "pos_receipts", DAY, "bad.csv", content)
    write(landing, "pos_receipts", DAY, "good.csv", receipts(GOOD.format(n=1)))
    results = {r.file_path.rsplit("/", 1)[1]: r for r in load_receipts(conn, landing)}
    assert results["good.csv"].rows_loaded == 1  # one bad file never stops the others
    bad = results["bad.csv"]
    assert (bad.status, bad.reason) == ("rejected_file", reason)
    assert bad.rows_rejected == bad.rows_read
    assert (("pos_receipts/2026-01-02/bad.csv", None, reason)) in quarantine(conn)


def test_missing_column_message_names_file_and_column(conn, landing):
    write(landing, "pos_receipts", DAY, "bad.csv", "receipt_id,store_id\nR1,S0001\n")
    [result] = load_receipts(conn, landing)
    assert "receipt_time" in result.message and result.rows_rejected == 1


def test_drifted_extra_column_is_kept_and_reported(conn, landing):
    content = RECEIPTS_HEADER + ",coupon_code\n" + GOOD.format(n=1) + ",SPRING10\n"
    write(landing, "pos_receipts", DAY, "r.csv", content)
    [result] = load_receipts(conn, landing)
    assert result.extra_columns == ("coupon_code",)
    [(extra,)] = conn.execute("SELECT _extra FROM raw.pos_receipts").fetchall()
    assert json.loads(extra) == {"coupon_code": "SPRING10"}


def test_each_row_rule_gives_its_reason(conn, landing):
    rows = [
        GOOD.format(n=1),
        GOOD.format(n=1),  # exact duplicate
        "R2,S9999,2026-01-02 10:00:00,,,,,,,10,0",
        ",S0001,2026-01-02 10:00:00,,,,,,,10,0",
        "R4,S0001,2026-03-02 10:00:00,,,,,,,10,0",
        "R5,S0001,2026-01-02 10:00:00,,,,,,,-10,0",
        "R6,S0001,2026-01-02 10:00:00,,,,,,,ten,0",
        "R7,S0001,2026-01-02 10:00:00,,,,,O1,ebay,10,0",
        "R8,S0001,2026-01-02 23:59:59,,,,,,,10,0",  # last second of the export day: valid
    ]
    write(landing, "pos_receipts", DAY, "r.csv", receipts(*rows))
    [result] = load_receipts(conn, landing)
    assert [(line, reason) for _, line, reason in quarantine(conn)] == [
        (3, "duplicate_row"),
        (4, "unknown_reference:store_id"),
        (5, "missing_required:receipt_id"),
        (6, "future_timestamp:receipt_time"),
        (7, "negative_value:gross_amount"),
        (8, "invalid_type:gross_amount"),
        (9, "not_allowed:pickup_platform"),
    ]
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (9, 2, 7)


def test_jsonl_bad_lines_are_quarantined_with_line_numbers(conn, landing):
    lines = [
        '{"event_id": "E1", "platform": "xiaohongshu", "event_type": "note_view", '
        '"event_time": "2026-01-02T01:00:00Z", "platform_user_id": "xhs_1"}',
        '{"event_id": "E2", "platform": "xiaohongshu", "event_type": "note_vi',
        '{"event_id": "E3", "platform": "myspace", "event_type": "like", '
        '"event_time": "2026-01-02T01:00:00Z"}',
    ]
    write(landing, "social_events", DAY, "e.jsonl", "\n".join(lines) + "\n")
    [result] = load_partition(conn, EVENTS, landing, DAY)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 2)
    assert [(line, reason) for _, line, reason in quarantine(conn)] == [
        (2, "invalid_json"),
        (3, "not_allowed:platform"),
    ]


def test_reloading_is_idempotent_and_a_resent_file_is_not_loaded_twice(conn, landing):
    content = receipts(GOOD.format(n=1), GOOD.format(n=2))
    write(landing, "pos_receipts", DAY, "r.csv", content)
    write(landing, "pos_receipts", "2026-01-03", "r_resend.csv", content)
    load_receipts(conn, landing)
    [resent] = load_partition(conn, RECEIPTS, landing, "2026-01-03")
    snapshot = conn.execute("SELECT * FROM raw.pos_receipts ORDER BY receipt_id").fetchall()
    assert (resent.status, resent.rows_rejected, resent.rows_loaded) == ("duplicate_file", 2, 0)
    again = load_receipts(conn, landing) + load_partition(conn, RECEIPTS, landing, "2026-01-03")
    assert {r.status for r in again} == {"unchanged"}
    assert conn.execute("SELECT * FROM raw.pos_receipts ORDER BY receipt_id").fetchall() == snapshot
    assert len(snapshot) == 2


def test_changed_file_replaces_its_old_rows(conn, landing):
    path = write(landing, "pos_receipts", DAY, "r.csv", receipts(GOOD.format(n=1)))
    load_receipts(conn, landing)
    path.write_text(receipts(GOOD.format(n=7), GOOD.format(n=8)))
    [result] = load_partition(conn, RECEIPTS, landing, DAY)
    assert result.status == "loaded"
    ids = conn.execute("SELECT receipt_id FROM raw.pos_receipts ORDER BY 1").fetchall()
    assert ids == [("R7",), ("R8",)]
    assert conn.execute(
        "SELECT count(*) FILTER (WHERE is_current), count(*) FROM audit.load_log "
        "WHERE file_path LIKE '%r.csv'"
    ).fetchone() == (1, 2)


def test_reconciliation_detects_a_lost_row(conn, landing):
    write(landing, "pos_receipts", DAY, "r.csv", receipts(GOOD.format(n=1), GOOD.format(n=2)))
    load_receipts(conn, landing)
    assert reconciliation_mismatches(conn) == []
    conn.execute("DELETE FROM raw.pos_receipts WHERE receipt_id = 'R2'")
    [mismatch] = reconciliation_mismatches(conn)
    assert mismatch[0] == "pos_receipts/2026-01-02/r.csv"


def test_a_backfill_is_written_in_chunks_in_one_transaction(conn, landing, monkeypatch):
    """Five files of three rows with chunks of four rows: every row lands once, quarantine and
    counts reconcile, and each loaded day is noted as changed for the incremental models."""
    monkeypatch.setattr(loader, "CHUNK_ROWS", 4)
    days = [f"2026-01-0{d}" for d in range(2, 7)]
    for n, day in enumerate(days):
        rows = [GOOD.format(n=f"{n}{i}").replace("2026-01-02", day) for i in range(3)]
        rows[2] = rows[2].replace("S0001", "S9999")  # unknown store: quarantined
        write(landing, "pos_receipts", day, "r.csv", receipts(*rows))
    load_partition(conn, STORES, landing, "2026-01-01")
    results = load_partitions(conn, RECEIPTS, landing, days)
    assert [(r.rows_loaded, r.rows_quarantined) for r in results] == [(2, 1)] * 5
    ids = [
        i for (i,) in conn.execute("SELECT receipt_id FROM raw.pos_receipts ORDER BY 1").fetchall()
    ]
    assert ids == sorted(f"R{n}{i}" for n in range(5) for i in range(2))
    assert conn.execute("SELECT count(*) FROM audit.quarantine").fetchall() == [(5,)]
    assert reconciliation_mismatches(conn) == []
    changed = conn.execute(
        "SELECT strftime(partition_day, '%Y-%m-%d') FROM audit.partition_changes "
        "WHERE source = 'pos_receipts' AND change = 'loaded' ORDER BY 1"
    ).fetchall()
    assert [d for (d,) in changed] == days
