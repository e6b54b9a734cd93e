"""The nightly erasure hashes only the values of files loaded since its last run, and still leaves
nothing of an erased person: what a full rescan would find, the incremental runs already erased."""

from __future__ import annotations

import pandas as pd

from orchestration.ingest.loader import reconciliation_mismatches
from orchestration.privacy.erasure import erase_requested_people, withhold_erased_customers
from tests.ingest.conftest import receipts, write
from tests.privacy.test_erasure import DAY, KEY, _load, _world

REQUESTS_HEADER = "request_id,requested_at,phone,member_id\n"


def _last_run(conn) -> tuple:
    return conn.execute(
        "SELECT full_scan, values_hashed FROM privacy.erasure_runs ORDER BY run DESC LIMIT 1"
    ).fetchone()


def _stored(conn, value: str) -> bool:
    return conn.execute(
        "SELECT count(*) FROM privacy.value_hashes WHERE value = ?", [value]
    ).fetchone() == (1,)


def _receipt_ids(conn) -> list[str]:
    return [
        r for (r,) in conn.execute("SELECT receipt_id FROM raw.pos_receipts ORDER BY 1").fetchall()
    ]


def test_a_run_with_nothing_new_hashes_nothing(conn, landing):
    _world(conn, landing, with_identity_map=False)
    assert erase_requested_people(conn, KEY).full_scan
    # Distinct values of the first run: phones 138-0013-8000 and 13900000000 (the erased
    # +86 138 0013 8000, 13800138000 forms are hashed too), member ids M00000001, M00000002.
    assert _last_run(conn) == (True, 7)
    # Raw is written only by the loader, which logs every file: a row written behind its back
    # is in no file loaded since, so the next run does not look at it.
    conn.execute(
        "INSERT INTO raw.pos_receipts SELECT * REPLACE ('R7' AS receipt_id, "
        "'13700000000' AS phone) FROM raw.pos_receipts WHERE receipt_id = 'R3'"
    )
    report = erase_requested_people(conn, KEY)
    assert (report.full_scan, report.values_hashed, report.rows_erased) == (False, 0, {})
    assert _last_run(conn) == (False, 0)
    assert not _stored(conn, "13700000000") and _stored(conn, "13900000000")


def test_a_person_arriving_after_their_erasure_is_erased_on_arrival(conn, landing):
    _world(conn, landing, with_identity_map=True)
    erase_requested_people(conn, KEY)
    write(
        landing,
        "pos_receipts",
        "2026-01-05",
        "r.csv",
        receipts(
            "R9,S0001,2026-01-05 10:00:00,,8613800138000,,G1,,,10,0",  # the erased phone
            "R11,S0001,2026-01-05 10:00:00,M00000009,oUnion1,,G1,,,10,0",  # not a phone
            "R12,S0001,2026-01-05 11:00:00,M00000009,13600000000,王五,G1,,,10,0",
            "R13,S9999,2026-01-05 11:00:00,,+86 13800138000,,G1,,,10,0",  # quarantined
        ),
    )
    _load(conn, landing, ("pos_receipts", "2026-01-05"))
    report = erase_requested_people(conn, KEY)
    # New distinct values: phones 8613800138000, oUnion1, 13600000000, +86 13800138000; member
    # ids M00000009 and the quarantined record's "". A unionid as a phone matches nothing.
    assert (report.full_scan, report.values_hashed) == (False, 6)
    assert report.rows_erased == {"pos_receipts": 1, "quarantine": 1}
    assert _receipt_ids(conn) == ["R11", "R12", "R3"]
    assert reconciliation_mismatches(conn) == []
    assert not _stored(conn, "8613800138000") and _stored(conn, "13600000000")


def test_a_file_whose_rows_were_all_quarantined_is_scanned_too(conn, landing):
    """Such a file changes no raw partition, only the load log and the quarantine."""
    _world(conn, landing, with_identity_map=False)
    erase_requested_people(conn, KEY)
    write(
        landing,
        "pos_receipts",
        "2026-01-06",
        "r.csv",
        receipts("R20,S9999,2026-01-06 10:00:00,,138 0013 8000,,G1,,,10,0"),
    )
    _load(conn, landing, ("pos_receipts", "2026-01-06"))
    assert erase_requested_people(conn, KEY).rows_erased == {"quarantine": 1}
    assert conn.execute(
        "SELECT count(*) FROM audit.quarantine WHERE source = 'pos_receipts'"
    ).fetchone() == (0,)


def test_a_new_request_erases_old_partitions_without_hashing_them_again(conn, landing):
    _world(conn, landing, with_identity_map=False)
    erase_requested_people(conn, KEY)
    write(
        landing,
        "deletion_requests",
        "2026-01-07",
        "d.csv",
        REQUESTS_HEADER + "DR2,2026-01-07 09:00:00,,m00000002\n",  # R3's member, other case
    )
    _load(conn, landing, ("deletion_requests", "2026-01-07"))
    report = erase_requested_people(conn, KEY)
    assert report.requests_processed == 1
    assert (report.full_scan, report.values_hashed) == (False, 1)  # only m00000002 is new
    assert report.rows_erased == {
        "deletion_requests": 1,
        "pos_receipt_lines": 1,
        "pos_receipts": 1,
    }
    assert _receipt_ids(conn) == []
    assert conn.execute("SELECT count(*) FROM privacy.value_hashes").fetchone() == (0,)


def test_after_incremental_runs_a_full_rescan_finds_nothing_more(conn, landing):
    _world(conn, landing, with_identity_map=True)
    erase_requested_people(conn, KEY)
    write(
        landing,
        "pos_receipts",
        "2026-01-08",
        "r.csv",
        receipts(
            "R30,S0001,2026-01-08 10:00:00,M00000002,,,G1,,,10,0",
            "R31,S0001,2026-01-08 10:00:00,,(+86)138-0013-8000,,G1,,,10,0",
        ),
    )
    write(
        landing,
        "deletion_requests",
        "2026-01-08",
        "d.csv",
        REQUESTS_HEADER + "DR3,2026-01-08 09:00:00,13900000000,\n",
    )
    _load(conn, landing, ("pos_receipts", "2026-01-08"), ("deletion_requests", "2026-01-08"))
    erased = erase_requested_people(conn, KEY).rows_erased
    # R31 (the earlier request's phone) and R3 (13900000000); R30 stays: no resolution ties
    # its member id to the phone.
    assert erased["pos_receipts"] == 2
    full = erase_requested_people(conn, KEY, full_refresh=True)
    assert (full.full_scan, full.rows_erased) == (True, {})
    assert _receipt_ids(conn) == ["R30"]


def test_identifiers_the_identity_step_ties_to_an_erased_person_are_erased_next_run(conn, landing):
    """Tonight's resolution learns that M00000001 is the erased phone's owner: the next run
    erases the member's rows from a partition it scanned before, without hashing anything."""
    _world(conn, landing, with_identity_map=False)
    write(
        landing,
        "pos_receipts",
        "2026-01-04",
        "r.csv",
        receipts("R5,S0001,2026-01-04 10:00:00,M00000001,,,G1,,,10,0"),
    )
    _load(conn, landing, ("pos_receipts", "2026-01-04"))
    erase_requested_people(conn, KEY)
    assert _receipt_ids(conn) == ["R3", "R5"]  # nothing tied M00000001 to the phone yet
    fresh_map = pd.DataFrame(
        {
            "identity_type": ["phone", "member_id", "member_id"],
            "identity_value": ["+8613800138000", "M00000001", "M00000002"],
            "customer_id": ["C1", "C1", "C2"],
        }
    )
    conn.register("fresh_map", fresh_map)
    conn.execute("CREATE TEMP TABLE fresh_identity_map AS SELECT * FROM fresh_map")
    assert withhold_erased_customers(conn, "fresh_identity_map", KEY) == 1
    assert conn.execute("SELECT customer_id FROM fresh_identity_map").fetchall() == [("C2",)]
    report = erase_requested_people(conn, KEY)
    assert (report.values_hashed, report.rows_erased) == (0, {"pos_receipts": 1})
    assert _receipt_ids(conn) == ["R3"]
    assert not _stored(conn, "M00000001")


def test_a_value_no_file_holds_after_a_replacement_is_forgotten(conn, landing):
    """Kept only in value_hashes, it would outlive an erasure of its person."""
    _world(conn, landing, with_identity_map=False)
    erase_requested_people(conn, KEY)
    assert _stored(conn, "13900000000")
    write(
        landing,
        "pos_receipts",
        DAY,
        "r.csv",
        receipts("R3,S0001,2026-01-02 12:00:00,M00000002,13900000001,李四,G1,,,10,0"),
    )
    _load(conn, landing, ("pos_receipts", DAY))
    assert erase_requested_people(conn, KEY).values_hashed == 1
    assert not _stored(conn, "13900000000") and _stored(conn, "13900000001")
    assert _stored(conn, "M00000002")
