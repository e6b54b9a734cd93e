"""Load one source's landing files for one export day into DuckDB, under contract.

Per file, in one transaction: clean rows go to `raw.<source>` with lineage columns, failing rows to
`audit.quarantine` with line and reason, and one row to `audit.load_log` with the counts. A file
already loaded with the same content is skipped; a file whose content changed replaces its old
rows; a byte-identical copy of another loaded file is rejected as `duplicate_file`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.ingest.contracts import SOURCES, Source
from orchestration.ingest.files import FileRejected, content_hash, read_landing_file
from orchestration.ingest.validation import checked_rows_sql, literal, quote, raw_table_ddl

AUDIT_DDL = (
    "CREATE SCHEMA IF NOT EXISTS raw",
    "CREATE SCHEMA IF NOT EXISTS audit",
    """CREATE TABLE IF NOT EXISTS audit.load_log (
        load_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        partition_day DATE NOT NULL,
        file_path VARCHAR NOT NULL,
        content_hash VARCHAR NOT NULL,
        encoding VARCHAR,
        status VARCHAR NOT NULL,          -- loaded | duplicate_file | rejected_file
        reason VARCHAR,                   -- file rule for rejected files
        message VARCHAR,
        rows_read BIGINT NOT NULL,
        rows_loaded BIGINT NOT NULL,
        rows_quarantined BIGINT NOT NULL,
        rows_rejected BIGINT NOT NULL,    -- rows of a rejected or duplicate file
        extra_columns VARCHAR[],
        is_current BOOLEAN NOT NULL,      -- false once the file was replaced by a newer version
        loaded_at TIMESTAMP NOT NULL,
        duration_s DOUBLE NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS audit.quarantine (
        source VARCHAR NOT NULL,
        partition_day DATE NOT NULL,
        file_path VARCHAR NOT NULL,
        line BIGINT,                      -- NULL when the whole file was rejected
        reason VARCHAR NOT NULL,
        record VARCHAR,
        load_id VARCHAR NOT NULL,
        quarantined_at TIMESTAMP NOT NULL
    )""",
)


class ReconciliationError(RuntimeError):
    """Rows read and rows accounted for disagree: something was lost or counted twice."""


@dataclass
class FileLoad:
    file_path: str
    status: str  # loaded | unchanged | duplicate_file | rejected_file
    encoding: str | None = None
    reason: str | None = None
    message: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_rejected: int = 0
    extra_columns: tuple[str, ...] = ()
    duration_s: float = 0.0


def ensure_tables(conn: duckdb.DuckDBPyConnection) -> None:
    for statement in AUDIT_DDL:
        conn.execute(statement)
    for source in SOURCES:
        conn.execute(raw_table_ddl(source))


def landing_files(landing: Path, source: Source, day: str) -> list[Path]:
    folder = landing / source.name / day
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _current_entry(conn, file_path: str) -> tuple[str, str] | None:
    row = conn.execute(
        "SELECT content_hash, status FROM audit.load_log WHERE file_path = ? AND is_current",
        [file_path],
    ).fetchone()
    return row


def _loaded_elsewhere(conn, digest: str, file_path: str) -> str | None:
    row = conn.execute(
        "SELECT file_path FROM audit.load_log WHERE content_hash = ? AND is_current "
        "AND status = 'loaded' AND file_path <> ? ORDER BY loaded_at LIMIT 1",
        [digest, file_path],
    ).fetchone()
    return row[0] if row else None


def _forget_file(conn, source: Source, file_path: str) -> None:
    conn.execute(f"DELETE FROM raw.{quote(source.name)} WHERE _source_file = ?", [file_path])
    conn.execute("DELETE FROM audit.quarantine WHERE file_path = ?", [file_path])
    conn.execute("UPDATE audit.load_log SET is_current = false WHERE file_path = ?", [file_path])


def _insert_rows(conn, source: Source, parsed, day: str, file_path: str, load_id: str) -> None:
    conn.register("incoming", parsed.table)
    present = [c for c in parsed.table.column_names if c in source.column_names]
    checked = checked_rows_sql(source, present, parsed.extra_columns, day)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE checked AS {checked}")
    conn.unregister("incoming")
    typed = ", ".join(f"__typed_{c}" for c in source.column_names)
    lineage = (
        f"{literal(file_path)}, _line, DATE {literal(day)}, {literal(load_id)}, now()::TIMESTAMP"
    )
    conn.execute(
        f"INSERT INTO raw.{quote(source.name)} "
        f"SELECT {typed}, _extra, {lineage} FROM checked WHERE _reason IS NULL ORDER BY _line"
    )
    conn.execute(
        "INSERT INTO audit.quarantine SELECT ?, ?, ?, _line, _reason, _record, ?, "
        "now()::TIMESTAMP FROM checked WHERE _reason IS NOT NULL ORDER BY _line",
        [source.name, day, file_path, load_id],
    )
    if parsed.malformed:
        conn.executemany(
            "INSERT INTO audit.quarantine VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
            [
                [source.name, day, file_path, ln, reason, text, load_id]
                for ln, reason, text in parsed.malformed
            ],
        )


def _log(conn, source: Source, day: str, load_id: str, digest: str, result: FileLoad) -> None:
    conn.execute(
        "INSERT INTO audit.load_log VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, true, now()::TIMESTAMP, ?)",
        [
            load_id,
            source.name,
            day,
            result.file_path,
            digest,
            result.encoding,
            result.status,
            result.reason,
            result.message,
            result.rows_read,
            result.rows_loaded,
            result.rows_quarantined,
            result.rows_rejected,
            list(result.extra_columns),
            result.duration_s,
        ],
    )


def load_file(conn, source: Source, path: Path, landing: Path, day: str, load_id: str) -> FileLoad:
    started = time.perf_counter()
    file_path = path.relative_to(landing).as_posix()
    digest = content_hash(path)
    current = _current_entry(conn, file_path)
    if current and current[0] == digest:
        return FileLoad(file_path, "unchanged")
    result = FileLoad(file_path, "loaded")
    conn.execute("BEGIN TRANSACTION")
    try:
        if current:
            _forget_file(conn, source, file_path)
        original = _loaded_elsewhere(conn, digest, file_path)
        try:
            parsed = read_landing_file(path, source)
        except FileRejected as rejected:
            result.status, result.reason, result.message = (
                "rejected_file",
                rejected.reason,
                str(rejected),
            )
            result.rows_read = result.rows_rejected = rejected.rows_read
            conn.execute(
                "INSERT INTO audit.quarantine VALUES (?, ?, ?, NULL, ?, ?, ?, now()::TIMESTAMP)",
                [source.name, day, file_path, rejected.reason, str(rejected), load_id],
            )
        else:
            result.encoding = parsed.encoding
            result.extra_columns = tuple(parsed.extra_columns)
            result.rows_read = parsed.rows_read
            if original:
                result.status, result.reason = "duplicate_file", "duplicate_file"
                result.message = f"byte-identical to {original}, already loaded"
                result.rows_rejected = parsed.rows_read
            else:
                _insert_rows(conn, source, parsed, day, file_path, load_id)
                loaded, quarantined = conn.execute(
                    "SELECT count(*) FILTER (WHERE _reason IS NULL), "
                    "count(*) FILTER (WHERE _reason IS NOT NULL) FROM checked"
                ).fetchone()
                result.rows_loaded = loaded
                result.rows_quarantined = quarantined + len(parsed.malformed)
        result.duration_s = round(time.perf_counter() - started, 4)
        _log(conn, source, day, load_id, digest, result)
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    return result


def load_partitions(
    conn: duckdb.DuckDBPyConnection, source: Source, landing: Path, days: list[str]
) -> list[FileLoad]:
    """Load every file of `source` for the export days; raise if any file fails to reconcile."""
    ensure_tables(conn)
    conn.execute("SET TimeZone = 'UTC'")
    load_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    results = [
        load_file(conn, source, path, landing, day, load_id)
        for day in days
        for path in landing_files(landing, source, day)
    ]
    if any(r.status != "unchanged" for r in results):
        mismatches = reconciliation_mismatches(conn, source.name, days)
        if mismatches:
            raise ReconciliationError(
                f"{source.name}: rows read != loaded + quarantined + rejected for {mismatches}"
            )
    return results


def load_partition(conn, source: Source, landing: Path, day: str) -> list[FileLoad]:
    return load_partitions(conn, source, landing, [day])


def reconciliation_mismatches(
    conn, source: str | None = None, days: list[str] | None = None
) -> list:
    """Current load-log rows whose counts disagree with the rows actually in the warehouse."""
    filters, params = ["l.is_current"], []
    if source:
        filters.append("l.source = ?")
        params.append(source)
    if days:
        filters.append("l.partition_day IN (SELECT CAST(unnest(?) AS DATE))")
        params.append(days)
    day_list = ", ".join(f"DATE {literal(d)}" for d in days or [])
    day_filter = f"WHERE _partition_day IN ({day_list})" if days else ""
    loaded_counts = " UNION ALL ".join(
        f"SELECT _source_file AS file_path, count(*) AS n FROM raw.{quote(s.name)} "
        f"{day_filter} GROUP BY ALL"
        for s in SOURCES
        if source in (None, s.name)
    )
    return conn.execute(
        f"""
        WITH loaded AS ({loaded_counts}),
        quarantined AS (
          SELECT file_path, count(*) FILTER (WHERE line IS NOT NULL) AS n
          FROM audit.quarantine GROUP BY ALL
        )
        SELECT l.file_path, l.rows_read, l.rows_loaded, l.rows_quarantined, l.rows_rejected,
               coalesce(ld.n, 0) AS in_raw, coalesce(q.n, 0) AS in_quarantine
        FROM audit.load_log l
        LEFT JOIN loaded ld USING (file_path)
        LEFT JOIN quarantined q USING (file_path)
        WHERE {" AND ".join(filters)}
          AND (l.rows_read <> l.rows_loaded + l.rows_quarantined + l.rows_rejected
               OR coalesce(ld.n, 0) <> l.rows_loaded
               OR coalesce(q.n, 0) <> l.rows_quarantined)
        """,
        params,
    ).fetchall()


def summarise(results: list[FileLoad]) -> dict:
    keys = ("rows_read", "rows_loaded", "rows_quarantined", "rows_rejected")
    totals = {k: sum(getattr(r, k) for r in results) for k in keys}
    totals["files"] = len(results)
    totals["files_by_status"] = {
        s: sum(r.status == s for r in results) for s in sorted({r.status for r in results})
    }
    totals["encodings"] = sorted({r.encoding for r in results if r.encoding})
    totals["extra_columns"] = sorted({c for r in results for c in r.extra_columns})
    return totals


def as_records(results: list[FileLoad]) -> list[dict]:
    return [asdict(r) for r in results]
