"""Injected defects: measured in the files, located by defects.parquet, and nothing else."""

import math
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from opencc import OpenCC

from orchestration.ingest.contracts import SOURCES_BY_NAME

from .conftest import DEFECTIVE, canonical_phone, decode, landing_files, original_files, read_rows

T2S, S2T = OpenCC("t2s"), OpenCC("s2t")
TRANSACTIONAL = (
    "pos_receipts",
    "pos_receipt_lines",
    "ecom_orders",
    "ecom_order_lines",
    "refunds",
    "social_events",
    "store_visits",
    "crm_members",
    "crm_points",
)
OWN_TIME = {
    "pos_receipts": "receipt_time",
    "ecom_orders": "updated_at",
    "refunds": "refund_time",
    "social_events": "event_time",
    "store_visits": "visit_time",
    "crm_members": "updated_at",
    "crm_points": "txn_time",
}
ID_COLUMNS = ("member_id", "buyer_id", "unionid", "openid", "platform_user_id", "device_id")
NAME_COLUMNS = ("customer_name", "member_name", "receiver_name")
SHANGHAI = timedelta(hours=8)


def parse_ts(text: str) -> datetime:
    """Any export timestamp as naive UTC."""
    if text.endswith("Z"):
        return datetime.fromisoformat(text[:-1])
    if text.endswith("+08:00"):
        return datetime.fromisoformat(text[:-6]) - SHANGHAI
    return datetime.fromisoformat(text) - SHANGHAI


def end_of_export_day(folder: str) -> datetime:
    return datetime.fromisoformat(folder) + timedelta(days=1) - SHANGHAI


def assert_rate(hits: int, total: int, rate: float) -> None:
    assert total > 0
    slack = 4 * math.sqrt(rate * (1 - rate) / total) + 0.1 * rate
    assert abs(hits / total - rate) <= slack, (hits, total, rate)


@pytest.fixture(scope="module")
def files(defective_world):
    return {p: read_rows(p) for p in original_files(defective_world)}


@pytest.fixture(scope="module")
def defects(defective_world):
    return pd.read_parquet(defective_world / "truth" / "defects.parquet")


def rows_of(files, *sources):
    return [(p, r) for p, rows in files.items() if p.parent.parent.name in sources for r in rows]


def first_copies(rows):
    """Rows minus the injected exact duplicates (the 2nd copy of a line in a file)."""
    seen, out = set(), []
    for path, row in rows:
        key = (path, tuple((k, v) for k, v in row.items() if k != "_line"))
        if key not in seen:
            seen.add(key)
            out.append((path, row))
    return out


def test_duplicate_rows_rate(files):
    total = dups = 0
    for path in files:
        if path.parent.parent.name in TRANSACTIONAL:
            lines = decode(path).splitlines()[path.suffix == ".csv" :]
            total += len(lines)
            dups += sum(n - 1 for n in Counter(lines).values())
    assert_rate(dups, total - dups, DEFECTIVE.duplicate_row_rate)


def test_phone_format_rate(files):
    phones = [
        r["phone"]
        for _, r in first_copies(rows_of(files, *SOURCES_BY_NAME))
        if r.get("phone") and "*" not in r["phone"]
    ]
    odd = [p for p in phones if not re.fullmatch(r"1\d{10}", p)]
    assert all(canonical_phone(p).startswith("+861") for p in odd)
    assert_rate(len(odd), len(phones), DEFECTIVE.phone_format_rate)


def test_traditional_name_rate(files):
    names = [
        r[c]
        for _, r in first_copies(rows_of(files, *SOURCES_BY_NAME))
        for c in NAME_COLUMNS
        if r.get(c)
    ]
    convertible = [n for n in names if S2T.convert(T2S.convert(n)) != T2S.convert(n)]
    traditional = [n for n in convertible if n != T2S.convert(n)]
    assert_rate(len(traditional), len(convertible), DEFECTIVE.traditional_name_rate)


def _noisy(row) -> bool:
    values = [row[c] for c in ID_COLUMNS if row.get(c)]
    member = row.get("member_id") or ""
    return any(v != v.strip() for v in values) or member.strip().startswith("m")


def test_id_noise_rate(files):
    rows = [
        r
        for _, r in first_copies(rows_of(files, *SOURCES_BY_NAME))
        if any(r.get(c) for c in ID_COLUMNS)
    ]
    assert_rate(sum(map(_noisy, rows)), len(rows), DEFECTIVE.id_noise_rate)


def test_invalid_row_rates(files, defective_world):
    stores = {r["store_id"] for _, r in rows_of(files, "stores")}
    lines = first_copies(rows_of(files, "pos_receipt_lines", "ecom_order_lines"))
    assert_rate(
        sum(int(r["quantity"]) <= 0 for _, r in lines), len(lines), DEFECTIVE.negative_quantity_rate
    )
    with_store = first_copies(rows_of(files, "pos_receipts", "store_visits"))
    assert_rate(
        sum(r["store_id"] not in stores for _, r in with_store),
        len(with_store),
        DEFECTIVE.unknown_store_rate,
    )
    headers = first_copies(rows_of(files, "pos_receipts", "ecom_orders"))
    missing = sum(not (r.get("receipt_id") or r.get("order_id")) for _, r in headers)
    assert_rate(missing, len(headers), DEFECTIVE.missing_order_id_rate)
    timed = first_copies(
        rows_of(
            files,
            "pos_receipts",
            "ecom_orders",
            "refunds",
            "social_events",
            "store_visits",
            "crm_points",
        )
    )
    future = sum(
        any(
            parse_ts(r[c.name]) > end_of_export_day(p.parent.name)
            for c in SOURCES_BY_NAME[p.parent.parent.name].columns
            if c.type == "timestamp"
        )
        for p, r in timed
    )
    assert_rate(future, len(timed), DEFECTIVE.future_date_rate)


def test_late_arrival_rate(files):
    rows = first_copies(rows_of(files, *OWN_TIME))
    late = sum(
        (parse_ts(r[OWN_TIME[p.parent.parent.name]]) + SHANGHAI).date()
        < date.fromisoformat(p.parent.name)
        for p, r in rows
    )
    assert_rate(late, len(rows), DEFECTIVE.late_arrival_rate)


def test_resent_files_are_byte_identical_copies(defective_world, defects):
    resent = [p for p in landing_files(defective_world) if "_resend" in p.name]
    assert resent
    for path in resent:
        previous = (date.fromisoformat(path.parent.name) - timedelta(days=1)).isoformat()
        original = path.parent.parent / previous / path.name.replace("_resend", "")
        assert original.read_bytes() == path.read_bytes()
    recorded = set(defects.loc[defects["defect_kind"] == "duplicate_file", "file"])
    assert recorded == {str(p.relative_to(defective_world / "landing")) for p in resent}


def _has_defect(kind, source, row, stores, folder) -> bool:
    if kind == "negative_quantity":
        return int(row["quantity"]) < 0
    if kind == "unknown_store":
        return row["store_id"] not in stores
    if kind == "missing_order_id":
        return not row.get("receipt_id", row.get("order_id"))
    if kind == "phone_format":
        return not re.fullmatch(r"1\d{10}", row["phone"])
    if kind == "masked_phone":
        return re.fullmatch(r"1\d{2}\*{4}\d{4}", row["phone"]) is not None
    if kind == "traditional_name":
        return any(row.get(c) and row[c] != T2S.convert(row[c]) for c in NAME_COLUMNS)
    if kind == "id_noise":
        return _noisy(row)
    if kind == "late_arrival" and source in OWN_TIME:
        return (parse_ts(row[OWN_TIME[source]]) + SHANGHAI).date() < date.fromisoformat(folder)
    return kind == "late_arrival"  # lines carry no time of their own


def test_defect_lines_point_at_defective_rows(defective_world, files, defects):
    stores = {r["store_id"] for _, r in rows_of(files, "stores")}
    by_file = {str(p.relative_to(defective_world / "landing")): rows for p, rows in files.items()}
    located = defects[defects["line"].notna()]
    assert set(located["defect_kind"]) >= {
        "duplicate_row",
        "late_arrival",
        "negative_quantity",
        "unknown_store",
        "missing_order_id",
        "future_date",
        "phone_format",
        "traditional_name",
        "id_noise",
        "masked_phone",
    }
    for d in located.itertuples():
        rows = by_file[d.file]
        row = next(r for r in rows if r["_line"] == d.line)
        folder = d.file.split("/")[1]
        if d.defect_kind == "duplicate_row":
            earlier = [r for r in rows if r["_line"] < d.line]
            strip = {k: v for k, v in row.items() if k != "_line"}
            assert any({k: v for k, v in r.items() if k != "_line"} == strip for r in earlier)
        elif d.defect_kind == "future_date":
            column = d.expected_reason.split(":")[1]
            assert parse_ts(row[column]) >= end_of_export_day(folder) + timedelta(days=29)
        else:
            assert _has_defect(d.defect_kind, d.source, row, stores, folder), d


def test_defective_world_counts_every_kind(defects):
    assert set(defects["defect_kind"]) == {
        "duplicate_row",
        "duplicate_file",
        "late_arrival",
        "negative_quantity",
        "unknown_store",
        "missing_order_id",
        "future_date",
        "phone_format",
        "traditional_name",
        "id_noise",
        "masked_phone",
        "gbk_file",
        "bom_file",
    }
    invalid = defects[defects["expected_reason"].notna() & defects["line"].notna()]
    assert not invalid.duplicated(["file", "line"]).any()  # invalid kinds are exclusive


def test_utc_now_is_irrelevant_to_future_dates():
    # the generator measures "future" against the export day, never the wall clock
    assert end_of_export_day("2026-01-01") == datetime(2026, 1, 1, 16, tzinfo=UTC).replace(
        tzinfo=None
    )
