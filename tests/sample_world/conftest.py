"""Tiny worlds generated once per test session, and small independent readers of the exports."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import phonenumbers
import pytest

from orchestration.ingest.contracts import SOURCES_BY_NAME
from orchestration.sample_world import WorldConfig, generate_world

TINY = WorldConfig(customers=500, days=20, seed=11, chunk_size=250)
# every defect at a rate high enough to measure in a small world
DEFECTIVE = replace(
    TINY,
    customers=1500,
    days=30,
    seed=5,
    chunk_size=800,
    phone_format_rate=0.3,
    traditional_name_rate=0.3,
    id_noise_rate=0.1,
    duplicate_row_rate=0.03,
    duplicate_file_rate=0.05,
    late_arrival_rate=0.05,
    negative_quantity_rate=0.03,
    unknown_store_rate=0.03,
    missing_order_id_rate=0.03,
    future_date_rate=0.03,
    bom_file_rate=0.2,
    store_phone_receipt_rate=0.2,
)


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    generate_world(TINY, out)
    return out


@pytest.fixture(scope="session")
def defective_world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("defective")
    generate_world(DEFECTIVE, out)
    return out


def source_of(path: Path) -> str:
    return path.parent.parent.name


def decode(path: Path) -> str:
    """Decode as the contract allows: UTF-8 (BOM stripped), else GB18030 where accepted."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        assert "gb18030" in SOURCES_BY_NAME[source_of(path)].encodings, path
        return raw.decode("gb18030")


def read_rows(path: Path) -> list[dict]:
    """Rows of one export file as dicts; the physical line number is under '_line'."""
    text = decode(path)
    if path.suffix == ".jsonl":
        return [dict(json.loads(line), _line=i + 1) for i, line in enumerate(text.splitlines())]
    reader = csv.DictReader(io.StringIO(text))
    return [dict(row, _line=i + 2) for i, row in enumerate(reader)]


def landing_files(world: Path, source: str | None = None) -> list[Path]:
    pattern = f"{source}/*/*.*" if source else "*/*/*.*"
    return sorted((world / "landing").glob(pattern))


def original_files(world: Path, source: str | None = None) -> list[Path]:
    return [p for p in landing_files(world, source) if "_resend" not in p.name]


def canonical_phone(raw: str) -> str:
    number = phonenumbers.parse(raw, "CN")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
