"""Identity resolution as Dagster assets: canonical forms, then the guarded graph and stable ids.

Both read compact inputs from dbt models (distinct raw identifiers; distinct identifier pairs) and
write to the restricted `identity` schema, which dbt reads back as a source.
"""

import uuid

import numpy as np
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
from orchestration.identity.graph import STATUSES, NumberedGraph, resolve_graph
from orchestration.identity.keyed_hash import hashing_key, with_keyed_hashes
from orchestration.identity.normalise import (
    canonical_identifier,
    canonical_phone,
    simplified_name,
)
from orchestration.identity.stable_ids import assign_customer_ids_in
from orchestration.privacy.erasure import withhold_erased_customers
from orchestration.warehouse_tables import registered, replace_table, table_exists

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


PREVIOUS_MAP = "identity.customer_identity_map"
NO_PREVIOUS_MAP = "(SELECT NULL::VARCHAR AS identity_key, NULL::VARCHAR AS customer_id WHERE false)"

# The identifiers numbered 0..n-1 in (identity_type, identity_value) order, with type codes.
GRAPH_NODES_SQL = """
CREATE OR REPLACE TEMP TABLE graph_nodes AS
WITH identifiers AS (
    SELECT DISTINCT identity_type, identity_value FROM intermediate.int_identity__identifiers
),
type_codes AS (
    SELECT identity_type, (row_number() OVER (ORDER BY identity_type) - 1)::SMALLINT AS type_code
    FROM (SELECT DISTINCT identity_type FROM identifiers)
)
SELECT
    (row_number() OVER (ORDER BY i.identity_type, i.identity_value) - 1)::BIGINT AS node,
    i.identity_type,
    i.identity_value,
    t.type_code
FROM identifiers AS i JOIN type_codes AS t ON t.identity_type = i.identity_type
"""
GRAPH_EDGES_SQL = """
SELECT na.node AS a, nb.node AS b, e.n_records
FROM intermediate.int_identity__edges AS e
JOIN graph_nodes AS na ON na.identity_type = e.type_a AND na.identity_value = e.value_a
JOIN graph_nodes AS nb ON nb.identity_type = e.type_b AND nb.identity_value = e.value_b
"""
NODE_REASONS_SQL = """
SELECT n.node, r.reason FROM {reasons} AS r
JOIN graph_nodes AS n ON n.identity_type = r.identity_type AND n.identity_value = r.identity_value
ORDER BY n.node
"""


def numbered_graph(conn, households: pd.DataFrame) -> NumberedGraph:
    """The identity graph numbered in DuckDB (temp table graph_nodes): Python gets integer arrays
    only, never the millions of identifier strings."""
    conn.execute(GRAPH_NODES_SQL)
    type_names = tuple(
        t
        for (t,) in conn.execute(
            "SELECT DISTINCT identity_type FROM graph_nodes ORDER BY identity_type"
        ).fetchall()
    )
    node_type = conn.execute("SELECT type_code FROM graph_nodes ORDER BY node").fetchnumpy()
    edges = conn.execute(GRAPH_EDGES_SQL).fetchnumpy()
    blocked = conn.execute(
        NODE_REASONS_SQL.format(reasons="intermediate.int_identity__blocked_identifiers")
    ).df()
    with registered(conn, "household_phones", households):
        household_nodes = conn.execute(NODE_REASONS_SQL.format(reasons="household_phones")).df()
    return NumberedGraph(
        type_names=type_names,
        node_type=node_type["type_code"],
        a=edges["a"],
        b=edges["b"],
        n_records=edges["n_records"],
        blocked=blocked,
        households=household_nodes,
    )


def _write_resolution(conn, resolution) -> None:
    """Temp table graph_clusters: each node's identifier with its cluster and status."""
    frame = pd.DataFrame(
        {
            "node": np.arange(len(resolution.cluster), dtype=np.int64),
            "cluster": resolution.cluster,
            "status_code": resolution.status.astype(np.int64) + 1,
        }
    )
    statuses = "[" + ", ".join(f"'{s}'" for s in STATUSES) + "]"
    with registered(conn, "graph_resolution", frame):
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE graph_clusters AS "
            "SELECT n.node, n.identity_type, n.identity_value, r.cluster, "
            f"{statuses}[r.status_code] AS status "
            "FROM graph_nodes AS n JOIN graph_resolution AS r ON r.node = n.node"
        )


def _guard_events(conn, resolution) -> pd.DataFrame:
    """The guard events by identifier; a refused link's detail names the identifier refused."""
    with registered(conn, "graph_guard_events", resolution.guard_events):
        return conn.execute(
            "SELECT n.identity_type, n.identity_value, g.guard, "
            "CASE WHEN g.refused_node >= 0 THEN g.detail || ' ' || refused.identity_value "
            "ELSE g.detail END AS detail "
            "FROM graph_guard_events AS g "
            "JOIN graph_nodes AS n ON n.node = g.node "
            "LEFT JOIN graph_nodes AS refused ON refused.node = g.refused_node "
            "ORDER BY g.node, g.guard"
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


def _record_identifier_changes(conn, identity_map: str, first_build: bool) -> int:
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
    changed = conn.execute(
        f"""
        INSERT INTO identity.identifier_changes
        SELECT DISTINCT
            coalesce(n.identity_type, o.identity_type),
            n.identity_value,
            CASE WHEN n.identity_value IS NULL THEN o.customer_id END,
            timezone('UTC', now())
        FROM {identity_map} AS n
        FULL OUTER JOIN identity.customer_identity_map AS o
            ON n.identity_type = o.identity_type AND n.identity_value = o.identity_value
        WHERE n.customer_id IS DISTINCT FROM o.customer_id
            AND (n.identity_value IS NOT NULL OR o.customer_id IS NOT NULL)
        """
    ).fetchall()[0][0]
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


def graph_health(conn, identity_map: str) -> dict:
    """Customers, their identifier counts (10 meaning 10 or more) and the five largest, counted
    in DuckDB: sorting the 1.6M customers of a 1M world in pandas took 6 s."""
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE customer_sizes AS SELECT customer_id, count(*) AS n "
        f"FROM {identity_map} WHERE customer_id IS NOT NULL GROUP BY customer_id"
    )
    [(customers, largest_size)] = conn.execute(
        "SELECT count(*), coalesce(max(n), 0) FROM customer_sizes"
    ).fetchall()
    distribution = conn.execute(
        "SELECT least(n, 10) AS size, count(*) FROM customer_sizes GROUP BY size ORDER BY size"
    ).fetchall()
    largest = conn.execute(
        "SELECT customer_id, n FROM customer_sizes ORDER BY n DESC, customer_id LIMIT 5"
    ).fetchall()
    conn.execute("DROP TABLE customer_sizes")
    return {
        "customers": int(customers),
        "largest_customer_identities": int(largest_size),
        "cluster_size_distribution": {str(size): int(n) for size, n in distribution},
        "largest_customers": {customer_id: int(n) for customer_id, n in largest},
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
        households = household_phones(conn.execute(PHONE_NAMES_SQL).df())
        resolution = resolve_graph(numbered_graph(conn, households))
        _write_resolution(conn, resolution)
        has_previous = table_exists(conn, "identity", "customer_identity_map")
        previous = PREVIOUS_MAP if has_previous else NO_PREVIOUS_MAP
        history = assign_customer_ids_in(conn, "graph_clusters", previous)
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE resolved_identifiers AS "
            "SELECT c.identity_type, c.identity_value, c.status, "
            "c.identity_type || ':' || c.identity_value AS identity_key, m.customer_id "
            "FROM graph_clusters AS c LEFT JOIN sid_mapping AS m "
            "ON m.identity_type = c.identity_type AND m.identity_value = c.identity_value"
        )
        with_keyed_hashes(
            conn,
            "resolved_identifiers",
            "fresh_identity_map",
            key,
            PREVIOUS_MAP if has_previous else None,
        )
        withhold_erased_customers(conn, "fresh_identity_map", key)
        first_build = (
            not has_previous
            or not conn.execute(
                f"SELECT count(*) FROM {PREVIOUS_MAP} WHERE customer_id IS NOT NULL"
            ).fetchall()[0][0]
        )
        changed = _record_identifier_changes(conn, "fresh_identity_map", first_build)
        conn.execute(
            "CREATE OR REPLACE TABLE identity.customer_identity_map AS SELECT identity_type, "
            "identity_value, status, identity_key, customer_id, identity_hash "
            "FROM fresh_identity_map"
        )
        guards = _guard_events(conn, resolution).assign(resolved_at=pd.Timestamp.now(tz="UTC"))
        replace_table(conn, "identity", "merge_guard_events", guards)
        _append_history(conn, history, context.run_id or uuid.uuid4().hex)
        [(identifiers,)] = conn.execute("SELECT count(*) FROM fresh_identity_map").fetchall()
        health = graph_health(conn, "fresh_identity_map")
        for table in (
            "graph_nodes",
            "graph_clusters",
            "sid_mapping",
            "resolved_identifiers",
            "fresh_identity_map",
        ):
            conn.execute(f"DROP TABLE {table}")
    largest = health["largest_customer_identities"]
    return MaterializeResult(
        metadata={
            **{k: MetadataValue.json(v) if isinstance(v, dict) else v for k, v in health.items()},
            "identifiers": identifiers,
            "identifiers_changed": changed,
            "guard_events": MetadataValue.json(
                guards.guard.str.split(":").str[0].value_counts().to_dict()
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
