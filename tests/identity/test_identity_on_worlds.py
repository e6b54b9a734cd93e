"""Identity resolution measured against the generator's ground truth."""

from __future__ import annotations

import duckdb
import pandas as pd

from orchestration.identity.accuracy import pairwise_accuracy


def _accuracy(world) -> dict:
    with duckdb.connect(str(world.warehouse), read_only=True) as conn:
        predicted = conn.execute(
            "SELECT identity_type, identity_value, customer_id FROM identity.customer_identity_map"
        ).df()
        edges = conn.execute(
            "SELECT type_a, value_a, type_b, value_b FROM intermediate.int_identity__edges"
        ).df()
    truth = pd.read_parquet(world.truth / "identities.parquet")
    return pairwise_accuracy(
        predicted, truth[["identity_type", "identity_value", "person_id"]], edges
    )


def test_default_world_precision_and_recall_meet_targets(default_world):
    result = _accuracy(default_world)
    assert result["linkable_pairs"] > 10_000  # the measurement covers a real population
    assert result["precision"] >= 0.99, result
    assert result["recall"] >= 0.95, result


def test_store_phones_never_join_strangers(small_world):
    truth = pd.read_parquet(small_world.truth / "identities.parquet")
    store_phones = truth[truth.shared_kind == "store_phone"].identity_value
    with duckdb.connect(str(small_world.warehouse), read_only=True) as conn:
        statuses = conn.execute(
            "SELECT identity_value, status, customer_id FROM identity.customer_identity_map "
            "WHERE identity_type = 'phone'"
        ).df()
    seen = statuses[statuses.identity_value.isin(store_phones)]
    assert len(seen) > 0
    assert (seen.status == "blocked").all() and seen.customer_id.isna().all()


def test_every_observed_identifier_is_resolved_or_guarded_once(small_world):
    with duckdb.connect(str(small_world.warehouse), read_only=True) as conn:
        counts = conn.execute(
            """
            SELECT
              (SELECT count(*) FROM intermediate.int_identity__identifiers),
              (SELECT count(*) FROM identity.customer_identity_map),
              (SELECT count(DISTINCT identity_key) FROM identity.customer_identity_map),
              (SELECT count(*) FROM identity.customer_identity_map
               WHERE customer_id IS NULL AND status NOT IN ('blocked', 'shared'))
            """
        ).fetchone()
    identifiers, mapped, distinct_keys, unexplained_gaps = counts
    assert identifiers == mapped == distinct_keys
    assert unexplained_gaps == 0
