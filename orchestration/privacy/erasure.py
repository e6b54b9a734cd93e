"""Erasure on request (PIPL art. 47, GDPR art. 17): a person removed from every layer, raw included.

A request names a phone and/or a member id. Every identifier of the customer those resolve to
(from the last identity resolution) joins the erasure set, which is kept only as keyed hashes in
`privacy.erased_identities`: later exports carrying the same person are erased on arrival too.
Each run then deletes from the raw layer every row whose personal columns (marked in the data
contract) match the set, with the rows that hang off them (receipt and order lines, refunds),
clears references to the person on other people's rows, deletes matching quarantine records, and
logs the request without the deleted data. Everything downstream is rebuilt from raw afterwards.

Hashing every raw value each night would cost in proportion to all of raw, so the keyed hash of
each distinct personal value held by raw, quarantine or the identity map is kept in
`privacy.value_hashes`, and only the values of files loaded since the last run
(`privacy.erasure_runs`) are hashed. Values whose hash is erased leave it with the rows that held
them, so the values it holds whose hash is in the erasure set are exactly those still to erase:
old values of newly erased people, and new arrivals of anyone erased before. A value no row
holds any more (its rows erased or replaced) leaves it too: kept only there, it would outlive
its person's erasure.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field

import pandas as pd

from orchestration.identity.keyed_hash import keyed_hash
from orchestration.identity.normalise import canonical_phone
from orchestration.ingest.contracts import SOURCES, SOURCES_BY_NAME, Source
from orchestration.ingest.loader import record_partition_changes
from orchestration.ingest.validation import literal, quote
from orchestration.warehouse_tables import table_exists

# Rows that belong to an erased row: (child source, condition between child {c} and parent p).
CHILD_ROWS = {
    "pos_receipts": (
        ("pos_receipt_lines", "{c}.receipt_id = p.receipt_id"),
        ("refunds", "{c}.channel = 'pos' AND {c}.order_id = p.receipt_id"),
    ),
    "ecom_orders": (
        ("ecom_order_lines", "{c}.platform = p.platform AND {c}.order_id = p.order_id"),
        ("refunds", "{c}.channel = p.platform AND {c}.order_id = p.order_id"),
    ),
}

PRIVACY_DDL = (
    "CREATE SCHEMA IF NOT EXISTS privacy",
    "CREATE TABLE IF NOT EXISTS privacy.erased_identities "
    "(identity_hash VARCHAR PRIMARY KEY, first_erased_at TIMESTAMP)",
    "CREATE TABLE IF NOT EXISTS privacy.erasure_log (request_id VARCHAR, requested_at TIMESTAMP, "
    "processed_at TIMESTAMP, identifiers_erased BIGINT, rows_erased VARCHAR)",
    # origin: "raw" (raw rows and quarantine records) or "map" (the identity map) hold the value;
    # kind: how it is matched ("phone" or "identifier"); identity_hash NULL: it has no match key
    "CREATE TABLE IF NOT EXISTS privacy.value_hashes "
    "(origin VARCHAR, kind VARCHAR, value VARCHAR, identity_hash VARCHAR)",
    # loaded_through: the newest audit.load_log entry the run had hashed the values of
    "CREATE TABLE IF NOT EXISTS privacy.erasure_runs (run BIGINT, ran_at TIMESTAMP, "
    "loaded_through TIMESTAMP, key_check VARCHAR, full_scan BOOLEAN, values_hashed BIGINT)",
)
# Hashed with the run's key: value_hashes made with another key must be thrown away.
KEY_CHECK = "privacy.value_hashes"
KINDS = ("phone", "identifier")
MAP_KIND = "CASE WHEN m.identity_type = 'phone' THEN 'phone' ELSE 'identifier' END"


@dataclass
class ErasureReport:
    requests_processed: int = 0
    rows_erased: dict[str, int] = field(default_factory=dict)
    values_hashed: int = 0
    full_scan: bool = False


def match_key(value: str | None, kind: str) -> str | None:
    """One comparable form per value: E.164 for phones, NFKC-trimmed lower case otherwise."""
    if value is None:
        return None
    if kind == "phone":
        return canonical_phone(value)[0]
    text = unicodedata.normalize("NFKC", value).strip().lower()
    return text or None


def _ensure_tables(conn) -> None:
    for statement in PRIVACY_DDL:
        conn.execute(statement)


def _kind(personal: str) -> str:
    return "phone" if personal == "phone" else "identifier"


def _matched_columns(source: Source):
    """Personal columns matched against the erasure set (a name alone identifies no one)."""
    return [c for c in source.personal_columns if c.personal != "name"]


def _key_check(key: bytes) -> str:
    return keyed_hash(pd.Series([KEY_CHECK]), key).iloc[0]


def _scope(conn, key: bytes, full_refresh: bool) -> tuple[dict[str, list[str]] | None, bool]:
    """Export days per source with files loaded since the last run (the load log covers files
    whose rows were all quarantined too), and whether one of them replaced an earlier version.
    Days None: all of raw, on the first run, a full refresh, or hashes made with another key."""
    last = conn.execute(
        "SELECT loaded_through, key_check FROM privacy.erasure_runs ORDER BY run DESC LIMIT 1"
    ).fetchone()
    if full_refresh or last is None or last[1] != _key_check(key):
        conn.execute("DELETE FROM privacy.value_hashes")
        return None, False
    days: dict[str, list[str]] = {}
    replaced = False
    for source, day, replacing in conn.execute(
        "SELECT source, partition_day, bool_or(EXISTS (SELECT 1 FROM audit.load_log AS o "
        "WHERE o.file_path = l.file_path AND NOT o.is_current)) FROM audit.load_log AS l "
        "WHERE loaded_at > coalesce(?, '-infinity'::TIMESTAMP) GROUP BY ALL",
        [last[0]],
    ).fetchall():
        days.setdefault(source, []).append(str(day))
        replaced = replaced or replacing
    return days, replaced


def _day_filter(days: dict[str, list[str]] | None, source: str, column: str) -> str:
    if days is None:
        return "true"
    return f"{column} IN ({', '.join(f'DATE {literal(d)}' for d in days[source])})"


def _json_value(column: str) -> str:
    return f"json_extract_string(record, {literal('$.' + column)})"


def _seen_values_sql(days: dict[str, list[str]] | None, kind: str, among: str = "") -> str:
    """Every value of this kind in the raw rows and parseable quarantine records of the days,
    optionally only those `IN (...)` a set."""
    parts = []
    for source in SOURCES:
        if days is not None and source.name not in days:
            continue
        for column in _matched_columns(source):
            if _kind(column.personal) != kind:
                continue
            parts.append(
                f"SELECT {quote(column.name)} AS value FROM raw.{quote(source.name)} "
                f"WHERE {_day_filter(days, source.name, '_partition_day')} "
                f"AND {quote(column.name)} {among or 'IS NOT NULL'}"
            )
            parts.append(
                f"SELECT {_json_value(column.name)} FROM audit.quarantine "
                f"WHERE source = {literal(source.name)} AND json_valid(record) "
                f"AND {_day_filter(days, source.name, 'partition_day')} "
                f"AND {_json_value(column.name)} {among or 'IS NOT NULL'}"
            )
    return " UNION ALL ".join(parts)


def _store_hashes(conn, origin: str, kind: str, values: pd.Series, key: bytes) -> int:
    """Hash values not hashed before into privacy.value_hashes (NULL when there is no key)."""
    if values.empty:
        return 0
    keys = values.map(lambda v: match_key(v, kind)).dropna()
    hashes = keyed_hash(keys, key).reindex(values.index).astype(object)
    stored = pd.DataFrame(
        {
            "origin": origin,
            "kind": kind,
            "value": values,
            "identity_hash": hashes.where(hashes.notna(), None),
        }
    )
    conn.register("new_value_hashes", stored)
    conn.execute("INSERT INTO privacy.value_hashes SELECT * FROM new_value_hashes")
    conn.unregister("new_value_hashes")
    return len(stored)


def _hash_new_raw_values(conn, days: dict[str, list[str]] | None, key: bytes) -> int:
    hashed = 0
    for kind in KINDS:
        union = _seen_values_sql(days, kind)
        if not union:  # only sources without personal values were loaded
            continue
        values = conn.execute(
            f"SELECT DISTINCT value FROM ({union}) AS seen WHERE NOT EXISTS (SELECT 1 FROM "
            "privacy.value_hashes AS h WHERE h.origin = 'raw' AND h.kind = ? "
            "AND h.value = seen.value)",
            [kind],
        ).df()
        hashed += _store_hashes(conn, "raw", kind, values.value, key)
    return hashed


def _forget_values_no_longer_seen(conn, only_gone: bool) -> None:
    """Drop raw values no row or record holds any more: all, or only those of the rows and
    records this run erased (gone_values)."""
    for kind in KINDS:
        among = f"IN (SELECT value FROM gone_values WHERE kind = {literal(kind)})"
        seen = _seen_values_sql(None, kind, among if only_gone else "")
        conn.execute(
            "DELETE FROM privacy.value_hashes AS h WHERE origin = 'raw' AND kind = ? "
            f"{'AND value ' + among if only_gone else ''} "
            f"AND NOT EXISTS (SELECT 1 FROM ({seen}) AS seen WHERE seen.value = h.value)",
            [kind],
        )


def _sync_map_values(conn, key: bytes, identity_map: str) -> int:
    """Make the "map" values those of this identity map, hashing the ones new to it."""
    conn.execute(
        "DELETE FROM privacy.value_hashes AS h WHERE origin = 'map' AND NOT EXISTS (SELECT 1 "
        f"FROM {identity_map} AS m WHERE {MAP_KIND} = h.kind AND m.identity_value = h.value)"
    )
    hashed = 0
    for kind in KINDS:
        values = conn.execute(
            f"SELECT DISTINCT identity_value AS value FROM {identity_map} AS m "
            f"WHERE {MAP_KIND} = ? AND identity_value IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
            "privacy.value_hashes AS h WHERE h.origin = 'map' AND h.kind = ? "
            "AND h.value = m.identity_value)",
            [kind, kind],
        ).df()
        hashed += _store_hashes(conn, "map", kind, values.value, key)
    return hashed


def _map_hashes_sql(identity_map: str) -> str:
    """customer_id and identity_hash of every identifier of an identity map."""
    return (
        f"SELECT m.customer_id, h.identity_hash FROM {identity_map} AS m "
        "JOIN privacy.value_hashes AS h ON h.origin = 'map' "
        f"AND h.kind = {MAP_KIND} AND h.value = m.identity_value "
        "WHERE m.customer_id IS NOT NULL AND h.identity_hash IS NOT NULL"
    )


def _new_requests(conn) -> pd.DataFrame:
    """Requests not logged yet: a logged request's person is in the erasure set already, and the
    identity step withholds anyone holding one of their identifiers since."""
    return conn.execute(
        "SELECT request_id, requested_at, phone, member_id FROM raw.deletion_requests "
        "WHERE request_id NOT IN (SELECT request_id FROM privacy.erasure_log)"
    ).df()


def _requested_hashes(conn, requests: pd.DataFrame, key: bytes) -> tuple[set[str], int]:
    """Hashes of the requests' identifiers and, through the last identity resolution, of every
    identifier of the customers they resolve to; and how many values that hashed."""
    keys = {match_key(v, "phone") for v in requests.phone.dropna()}
    keys |= {match_key(v, "identifier") for v in requests.member_id.dropna()}
    keys.discard(None)
    hashes = set(keyed_hash(pd.Series(sorted(keys), dtype=object), key))
    if not hashes or not table_exists(conn, "identity", "customer_identity_map"):
        return hashes, 0
    hashed = _sync_map_values(conn, key, "identity.customer_identity_map")
    conn.register("requested", pd.DataFrame({"h": sorted(hashes)}))
    person = conn.execute(
        f"WITH mapped AS ({_map_hashes_sql('identity.customer_identity_map')}) "
        "SELECT DISTINCT identity_hash FROM mapped WHERE customer_id IN "
        "(SELECT customer_id FROM mapped WHERE identity_hash IN (SELECT h FROM requested))"
    ).fetchall()
    conn.unregister("requested")
    return hashes | {h for (h,) in person}, hashed


def _add_to_erasure_set(conn, hashes: set[str]) -> None:
    if not hashes:
        return
    conn.register("new_hashes", pd.DataFrame({"h": sorted(hashes)}))
    conn.execute(
        "INSERT INTO privacy.erased_identities SELECT h, now()::TIMESTAMP FROM new_hashes "
        "WHERE h NOT IN (SELECT identity_hash FROM privacy.erased_identities)"
    )
    conn.unregister("new_hashes")


def _matched_raw_values(conn, source: Source, column) -> list[str]:
    return [
        v
        for (v,) in conn.execute(
            f"SELECT DISTINCT {quote(column.name)} FROM raw.{quote(source.name)} "
            f"WHERE {quote(column.name)} IN (SELECT value FROM to_erase WHERE kind = ?)",
            [_kind(column.personal)],
        ).fetchall()
    ]


def _matched_quarantined_values(conn, source: Source, column) -> list[str]:
    path = "$." + column.name
    return [
        v
        for (v,) in conn.execute(
            "SELECT DISTINCT json_extract_string(record, ?) AS v FROM audit.quarantine "
            "WHERE source = ? AND json_valid(record) AND json_extract_string(record, ?) IN "
            "(SELECT value FROM to_erase WHERE kind = ?)",
            [path, source.name, path, _kind(column.personal)],
        ).fetchall()
    ]


def _erase_rows(conn, source: Source, predicate: str, counts: dict[str, int]) -> None:
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE erased_parents AS SELECT rowid AS hit, * "
        f"FROM raw.{quote(source.name)} WHERE {predicate}"
    )
    for child, condition in CHILD_ROWS.get(source.name, ()):
        child_table = f"raw.{quote(child)}"
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE erased_children AS SELECT rowid AS hit, * "
            f"FROM {child_table} WHERE EXISTS (SELECT 1 FROM erased_parents p "
            f"WHERE {condition.format(c=child_table)})"
        )
        _delete_hits(conn, child, "erased_children", counts)
    _delete_hits(conn, source.name, "erased_parents", counts)


def _note_gone_values(conn, source_name: str, value, rows: str) -> None:
    """Keep the personal values of rows about to be erased (`value` of a column name, read from
    the relation `rows`) in gone_values: those no other row holds must leave value_hashes too."""
    for column in _matched_columns(SOURCES_BY_NAME[source_name]):
        conn.execute(
            f"INSERT INTO gone_values SELECT DISTINCT ?, {value(column.name)} FROM {rows} "
            f"WHERE {value(column.name)} IS NOT NULL",
            [_kind(column.personal)],
        )


def _delete_hits(conn, source_name: str, hits: str, counts) -> None:
    """Delete the raw rows selected into `hits` (their rowid as `hit`): selected once, as the
    counts, the values noted and the delete all need them."""
    table = f"raw.{quote(source_name)}"
    per_file = conn.execute(
        f"SELECT _source_file, _partition_day, count(*) FROM {hits} GROUP BY 1, 2"
    ).fetchall()
    if not per_file:
        return
    _note_gone_values(conn, source_name, quote, hits)
    conn.execute(f"DELETE FROM {table} WHERE rowid IN (SELECT hit FROM {hits})")
    record_partition_changes(conn, source_name, [day for _, day, _ in per_file], "erased")
    for file_path, _, n in per_file:
        conn.execute(
            "UPDATE audit.load_log SET rows_erased = rows_erased + ? "
            "WHERE file_path = ? AND is_current",
            [n, file_path],
        )
    counts[source_name] = counts.get(source_name, 0) + sum(n for _, _, n in per_file)


def _erase_quarantine(conn, source: Source, matched: dict[str, list[str]], counts) -> None:
    """Quarantined records hold raw values too: match them by column, or by text where the
    record could not be parsed (a malformed line)."""
    if not any(matched.values()):
        return
    conn.register(
        "erased_values",
        pd.DataFrame([(c, v) for c, values in matched.items() for v in values], columns=["c", "v"]),
    )
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE erased_records AS SELECT rowid AS hit, file_path, record "
        "FROM audit.quarantine WHERE source = ? AND EXISTS (SELECT 1 FROM erased_values e "
        "WHERE CASE WHEN json_valid(record) THEN json_extract_string(record, '$.' || e.c) = e.v "
        "ELSE contains(record, e.v) END)",
        [source.name],
    )
    conn.unregister("erased_values")
    parsed = "(SELECT record FROM erased_records WHERE json_valid(record))"
    _note_gone_values(conn, source.name, _json_value, parsed)
    conn.execute("DELETE FROM audit.quarantine WHERE rowid IN (SELECT hit FROM erased_records)")
    per_file = conn.execute("SELECT file_path, count(*) FROM erased_records GROUP BY 1").fetchall()
    for file_path, n in per_file:
        conn.execute(
            "UPDATE audit.load_log SET quarantine_erased = quarantine_erased + ? "
            "WHERE file_path = ? AND is_current",
            [n, file_path],
        )
    if per_file:
        counts["quarantine"] = counts.get("quarantine", 0) + sum(n for _, n in per_file)


def _erase_source(conn, source: Source, counts) -> None:
    matched_rows, matched = [], {}
    for column in _matched_columns(source):
        in_raw = _matched_raw_values(conn, source, column)
        in_quarantine = _matched_quarantined_values(conn, source, column)
        matched[column.name] = sorted(set(in_raw) | set(in_quarantine))
        if not in_raw:
            continue
        table = f"erased_{column.name}"
        conn.register("matched", pd.DataFrame({"v": in_raw}))
        conn.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT v FROM matched")
        conn.unregister("matched")
        in_matched = f"{quote(column.name)} IN (SELECT v FROM {table})"
        if column.personal == "reference":
            days = conn.execute(
                f"SELECT DISTINCT _partition_day FROM raw.{quote(source.name)} WHERE {in_matched}"
            ).fetchall()
            record_partition_changes(conn, source.name, [d for (d,) in days], "erased")
            conn.execute(
                f"UPDATE raw.{quote(source.name)} SET {quote(column.name)} = NULL "
                f"WHERE {in_matched}"
            )
        else:
            matched_rows.append(in_matched)
    if matched_rows:
        _erase_rows(conn, source, " OR ".join(matched_rows), counts)
    _erase_quarantine(conn, source, matched, counts)


def _erase_matched_values(conn, counts: dict[str, int]) -> None:
    """Erase every stored value whose hash is in the erasure set, wherever it is in raw and
    quarantine, then forget the values themselves."""
    erased = "identity_hash IN (SELECT identity_hash FROM privacy.erased_identities)"
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE to_erase AS SELECT DISTINCT kind, value "
        f"FROM privacy.value_hashes WHERE {erased}"
    )
    if conn.execute("SELECT count(*) FROM to_erase").fetchone()[0]:
        conn.execute("CREATE OR REPLACE TEMP TABLE gone_values (kind VARCHAR, value VARCHAR)")
        for source in SOURCES:
            if _matched_columns(source):
                _erase_source(conn, source, counts)
        conn.execute(f"DELETE FROM privacy.value_hashes WHERE {erased}")
        _forget_values_no_longer_seen(conn, only_gone=True)
        conn.execute("DROP TABLE gone_values")
    conn.execute("DROP TABLE to_erase")


def _log_run(conn, requests: pd.DataFrame, hashes: set[str], report: ErasureReport, key) -> None:
    for request in requests.itertuples(index=False):
        conn.execute(
            "INSERT INTO privacy.erasure_log VALUES (?, ?, now()::TIMESTAMP, ?, ?)",
            [
                request.request_id,
                request.requested_at,
                len(hashes),
                json.dumps(report.rows_erased, sort_keys=True),
            ],
        )
    conn.execute(
        "INSERT INTO privacy.erasure_runs SELECT coalesce(max(run), 0) + 1, now()::TIMESTAMP, "
        "(SELECT max(loaded_at) FROM audit.load_log), ?, ?, ? FROM privacy.erasure_runs",
        [_key_check(key), report.full_scan, report.values_hashed],
    )


def erase_requested_people(conn, key: bytes, full_refresh: bool = False) -> ErasureReport:
    """Apply every deletion request received so far; idempotent. Hashes only the values of files
    loaded since the last run (all of raw on the first run or a full refresh), and reads the rest
    of raw only for the values still to erase."""
    _ensure_tables(conn)
    report = ErasureReport()
    conn.execute("BEGIN TRANSACTION")
    try:
        days, replaced = _scope(conn, key, full_refresh)
        report.full_scan = days is None
        requests = _new_requests(conn)
        hashes, report.values_hashed = _requested_hashes(conn, requests, key)
        _add_to_erasure_set(conn, hashes)
        if not conn.execute("SELECT count(*) FROM privacy.erased_identities").fetchone()[0]:
            conn.execute("ROLLBACK")  # nothing to erase yet: the next run starts from scratch
            return report
        report.values_hashed += _hash_new_raw_values(conn, days, key)
        if replaced:
            _forget_values_no_longer_seen(conn, only_gone=False)
        _erase_matched_values(conn, report.rows_erased)
        _log_run(conn, requests, hashes, report, key)
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    report.requests_processed = len(requests)
    return report


def withhold_erased_customers(conn, identity_map: str, key: bytes) -> int:
    """Delete from a fresh identity map (a table) every customer that holds an erased identifier,
    and add all of that customer's identifiers to the erasure set, so the next run erases the
    rest of the person from raw too (identifiers first seen with tonight's data are known only
    now). Returns how many customers were withheld."""
    if not table_exists(conn, "privacy", "erased_identities"):
        return 0
    if not conn.execute("SELECT count(*) FROM privacy.erased_identities").fetchall()[0][0]:
        return 0
    _ensure_tables(conn)
    _sync_map_values(conn, key, identity_map)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE fresh_hashes AS {_map_hashes_sql(identity_map)}")
    erased = "identity_hash IN (SELECT identity_hash FROM privacy.erased_identities)"
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE withheld_customers AS "
        f"SELECT DISTINCT customer_id FROM fresh_hashes WHERE {erased}"
    )
    conn.execute(
        "INSERT INTO privacy.erased_identities SELECT DISTINCT identity_hash, now()::TIMESTAMP "
        "FROM fresh_hashes WHERE customer_id IN (SELECT customer_id FROM withheld_customers) "
        f"AND NOT {erased}"
    )
    conn.execute(
        f"DELETE FROM {identity_map} "
        "WHERE customer_id IN (SELECT customer_id FROM withheld_customers)"
    )
    [(withheld,)] = conn.execute("SELECT count(*) FROM withheld_customers").fetchall()
    conn.execute("DROP TABLE fresh_hashes")
    conn.execute("DROP TABLE withheld_customers")
    return int(withheld)
