"""Load one source's landing files for one export day into DuckDB, under contract.

Per file, in one transaction: clean rows go to `raw.<source>` with lineage columns, failing rows to
`audit.quarantine` with line and reason, and one row to `audit.load_log` with the counts. A file
already loaded with the same content is skipped; a file whose content changed replaces its old
rows; a byte-identical copy of another loaded file is rejected as `duplicate_file`. Every export
day whose rows changed is appended to `audit.partition_changes`, which incremental models read.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.ingest.contracts import SOURCES, Source
from orchestration.ingest.files import FileRejected, ParsedFile, content_hash, read_landing_file
from orchestration.ingest.validation import checked_rows_sql, literal, quote, raw_table_ddl

# Builds that passed the audit and were published, written by the publish step: data tests
# of incremental models check only the rows built since; older rows passed when published.
PUBLICATIONS_DDL = """CREATE TABLE IF NOT EXISTS audit.publications (
    version VARCHAR NOT NULL,         -- file name of the published version
    published_at TIMESTAMP NOT NULL   -- UTC, the clock of audit.partition_changes
)"""

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
        rows_erased BIGINT NOT NULL,      -- loaded rows later erased on a deletion request
        quarantine_erased BIGINT NOT NULL,  -- quarantined rows later erased likewise
        extra_columns VARCHAR[],
        is_current BOOLEAN NOT NULL,      -- false once the file was replaced by a newer version
        loaded_at TIMESTAMP NOT NULL,
        duration_s DOUBLE NOT NULL
    )""",
    # Export days whose raw rows changed (loaded, replaced or erased), and when: incremental dbt
    # models reprocess the records of the days changed since they were last built.
    """CREATE TABLE IF NOT EXISTS audit.partition_changes (
        source VARCHAR NOT NULL,
        partition_day DATE NOT NULL,
        change VARCHAR NOT NULL,          -- loaded | replaced | erased
        changed_at TIMESTAMP NOT NULL
    )""",
    PUBLICATIONS_DDL,
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


@dataclass
class _ReadFile:
    """A landing file read and judged at file level, waiting to be written in the batch."""

    result: FileLoad
    day: str
    digest: str
    parsed: ParsedFile | None = None  # set only for files whose rows are to be validated


def _load_log_state(conn, source: Source) -> tuple[dict[str, str], dict[str, str]]:
    """Current content hash per loaded file path, and the path that loaded each content hash."""
    rows = conn.execute(
        "SELECT file_path, content_hash, status FROM audit.load_log "
        "WHERE is_current AND source = ? ORDER BY loaded_at",
        [source.name],
    ).fetchall()
    current = {path: digest for path, digest, _ in rows}
    loaded_by = {}
    for path, digest, status in rows:
        if status == "loaded":
            loaded_by.setdefault(digest, path)
    return current, loaded_by


def _read(source: Source, path: Path, file_path: str, digest: str, original: str | None):
    started = time.perf_counter()
    result = FileLoad(file_path, "loaded")
    parsed = None
    try:
        parsed = read_landing_file(path, source)
    except FileRejected as rejected:
        result.status, result.reason, result.message = (
            "rejected_file",
            rejected.reason,
            str(rejected),
        )
        result.rows_read = result.rows_rejected = rejected.rows_read
    else:
        result.encoding = parsed.encoding
        result.extra_columns = tuple(parsed.extra_columns)
        result.rows_read = parsed.rows_read
        if original:
            result.status, result.reason = "duplicate_file", "duplicate_file"
            result.message = f"byte-identical to {original}, already loaded"
            result.rows_rejected = parsed.rows_read
            parsed = None
    result.duration_s = round(time.perf_counter() - started, 4)
    return result, parsed


def _validate_and_insert(conn, source: Source, batch: list[_ReadFile], load_id: str) -> None:
    """Apply the row rules to every file of the batch in one query per header layout."""
    groups: dict[tuple, list[_ReadFile]] = {}
    for item in batch:
        key = (tuple(item.parsed.table.column_names), tuple(item.parsed.extra_columns))
        groups.setdefault(key, []).append(item)
    by_path = {item.result.file_path: item for item in batch}
    typed = ", ".join(f"__typed_{c}" for c in source.column_names)
    for (columns, extras), items in groups.items():
        table = pa.concat_tables(
            item.parsed.table.append_column(
                "_file_path", pa.array([item.result.file_path] * item.parsed.table.num_rows)
            ).append_column("_partition_day", pa.array([item.day] * item.parsed.table.num_rows))
            for item in items
        )
        present = [c for c in columns if c in source.column_names]
        conn.register("incoming", table)
        # Held in Arrow, not a temp table: inside the load's transaction every replaced temp
        # table would be kept until commit, and memory would grow with the backfill.
        checked = conn.sql(checked_rows_sql(source, present, list(extras))).to_arrow_table()
        conn.unregister("incoming")
        del table
        conn.register("checked", checked)
        conn.execute(
            f"INSERT INTO raw.{quote(source.name)} SELECT {typed}, _extra, _file_path, _line, "
            f"_partition_day, {literal(load_id)}, now()::TIMESTAMP FROM checked "
            "WHERE _reason IS NULL ORDER BY _file_path, _line"
        )
        conn.execute(
            "INSERT INTO audit.quarantine SELECT ?, _partition_day, _file_path, _line, _reason, "
            "_record, ?, now()::TIMESTAMP FROM checked WHERE _reason IS NOT NULL "
            "ORDER BY _file_path, _line",
            [source.name, load_id],
        )
        counts = conn.execute(
            "SELECT _file_path, count(*) FILTER (WHERE _reason IS NULL), "
            "count(*) FILTER (WHERE _reason IS NOT NULL) FROM checked GROUP BY _file_path"
        ).fetchall()
        conn.unregister("checked")
        del checked
        for file_path, loaded, quarantined in counts:
            by_path[file_path].result.rows_loaded = loaded
            by_path[file_path].result.rows_quarantined = quarantined
    malformed = [
        [source.name, item.day, item.result.file_path, line, reason, text, load_id]
        for item in batch
        for line, reason, text in item.parsed.malformed
    ]
    if malformed:
        conn.executemany(
            "INSERT INTO audit.quarantine VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)", malformed
        )
    for item in batch:
        item.result.rows_quarantined += len(item.parsed.malformed)


def record_partition_changes(conn, source_name: str, days, change: str) -> None:
    """Note that the raw rows of these export days changed (read by incremental models)."""
    rows = [[source_name, str(day), change] for day in sorted({str(d) for d in days})]
    if rows:
        conn.executemany(
            "INSERT INTO audit.partition_changes VALUES (?, ?, ?, timezone('UTC', now()))", rows
        )


def _forget_file(conn, source: Source, file_path: str) -> None:
    days = conn.execute(
        "SELECT DISTINCT partition_day FROM audit.load_log WHERE file_path = ? AND is_current",
        [file_path],
    ).fetchall()
    record_partition_changes(conn, source.name, [d for (d,) in days], "replaced")
    conn.execute(f"DELETE FROM raw.{quote(source.name)} WHERE _source_file = ?", [file_path])
    conn.execute("DELETE FROM audit.quarantine WHERE file_path = ?", [file_path])
    conn.execute("UPDATE audit.load_log SET is_current = false WHERE file_path = ?", [file_path])


# Rows validated and written per query: bounds memory when a backfill reads months of files.
CHUNK_ROWS = 500_000


def _finish_batch(conn, source: Source, items: list[_ReadFile], load_id: str) -> None:
    """Quarantine rejected files, log every file and note the changed export days."""
    for item in items:
        r = item.result
        if r.status == "rejected_file":
            conn.execute(
                "INSERT INTO audit.quarantine VALUES (?, ?, ?, NULL, ?, ?, ?, now()::TIMESTAMP)",
                [source.name, item.day, r.file_path, r.reason, r.message, load_id],
            )
    log_rows = [
        [
            load_id,
            source.name,
            item.day,
            item.result.file_path,
            item.digest,
            item.result.encoding,
            item.result.status,
            item.result.reason,
            item.result.message,
            item.result.rows_read,
            item.result.rows_loaded,
            item.result.rows_quarantined,
            item.result.rows_rejected,
            list(item.result.extra_columns),
            item.result.duration_s,
        ]
        for item in items
    ]
    conn.executemany(
        "INSERT INTO audit.load_log VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, true, now()::TIMESTAMP, ?)",
        log_rows,
    )
    loaded_days = [item.day for item in items if item.result.rows_loaded]
    record_partition_changes(conn, source.name, loaded_days, "loaded")


def _flush(conn, source: Source, pending: list[_ReadFile], load_id: str) -> None:
    if pending:
        _validate_and_insert(conn, source, pending, load_id)
        for item in pending:
            item.parsed = None  # rows are in the warehouse now; free the memory
        pending.clear()


def _load_files(conn, source: Source, landing: Path, days: list[str], load_id: str):
    """Read, validate and write the files in chunks, inside the caller's transaction."""
    current, loaded_by = _load_log_state(conn, source)
    results, items, pending = [], [], []
    for day in days:
        for path in landing_files(landing, source, day):
            file_path = path.relative_to(landing).as_posix()
            digest = content_hash(path)
            if current.get(file_path) == digest:
                results.append(FileLoad(file_path, "unchanged"))
                continue
            if file_path in current:  # a changed file replaces its old rows
                _forget_file(conn, source, file_path)
                loaded_by = {h: p for h, p in loaded_by.items() if p != file_path}
            original = loaded_by.get(digest)
            result, parsed = _read(source, path, file_path, digest, original)
            if result.status == "loaded":
                loaded_by.setdefault(digest, file_path)
            item = _ReadFile(result, day, digest, parsed)
            items.append(item)
            results.append(result)
            if parsed is not None:
                pending.append(item)
                if sum(p.parsed.table.num_rows for p in pending) >= CHUNK_ROWS:
                    _flush(conn, source, pending, load_id)
    _flush(conn, source, pending, load_id)
    if items:
        _finish_batch(conn, source, items, load_id)
    return results, bool(items)


def load_partitions(
    conn: duckdb.DuckDBPyConnection, source: Source, landing: Path, days: list[str]
) -> list[FileLoad]:
    """Load every file of `source` for the export days in one transaction; files already loaded
    with the same content are skipped. Raises if any file fails to reconcile."""
    ensure_tables(conn)
    conn.execute("SET TimeZone = 'UTC'")
    load_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    conn.execute("BEGIN TRANSACTION")
    try:
        results, wrote = _load_files(conn, source, landing, days, load_id)
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    if wrote:
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
               OR coalesce(ld.n, 0) <> l.rows_loaded - l.rows_erased
               OR coalesce(q.n, 0) <> l.rows_quarantined - l.quarantine_erased)
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
