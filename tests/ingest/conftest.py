"""Hand-written landing files for the loader tests."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

STORES_CSV = (
    "store_id,store_name,store_type,city,region,store_phone,opened_date\n"
    "S0001,上海南京路店,owned,上海,East,021-55550001,2020-01-01\n"
    "S0002,杭州湖滨店,franchise,杭州,East,0571-55550002,2021-03-01\n"
)
RECEIPTS_HEADER = (
    "receipt_id,store_id,receipt_time,member_id,phone,customer_name,guide_id,"
    "pickup_order_id,pickup_platform,gross_amount,discount_amount"
)


def write(landing: Path, source: str, day: str, name: str, content: bytes | str) -> Path:
    folder = landing / source / day
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def receipts(*rows: str) -> str:
    return RECEIPTS_HEADER + "\n" + "\n".join(rows) + "\n"


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    write(root, "stores", "2026-01-01", "stores_2026-01-01.csv", STORES_CSV)
    return root


@pytest.fixture
def conn():
    connection = duckdb.connect()
    yield connection
    connection.close()
