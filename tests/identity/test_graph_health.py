"""The identity map's health metadata, on a hand-made map."""

from __future__ import annotations

import duckdb

from orchestration.identity.assets import graph_health


def test_health_counts_customers_caps_sizes_at_ten_and_names_the_largest():
    conn = duckdb.connect()
    # C1 holds 12 identifiers, C2 and C3 two each, C4 one; two identifiers resolve to nobody
    rows = [("C1", i) for i in range(12)] + [("C2", 0), ("C2", 1), ("C3", 0), ("C3", 1)]
    rows += [("C4", 0), (None, 0), (None, 1)]
    conn.execute("CREATE TABLE map (customer_id VARCHAR, identity_value INTEGER)")
    conn.executemany("INSERT INTO map VALUES (?, ?)", rows)
    assert graph_health(conn, "map") == {
        "customers": 4,
        "largest_customer_identities": 12,
        "cluster_size_distribution": {"1": 1, "2": 2, "10": 1},
        "largest_customers": {"C1": 12, "C2": 2, "C3": 2, "C4": 1},
    }


def test_health_of_an_empty_map():
    conn = duckdb.connect()
    conn.execute("CREATE TABLE map (customer_id VARCHAR)")
    assert graph_health(conn, "map") == {
        "customers": 0,
        "largest_customer_identities": 0,
        "cluster_size_distribution": {},
        "largest_customers": {},
    }
