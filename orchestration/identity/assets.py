"""Identity resolution as Dagster assets: canonical forms, then the guarded graph and stable ids.

Both read compact inputs from dbt models (distinct raw identifiers; distinct identifier pairs) and
write to the restricted `identity` schema, which dbt reads back as a source.
"""

import uuid

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster_duckdb import DuckDBResource

from orchestration import settings
from orchestration.identity.graph import resolve
from orchestration.identity.keyed_hash import hashes_made_with, hashing_key, keyed_hash_reusing
from orchestration.identity.normalise import (
    canonical_identifier,
    canonical_phone,
    simplified_name,
)
from orchestration.identity.stable_ids import assign_customer_ids
from orchestration.privacy.erasure import withhold_erased_customers
from orchestration.warehouse_tables import replace_table, table_exists

CANONICAL_FORMS = AssetKey(["identity", "identifier_canonical_forms"])
IDENTITY_MAP = AssetKey(["identity", "customer_identity_map"])
MAX_CUSTOMER_IDENTITIES = 50
NAMED_PHONE_SOURCES = ("stg_pos__receipts", "stg_crm__member_changes", "stg_ecom__orders")
# Distinct (canonical phone, raw name) pairs from the records that carry both: compact.
PHONE_NAMES_SQL = """
    WITH named AS (
        SELECT phone_raw, customer_name_raw AS name_raw FROM staging.stg_pos__receipts
        UNION ALL
        SELECT phone_raw, member_name_raw FROM staging.stg_crm__member_changes
        UNION ALL
        SELECT phone_raw, receiver_name_raw FROM staging.stg_ecom__orders
    )
    SELECT DISTINCT forms.identity_value AS phone, named.name_raw
    FROM named
    JOIN identity.identifier_canonical_forms AS forms
      ON forms.identity_type = 'phone' AND forms.identity_value_raw = named.phone_raw
    WHERE forms.identity_value IS NOT NULL AND named.name_raw IS NOT NULL
"""  # more identifiers than any person has: a shared id slipped through


def canonicalise(raw: pd.DataFrame) -> pd.DataFrame:
    """identity_type, identity_value_raw -> + identity_value, canonical_status."""
    out = raw.copy()
    phones = out.identity_type == "phone"
    phone_forms = out.loc[phones, "identity_value_raw"].map(canonical_phone)
    out.loc[phones, "identity_value"] = phone_forms.map(lambda f: f[0])
    out.loc[phones, "canonical_status"] = phone_forms.map(lambda f: f[1])
    others = out.loc[~phones, ["identity_type", "identity_value_raw"]]
    values = [canonical_identifier(t, v) for t, v in others.itertuples(index=False)]
    out.loc[~phones, "identity_value"] = values
    out.loc[~phones, "canonical_status"] = ["valid" if v else "empty" for v in values]
    return out


class CanonicalFormsConfig(Config):
    """Launchpad option: canonicalise every raw value again (after a change to normalise.py)."""

    full_refresh: bool = False


SIGHTINGS = "intermediate.int_identity__sightings"


@asset(
    key=CANONICAL_FORMS,
    group_name="identity",
    kinds={"python", "duckdb"},
    deps=[AssetKey(["intermediate", "int_identity__sightings"])],
    description="Each distinct raw identifier in its canonical form (phones to E.164).",
)
def identifier_canonical_forms(
    warehouse: DuckDBResource, config: CanonicalFormsConfig
) -> MaterializeResult:
    """Only raw values not canonicalised before are parsed (a value's form depends on nothing
    else); values no longer seen on any record (erased, replaced) are dropped."""
    with warehouse.get_connection() as conn:
        if config.full_refresh or not table_exists(conn, "identity", "identifier_canonical_forms"):
            replace_table(
                conn,
                "identity",
                "identifier_canonical_forms",
                canonicalise(
                    conn.execute(
                        f"SELECT DISTINCT identity_type, identity_value_raw FROM {SIGHTINGS}"
                    ).df()
                ),
            )
            added = None
        else:
            conn.execute(
                "DELETE FROM identity.identifier_canonical_forms AS forms WHERE NOT EXISTS ("
                f"SELECT 1 FROM {SIGHTINGS} AS s WHERE s.identity_type = forms.identity_type "
                "AND s.identity_value_raw = forms.identity_value_raw)"
            )
            new = canonicalise(
                conn.execute(
                    f"SELECT DISTINCT identity_type, identity_value_raw FROM {SIGHTINGS} AS s "
                    "WHERE NOT EXISTS (SELECT 1 FROM identity.identifier_canonical_forms AS f "
                    "WHERE f.identity_type = s.identity_type "
                    "AND f.identity_value_raw = s.identity_value_raw)"
                ).df()
            )
            conn.register("new_forms", new)
            conn.execute(
                "INSERT INTO identity.identifier_canonical_forms BY NAME SELECT * FROM new_forms"
            )
            conn.unregister("new_forms")
            added = len(new)
        status = conn.execute(
            "SELECT identity_type, canonical_status, count(*) "
            "FROM identity.identifier_canonical_forms GROUP BY ALL"
        ).fetchall()
    return MaterializeResult(
        metadata={
            "distinct_raw_values": sum(n for _, _, n in status),
            "canonicalised_this_run": added if added is not None else sum(n for *_, n in status),
            "by_status": MetadataValue.json({f"{t}/{s}": int(n) for t, s, n in status}),
        }
    )


def _previous_hashes(conn, key: bytes) -> pd.Series:
    """identity_hash by identity_key from the previous map, if made with this key."""
    if not table_exists(conn, "identity", "customer_identity_map"):
        return pd.Series(dtype=object)
    stored = conn.execute(
        "SELECT identity_key, identity_hash FROM identity.customer_identity_map"
    ).df()
    stored = stored.drop_duplicates("identity_key").set_index("identity_key").identity_hash
    return hashes_made_with(stored, key)


def _previous_map(conn) -> pd.DataFrame:
    if not table_exists(conn, "identity", "customer_identity_map"):
        return pd.DataFrame(columns=["identity_key", "customer_id"])
    return conn.execute(
        "SELECT identity_key, customer_id FROM identity.customer_identity_map "
        "WHERE customer_id IS NOT NULL"
    ).df()


def _append_history(conn, history: pd.DataFrame, run_id: str) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS identity.customer_id_history (run_id VARCHAR, "
        "recorded_at TIMESTAMP, event VARCHAR, customer_id VARCHAR, related_customer_id VARCHAR)"
    )
    conn.register("history", history)
    conn.execute(
        "INSERT INTO identity.customer_id_history SELECT ?, now()::TIMESTAMP, event, "
        "customer_id, related_customer_id FROM history",
        [run_id],
    )
    conn.unregister("history")


def _record_identifier_changes(conn, identity_map: pd.DataFrame, first_build: bool) -> int:
    """Append the identifiers whose customer_id changed since the previous map: incremental
    models re-resolve only the records that observe them. An identifier that left the map (its
    records were deleted, or its customer was withheld on an erasure request) is recorded by its
    previous customer_id only, so that no erased value is kept here."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS identity.identifier_changes (identity_type VARCHAR, "
        "identity_value VARCHAR, previous_customer_id VARCHAR, changed_at TIMESTAMP)"
    )
    if first_build:
        return 0  # a first build: no incremental model has anything to catch up on
    conn.register("new_map", identity_map[["identity_type", "identity_value", "customer_id"]])
    changed = conn.execute(
        """
        INSERT INTO identity.identifier_changes
        SELECT DISTINCT
            coalesce(n.identity_type, o.identity_type),
            n.identity_value,
            CASE WHEN n.identity_value IS NULL THEN o.customer_id END,
            timezone('UTC', now())
        FROM new_map AS n
        FULL OUTER JOIN identity.customer_identity_map AS o
            ON n.identity_type = o.identity_type AND n.identity_value = o.identity_value
        WHERE n.customer_id IS DISTINCT FROM o.customer_id
            AND (n.identity_value IS NOT NULL OR o.customer_id IS NOT NULL)
        """
    ).fetchall()[0][0]
    conn.unregister("new_map")
    return int(changed)


def household_phones(phone_names: pd.DataFrame) -> pd.DataFrame:
    """Phones keyed in under two or more different names (compared in Simplified Chinese)."""
    # far fewer distinct names than (phone, name) pairs: convert each name once
    distinct = phone_names.name_raw.dropna().unique()
    simplified = pd.Series([simplified_name(n) for n in distinct], index=distinct, dtype=object)
    names = phone_names.assign(name=phone_names.name_raw.map(simplified)).dropna()
    counts = names.groupby("phone").name.nunique()
    shared = counts[counts >= 2]
    return pd.DataFrame(
        {
            "identity_type": "phone",
            "identity_value": shared.index,
            "reason": shared.astype(str).to_numpy() + " distinct names",
        }
    )


def graph_health(identity_map: pd.DataFrame) -> dict:
    sizes = identity_map.dropna(subset=["customer_id"]).groupby("customer_id").size()
    return {
        "customers": int(len(sizes)),
        "largest_customer_identities": int(sizes.max()) if len(sizes) else 0,
        "cluster_size_distribution": {
            str(k): int(v) for k, v in sizes.clip(upper=10).value_counts().sort_index().items()
        },
        "largest_customers": sizes.nlargest(5).to_dict(),
    }


@asset(
    key=IDENTITY_MAP,
    group_name="identity",
    kinds={"python", "duckdb"},
    deps=[
        AssetKey(["intermediate", "int_identity__identifiers"]),
        AssetKey(["intermediate", "int_identity__edges"]),
        AssetKey(["intermediate", "int_identity__blocked_identifiers"]),
        AssetKey(["reference", "identity_types"]),
        *(AssetKey(["staging", model]) for model in NAMED_PHONE_SOURCES),
    ],
    check_specs=[
        AssetCheckSpec(
            "no_giant_customer",
            asset=IDENTITY_MAP,
            blocking=True,
            description=f"No customer holds more than {MAX_CUSTOMER_IDENTITIES} identifiers "
            "(a giant cluster means a shared identifier merged strangers).",
        )
    ],
    description="Every canonical identifier resolved to a stable customer_id behind merge "
    "guards; merges, splits and guard events recorded.",
)
def customer_identity_map(
    context: AssetExecutionContext, warehouse: DuckDBResource
) -> MaterializeResult:
    key = hashing_key(settings.LANDING_PATH)
    with warehouse.get_connection() as conn:
        identifiers = conn.execute(
            "SELECT identity_type, identity_value FROM intermediate.int_identity__identifiers"
        ).df()
        edges = conn.execute("SELECT * FROM intermediate.int_identity__edges").df()
        blocked = conn.execute("SELECT * FROM intermediate.int_identity__blocked_identifiers").df()
        households = household_phones(conn.execute(PHONE_NAMES_SQL).df())
        resolution = resolve(identifiers, edges, blocked, households=households)
        previous = _previous_map(conn)
        mapping, history = assign_customer_ids(resolution.assignments, previous)
        identity_map = resolution.assignments.merge(
            mapping, on=["identity_type", "identity_value"], how="left"
        ).drop(columns="cluster")
        identity_map["identity_key"] = (
            identity_map.identity_type + ":" + identity_map.identity_value
        )
        identity_map["identity_hash"] = keyed_hash_reusing(
            identity_map.identity_key, key, _previous_hashes(conn, key)
        )
        identity_map = withhold_erased_customers(conn, identity_map, key)
        changed = _record_identifier_changes(conn, identity_map, first_build=previous.empty)
        replace_table(conn, "identity", "customer_identity_map", identity_map)
        guards = resolution.guard_events.assign(resolved_at=pd.Timestamp.now(tz="UTC"))
        replace_table(conn, "identity", "merge_guard_events", guards)
        _append_history(conn, history, context.run_id or uuid.uuid4().hex)
    health = graph_health(identity_map)
    largest = health["largest_customer_identities"]
    return MaterializeResult(
        metadata={
            **{k: MetadataValue.json(v) if isinstance(v, dict) else v for k, v in health.items()},
            "identifiers": len(identity_map),
            "identifiers_changed": changed,
            "guard_events": MetadataValue.json(
                resolution.guard_events.guard.str.split(":").str[0].value_counts().to_dict()
            ),
            "history_events": MetadataValue.json(history.event.value_counts().to_dict()),
        },
        check_results=[
            AssetCheckResult(
                check_name="no_giant_customer",
                passed=largest <= MAX_CUSTOMER_IDENTITIES,
                metadata={"largest_customer_identities": largest},
            )
        ],
    )


identity_assets = [identifier_canonical_forms, customer_identity_map]
