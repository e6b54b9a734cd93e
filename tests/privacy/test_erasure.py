"""A deletion request erases the person from raw and quarantine, and only that person."""

from __future__ import annotations

import json

import pandas as pd

from orchestration.ingest.contracts import SOURCES_BY_NAME
from orchestration.ingest.loader import load_partition, reconciliation_mismatches
from orchestration.privacy.erasure import erase_requested_people
from tests.ingest.conftest import receipts, write

KEY = b"test-key-for-erasure-tests-0123456789"
DAY = "2026-01-02"
LINES_HEADER = "receipt_id,line_no,sku_id,quantity,unit_price,line_amount\n"
PRODUCTS = (
    "sku_id,product_id,product_name,category,list_price,launched_date\n"
    "K1,P1,Tea,drinks,10.00,2025-01-01\n"
)


def _load(conn, landing, *sources_days):
    for source, day in sources_days:
        load_partition(conn, SOURCES_BY_NAME[source], landing, day)


def _world(conn, landing, with_identity_map: bool):
    write(landing, "products", "2026-01-01", "p.csv", PRODUCTS)
    write(
        landing,
        "pos_receipts",
        DAY,
        "r.csv",
        receipts(
            "R1,S0001,2026-01-02 10:00:00,M00000001,+86 138 0013 8000,张三,G1,,,10,0",
            "R2,S0001,2026-01-02 11:00:00,,138-0013-8000,,G1,,,10,0",  # same phone, other format
            "R3,S0001,2026-01-02 12:00:00,M00000002,13900000000,李四,G1,,,10,0",
            "R4,S9999,2026-01-02 12:00:00,,13800138000,,G1,,,10,0",  # quarantined: unknown store
        ),
    )
    write(
        landing,
        "pos_receipt_lines",
        DAY,
        "l.csv",
        LINES_HEADER + "R1,1,K1,1,10,10\nR3,1,K1,1,10,10\n",
    )
    write(
        landing,
        "deletion_requests",
        "2026-01-03",
        "d.csv",
        "request_id,requested_at,phone,member_id\nDR1,2026-01-03 09:00:00,13800138000,\n",
    )
    _load(
        conn,
        landing,
        ("stores", "2026-01-01"),
        ("products", "2026-01-01"),
        ("pos_receipts", DAY),
        ("pos_receipt_lines", DAY),
        ("deletion_requests", "2026-01-03"),
    )
    if with_identity_map:
        # The last resolution knew that this phone's owner also holds a unionid seen elsewhere.
        conn.execute("CREATE SCHEMA identity")
        conn.register(
            "m",
            pd.DataFrame(
                {
                    "identity_type": ["phone", "unionid", "member_id"],
                    "identity_value": ["+8613800138000", "oUnion1", "M00000002"],
                    "customer_id": ["C1", "C1", "C2"],
                }
            ),
        )
        conn.execute("CREATE TABLE identity.customer_identity_map AS SELECT * FROM m")


def test_erasure_removes_the_person_everywhere_and_keeps_others(conn, landing):
    _world(conn, landing, with_identity_map=False)
    report = erase_requested_people(conn, KEY)
    assert report.requests_processed == 1
    remaining = conn.execute("SELECT receipt_id FROM raw.pos_receipts ORDER BY 1").fetchall()
    assert remaining == [("R3",)]  # R1 and R2 carried the phone in two formats
    assert conn.execute("SELECT receipt_id FROM raw.pos_receipt_lines").fetchall() == [("R3",)]
    assert conn.execute(
        "SELECT count(*) FROM audit.quarantine WHERE source = 'pos_receipts'"
    ).fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM raw.deletion_requests").fetchone() == (0,)
    assert reconciliation_mismatches(conn) == []
    [(request_id, rows_erased)] = conn.execute(
        "SELECT request_id, rows_erased FROM privacy.erasure_log"
    ).fetchall()
    assert request_id == "DR1"
    assert json.loads(rows_erased) == {
        "deletion_requests": 1,
        "pos_receipt_lines": 1,
        "pos_receipts": 2,
        "quarantine": 1,
    }
    everything = conn.execute("SELECT * FROM privacy.erasure_log").fetchall()
    assert "13800138000" not in str(everything) and "138" not in str(everything[0][3:4])


def test_later_exports_of_an_erased_person_are_erased_on_arrival(conn, landing):
    _world(conn, landing, with_identity_map=True)
    erase_requested_people(conn, KEY)
    write(
        landing,
        "pos_receipts",
        "2026-01-05",
        "r.csv",
        receipts(
            "R9,S0001,2026-01-05 10:00:00,,8613800138000,,G1,,,10,0",
            "R10,S0001,2026-01-05 10:00:00,M00000002,,,G1,,,10,0",
        ),
    )
    _load(conn, landing, ("pos_receipts", "2026-01-05"))
    erase_requested_people(conn, KEY)
    ids = conn.execute("SELECT receipt_id FROM raw.pos_receipts ORDER BY 1").fetchall()
    assert ids == [("R10",), ("R3",)]  # C2 (M00000002) is someone else and stays
    assert reconciliation_mismatches(conn) == []
