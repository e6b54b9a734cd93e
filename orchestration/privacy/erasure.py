"""Erasure on request (PIPL art. 47, GDPR art. 17): a person removed from every layer, raw included.

A request names a phone and/or a member id. Every identifier of the customer those resolve to
(from the last identity resolution) joins the erasure set, which is kept only as keyed hashes in
`privacy.erased_identities`: later exports carrying the same person are erased on arrival too.
Each run then deletes from the raw layer every row whose personal columns (marked in the data
contract) match the set, with the rows that hang off them (receipt and order lines, refunds),
clears references to the person on other people's rows, deletes matching quarantine records, and
logs the request without the deleted data. Everything downstream is rebuilt from raw afterwards.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field

import pandas as pd

from orchestration.identity.keyed_hash import keyed_hash
from orchestration.identity.normalise import canonical_phone
from orchestration.ingest.contracts import SOURCES, Source
from orchestration.ingest.loader import record_partition_changes
from orchestration.ingest.validation import quote
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
)


@dataclass
class ErasureReport:
    requests_processed: int = 0
    rows_erased: dict[str, int] = field(default_factory=dict)


def match_key(value: str | None, kind: str) -> str | None:
    """One comparable form per value: E.164 for phones, NFKC-trimmed lower case otherwise."""
    if value is None:
        return None
    if kind == "phone":
        return canonical_phone(value)[0]
    text = unicodedata.normalize("NFKC", value).strip().lower()
    return text or None


def _requested_keys(conn) -> tuple[pd.DataFrame, set[str]]:
    requests = conn.execute(
        "SELECT request_id, requested_at, phone, member_id FROM raw.deletion_requests"
    ).df()
    keys = {match_key(v, "phone") for v in requests.phone.dropna()}
    keys |= {match_key(v, "identifier") for v in requests.member_id.dropna()}
    keys.discard(None)
    if keys and table_exists(conn, "identity", "customer_identity_map"):
        # The whole person: every identifier of the customers the request resolves to.
        identity_map = conn.execute(
            "SELECT identity_type, identity_value, customer_id FROM identity.customer_identity_map "
            "WHERE customer_id IS NOT NULL"
        ).df()
        identity_map["key"] = [
            match_key(v, "phone" if t == "phone" else "identifier")
            for t, v in zip(identity_map.identity_type, identity_map.identity_value, strict=True)
        ]
        customers = set(identity_map.loc[identity_map.key.isin(keys), "customer_id"])
        keys |= set(identity_map.loc[identity_map.customer_id.isin(customers), "key"])
    return requests, keys


def _matching(values: pd.DataFrame, column, erased_hashes: set[str], key: bytes) -> list[str]:
    if values.empty:
        return []
    kind = "phone" if column.personal == "phone" else "identifier"
    values = values.assign(key=[match_key(v, kind) for v in values.v]).dropna(subset=["key"])
    values["hash"] = keyed_hash(values.key, key)
    return values.loc[values.hash.isin(erased_hashes), "v"].tolist()


def _raw_values(conn, source: Source, column) -> pd.DataFrame:
    return conn.execute(
        f"SELECT DISTINCT {quote(column.name)} AS v FROM raw.{quote(source.name)} "
        f"WHERE {quote(column.name)} IS NOT NULL"
    ).df()


def _quarantined_values(conn, source: Source, column) -> pd.DataFrame:
    path = "$." + column.name
    return conn.execute(
        "SELECT DISTINCT json_extract_string(record, ?) AS v FROM audit.quarantine "
        "WHERE source = ? AND json_valid(record) AND json_extract_string(record, ?) IS NOT NULL",
        [path, source.name, path],
    ).df()


def _erase_rows(conn, source: Source, predicate: str, counts: dict[str, int]) -> None:
    table = f"raw.{quote(source.name)}"
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE erased_parents AS SELECT * FROM {table} WHERE {predicate}"
    )
    for child, condition in CHILD_ROWS.get(source.name, ()):
        child_table = f"raw.{quote(child)}"
        exists = f"EXISTS (SELECT 1 FROM erased_parents p WHERE {condition.format(c=child_table)})"
        _delete_where(conn, child, exists, counts)
    _delete_where(conn, source.name, predicate, counts)


def _delete_where(conn, source_name: str, predicate: str, counts) -> None:
    table = f"raw.{quote(source_name)}"
    per_file = conn.execute(
        f"SELECT _source_file, _partition_day, count(*) FROM {table} WHERE {predicate} "
        "GROUP BY 1, 2"
    ).fetchall()
    if not per_file:
        return
    conn.execute(f"DELETE FROM {table} WHERE {predicate}")
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
    condition = (
        "source = ? AND EXISTS (SELECT 1 FROM erased_values e WHERE CASE WHEN json_valid(record) "
        "THEN json_extract_string(record, '$.' || e.c) = e.v ELSE contains(record, e.v) END)"
    )
    per_file = conn.execute(
        f"SELECT file_path, count(*) FROM audit.quarantine WHERE {condition} GROUP BY 1",
        [source.name],
    ).fetchall()
    conn.execute(f"DELETE FROM audit.quarantine WHERE {condition}", [source.name])
    conn.unregister("erased_values")
    for file_path, n in per_file:
        conn.execute(
            "UPDATE audit.load_log SET quarantine_erased = quarantine_erased + ? "
            "WHERE file_path = ? AND is_current",
            [n, file_path],
        )
    if per_file:
        counts["quarantine"] = counts.get("quarantine", 0) + sum(n for _, n in per_file)


def _erase_source(conn, source: Source, erased_hashes: set[str], key: bytes, counts) -> None:
    matched_rows, matched = [], {}
    for column in source.personal_columns:
        if column.personal == "name":
            continue
        in_raw = _matching(_raw_values(conn, source, column), column, erased_hashes, key)
        in_quarantine = _matching(
            _quarantined_values(conn, source, column), column, erased_hashes, key
        )
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


def erase_requested_people(conn, key: bytes) -> ErasureReport:
    """Apply every deletion request received so far; idempotent, cheap when there are none."""
    for statement in PRIVACY_DDL:
        conn.execute(statement)
    report = ErasureReport()
    requests, keys = _requested_keys(conn)
    if keys:
        hashes = keyed_hash(pd.Series(sorted(keys)), key)
        conn.register("new_hashes", pd.DataFrame({"h": hashes}))
        conn.execute(
            "INSERT INTO privacy.erased_identities SELECT DISTINCT h, now()::TIMESTAMP "
            "FROM new_hashes WHERE h NOT IN (SELECT identity_hash FROM privacy.erased_identities)"
        )
        conn.unregister("new_hashes")
    erased_hashes = {
        h for (h,) in conn.execute("SELECT identity_hash FROM privacy.erased_identities").fetchall()
    }
    if not erased_hashes:
        return report
    conn.execute("BEGIN TRANSACTION")
    try:
        for source in SOURCES:
            if source.personal_columns:
                _erase_source(conn, source, erased_hashes, key, report.rows_erased)
        logged = {
            r for (r,) in conn.execute("SELECT request_id FROM privacy.erasure_log").fetchall()
        }
        new_requests = requests[~requests.request_id.isin(logged)]
        for request in new_requests.itertuples(index=False):
            conn.execute(
                "INSERT INTO privacy.erasure_log VALUES (?, ?, now()::TIMESTAMP, ?, ?)",
                [
                    request.request_id,
                    request.requested_at,
                    len(keys),
                    json.dumps(report.rows_erased, sort_keys=True),
                ],
            )
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    report.requests_processed = len(new_requests)
    return report


def withhold_erased_customers(conn, identity_map: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """Drop from a fresh identity map every customer that holds an erased identifier, and add all
    of that customer's identifiers to the erasure set, so the next run erases the rest of the
    person from raw too (identifiers first seen with tonight's data are known only now)."""
    if not table_exists(conn, "privacy", "erased_identities"):
        return identity_map
    erased_hashes = {
        h for (h,) in conn.execute("SELECT identity_hash FROM privacy.erased_identities").fetchall()
    }
    if not erased_hashes:
        return identity_map
    kinds = identity_map.identity_type.map(lambda t: "phone" if t == "phone" else "identifier")
    keys = pd.Series(
        [match_key(v, k) for v, k in zip(identity_map.identity_value, kinds, strict=True)],
        index=identity_map.index,
    )
    hashes = keyed_hash(keys.fillna(""), key)
    customers = set(identity_map.loc[hashes.isin(erased_hashes), "customer_id"].dropna())
    held = identity_map.customer_id.isin(customers)
    new = sorted(set(hashes[held]) - erased_hashes)
    if new:
        conn.register("new_hashes", pd.DataFrame({"h": new}))
        conn.execute(
            "INSERT INTO privacy.erased_identities SELECT h, now()::TIMESTAMP FROM new_hashes"
        )
        conn.unregister("new_hashes")
    return identity_map[~held]
