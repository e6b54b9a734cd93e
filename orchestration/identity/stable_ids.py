"""Stable customer ids across runs, with every merge and split recorded.

A new cluster inherits the previous customer_id that most of its identities carried. A previous id
goes to at most one cluster: the one holding most of its identities. When a cluster inherits
several ids, the one with most identities (then the smallest) survives and the others are recorded
as merged into it; when a previous id's identities now sit in several clusters, the others are
recorded as split from it. A cluster with nothing to inherit gets a new id derived from its anchor
identity (its strongest identifier), so a rebuild from scratch gives the same ids.

The votes run as SQL in DuckDB over the tables of the clusters and of the previous map; Python
only derives the ids of clusters that inherit none.
"""

from __future__ import annotations

import hashlib

import duckdb
import pandas as pd

from orchestration.identity.types import priorities
from orchestration.warehouse_tables import registered

HISTORY_COLUMNS = ["event", "customer_id", "related_customer_id"]


def _candidate(anchor: str, salt: int = 0) -> str:
    text = anchor if salt == 0 else f"{anchor}#{salt}"
    return "C" + hashlib.sha1(text.encode()).hexdigest()[:12].upper()


def _new_ids(conn, anchors: list[tuple[int, str]]) -> pd.DataFrame:
    """cluster, customer_id for the clusters (in cluster order) that inherit no id: the hash of
    the anchor, salted while it is taken by a previous id, an inherited one or an earlier new one
    (a collision of 48-bit hashes: rare, so the taken ids are read only when one occurs)."""
    ids = pd.DataFrame(
        {
            "cluster": pd.Series([c for c, _ in anchors], dtype="int64"),
            "customer_id": pd.Series([_candidate(a) for _, a in anchors], dtype="string"),
        }
    )
    with registered(conn, "sid_candidates", ids):
        [(clashes,)] = conn.execute(
            "SELECT count(*) FROM sid_candidates WHERE customer_id IN "
            "(SELECT customer_id FROM sid_previous UNION ALL SELECT customer_id FROM sid_kept)"
        ).fetchall()
    if not clashes and ids.customer_id.is_unique:
        return ids
    taken = {
        c
        for (c,) in conn.execute(
            "SELECT customer_id FROM sid_previous UNION SELECT customer_id FROM sid_kept"
        ).fetchall()
    }
    chosen = []
    for _, anchor in anchors:
        salt = 0
        while (candidate := _candidate(anchor, salt)) in taken:
            salt += 1
        taken.add(candidate)
        chosen.append(candidate)
    return ids.assign(customer_id=chosen)


VOTES_SQL = """
CREATE OR REPLACE TEMP TABLE sid_previous AS
SELECT identity_key, customer_id FROM {previous} WHERE customer_id IS NOT NULL;

CREATE OR REPLACE TEMP TABLE sid_current AS
SELECT
    identity_type, identity_value, identity_type || ':' || identity_value AS identity_key, cluster
FROM {clusters} WHERE cluster >= 0;

CREATE OR REPLACE TEMP TABLE sid_votes AS
SELECT p.customer_id, c.cluster, count(*) AS n
FROM sid_current AS c JOIN sid_previous AS p ON p.identity_key = c.identity_key
GROUP BY p.customer_id, c.cluster;

-- each previous id goes to the cluster holding most of its identities
CREATE OR REPLACE TEMP TABLE sid_winners AS
SELECT customer_id, cluster, n FROM sid_votes
QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY n DESC, cluster) = 1;

-- each cluster keeps the biggest id it won; the rest merged into it
CREATE OR REPLACE TEMP TABLE sid_kept AS
SELECT cluster, customer_id FROM sid_winners
QUALIFY row_number() OVER (PARTITION BY cluster ORDER BY n DESC, customer_id) = 1;
"""

# the anchor of each cluster inheriting nothing: its strongest identifier, then the smallest key
ANCHORS_SQL = """
SELECT c.cluster, arg_min(c.identity_key, (coalesce(p.priority, 99), c.identity_key))
FROM sid_current AS c
LEFT JOIN sid_priorities AS p ON p.identity_type = c.identity_type
WHERE c.cluster NOT IN (SELECT cluster FROM sid_kept)
GROUP BY c.cluster
ORDER BY c.cluster
"""

HISTORY_SQL = """
SELECT DISTINCT * FROM (
    SELECT 'merged' AS event, w.customer_id, i.customer_id AS related_customer_id
    FROM sid_winners AS w JOIN sid_ids AS i ON i.cluster = w.cluster
    WHERE i.customer_id <> w.customer_id
    UNION ALL
    SELECT 'split', i.customer_id, v.customer_id
    FROM sid_votes AS v
    JOIN sid_winners AS w ON w.customer_id = v.customer_id
    JOIN sid_ids AS i ON i.cluster = v.cluster
    WHERE v.cluster <> w.cluster
    UNION ALL
    SELECT 'created', customer_id, NULL
    FROM sid_ids
    WHERE customer_id NOT IN (SELECT customer_id FROM sid_kept)
        AND customer_id NOT IN (SELECT customer_id FROM sid_previous)
)
ORDER BY event, customer_id, related_customer_id
"""


def assign_customer_ids_in(conn, clusters: str, previous: str) -> pd.DataFrame:
    """The relation `clusters` (identity_type, identity_value, cluster; cluster < 0: none) gets
    ids from `previous` (identity_key, customer_id). Leaves the temp table `sid_mapping`
    (identity_type, identity_value, identity_key, customer_id) of every clustered identifier;
    returns the history events (event, customer_id, related_customer_id)."""
    conn.execute(VOTES_SQL.format(clusters=clusters, previous=previous))
    type_priorities = pd.DataFrame(
        list(priorities().items()), columns=["identity_type", "priority"]
    )
    with registered(conn, "sid_priorities", type_priorities):
        anchors = conn.execute(ANCHORS_SQL).fetchall()
    with registered(conn, "sid_new", _new_ids(conn, anchors)):
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE sid_ids AS "
            "SELECT cluster, customer_id FROM sid_kept UNION ALL SELECT * FROM sid_new"
        )
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE sid_mapping AS "
        "SELECT c.identity_type, c.identity_value, c.identity_key, i.customer_id "
        "FROM sid_current AS c JOIN sid_ids AS i ON i.cluster = c.cluster"
    )
    history = conn.execute(HISTORY_SQL).df()
    for table in ("sid_current", "sid_votes", "sid_winners", "sid_kept", "sid_ids"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("DROP TABLE sid_previous")
    return history


def assign_customer_ids(
    clusters: pd.DataFrame, previous: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """assign_customer_ids_in on frames: clusters (identity_type, identity_value, cluster),
    previous (identity_key, customer_id). Returns (identity_type, identity_value, identity_key,
    customer_id) and the history events."""
    with duckdb.connect() as conn:
        conn.register("clusters", clusters[["identity_type", "identity_value", "cluster"]])
        conn.register(
            "previous",
            previous[["identity_key", "customer_id"]].astype(
                {"identity_key": "string", "customer_id": "string"}
            ),
        )
        history = assign_customer_ids_in(conn, "clusters", "previous")
        mapping = conn.execute(
            "SELECT * FROM sid_mapping ORDER BY identity_type, identity_value"
        ).df()
    return mapping, history[HISTORY_COLUMNS]
