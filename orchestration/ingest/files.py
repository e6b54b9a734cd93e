"""Reading one landing file into an all-text Arrow table with physical line numbers.

Everything here is file-level: encoding detection, header checks, parse errors. Row rules are
applied afterwards in DuckDB (see `validation.py`).
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from orchestration.ingest.contracts import Source

LINE_COLUMN = "_line"


class FileRejected(Exception):
    """The whole file cannot be loaded; `reason` is one of contracts.FILE_RULES."""

    def __init__(self, reason: str, message: str, rows_read: int = 0):
        super().__init__(message)
        self.reason = reason
        self.rows_read = rows_read


@dataclass
class ParsedFile:
    table: pa.Table  # contract columns present in the file + extras, all strings, plus _line
    encoding: str
    extra_columns: list[str]
    malformed: list[tuple[int, str, str]] = field(default_factory=list)  # (line, reason, text)

    @property
    def rows_read(self) -> int:
        return self.table.num_rows + len(self.malformed)


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def decode(raw: bytes, accepted: tuple[str, ...]) -> tuple[str, str]:
    """Decode bytes with the first accepted encoding that fits; BOM wins when present.

    UTF-8 is tried before GB18030 because valid UTF-8 multibyte text is rarely valid GB18030 by
    accident, while the converse is common.
    """
    if b"\x00" in raw[:8192]:
        raise FileRejected("undecodable", "file contains NUL bytes: binary content, not text")
    if raw.startswith(b"\xef\xbb\xbf") and "utf-8-sig" in accepted:
        return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    for encoding in accepted:
        if encoding == "utf-8-sig":
            continue
        try:
            return raw.decode(encoding, errors="strict"), encoding
        except UnicodeDecodeError:
            continue
    raise FileRejected(
        "undecodable", f"bytes are not valid in any accepted encoding {list(accepted)}"
    )


def _physical_rows(text: str) -> int:
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    return max(lines - 1, 0)


def parse_csv(text: str, source: Source) -> tuple[pa.Table, list[str], list[tuple[int, str, str]]]:
    first_line = text.split("\n", 1)[0].rstrip("\r")
    header = next(csv.reader([first_line]))
    header = [h.strip() for h in header]
    if len(header) == 1 and any(d in first_line for d in (";", "\t", "|")):
        raise FileRejected(
            "wrong_delimiter",
            f"header {first_line[:80]!r} is one field: the file is not comma-delimited",
            _physical_rows(text),
        )
    missing = [c for c in source.required_columns if c not in header]
    if missing:
        raise FileRejected(
            "missing_column",
            f"required column(s) {missing} absent from header {header}",
            _physical_rows(text),
        )
    if len(set(header)) != len(header):
        raise FileRejected("unparseable", f"duplicate column names in header {header}")

    malformed: list[tuple[int, str, str]] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        malformed.append(
            (
                row.number,
                "wrong_column_count",
                f"{row.actual_columns} fields, expected {row.expected_columns}: {row.text}",
            )
        )
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(use_threads=False, column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid_row),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header}, strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid as exc:
        raise FileRejected("unparseable", f"CSV parser: {exc}", _physical_rows(text)) from exc
    return table, header, malformed


def parse_jsonl(text: str) -> pa.Table:
    """One string per physical line; DuckDB parses the JSON so bad lines can be quarantined."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return pa.table({"_json": pa.array(lines, pa.string())})


def with_line_numbers(
    table: pa.Table, malformed: list[tuple[int, str, str]], first_line: int
) -> pa.Table:
    """Physical line of each parsed row; skipped malformed lines keep their own numbers."""
    total = table.num_rows + len(malformed)
    lines = np.arange(first_line, total + first_line, dtype=np.int64)
    if malformed:
        lines = lines[~np.isin(lines, [m[0] for m in malformed])]
    return table.append_column(LINE_COLUMN, pa.array(lines))


def read_landing_file(path: Path, source: Source) -> ParsedFile:
    raw = path.read_bytes()
    if not raw.strip():
        raise FileRejected("empty_file", "file is empty")
    text, encoding = decode(raw, source.encodings)
    if source.format == "jsonl":
        return ParsedFile(with_line_numbers(parse_jsonl(text), [], first_line=1), encoding, [])
    table, header, malformed = parse_csv(text, source)
    extras = [h for h in header if h not in source.column_names]
    return ParsedFile(
        with_line_numbers(table, malformed, first_line=2), encoding, extras, malformed
    )
