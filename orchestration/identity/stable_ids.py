"""Stable customer ids across runs, with every merge and split recorded.

A new cluster inherits the previous customer_id that most of its identities carried. A previous id
goes to at most one cluster: the one holding most of its identities. When a cluster inherits
several ids, the one with most identities (then the smallest) survives and the others are recorded
as merged into it; when a previous id's identities now sit in several clusters, the others are
recorded as split from it. A cluster with nothing to inherit gets a new id derived from its anchor
identity (its strongest identifier), so a rebuild from scratch gives the same ids.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from orchestration.identity.types import priorities


def identity_key(identity_type: pd.Series, identity_value: pd.Series) -> pd.Series:
    return identity_type + ":" + identity_value


def _new_id(anchor: str, taken: set[str]) -> str:
    salt = 0
    while True:
        text = anchor if salt == 0 else f"{anchor}#{salt}"
        candidate = "C" + hashlib.sha1(text.encode()).hexdigest()[:12].upper()
        if candidate not in taken:
            taken.add(candidate)
            return candidate
        salt += 1


def _anchors(current: pd.DataFrame) -> pd.Series:
    ranked = current.assign(_p=current.identity_type.map(priorities()).fillna(99)).sort_values(
        ["cluster", "_p", "key"]
    )
    return ranked.drop_duplicates("cluster").set_index("cluster").key


def assign_customer_ids(
    clusters: pd.DataFrame, previous: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """clusters: identity_type, identity_value, cluster. previous: identity_key, customer_id.

    Returns (identity_type, identity_value, identity_key, customer_id) and the history events
    (event, customer_id, related_customer_id).
    """
    current = clusters[clusters.cluster >= 0].copy()
    current["key"] = identity_key(current.identity_type, current.identity_value)
    joined = current.merge(previous.rename(columns={"identity_key": "key"}), on="key", how="left")

    votes = joined.dropna(subset=["customer_id"]).groupby(["customer_id", "cluster"]).size()
    votes = votes.rename("n").reset_index()
    # each previous id goes to the cluster holding most of its identities
    winners = votes.sort_values(["customer_id", "n", "cluster"], ascending=[True, False, True])
    winners = winners.drop_duplicates("customer_id")
    # each cluster keeps the biggest id it won; the rest merged into it
    kept = winners.sort_values(["cluster", "n", "customer_id"], ascending=[True, False, True])
    kept_ids = kept.drop_duplicates("cluster").set_index("cluster").customer_id

    previous_ids = set(previous.customer_id.tolist())
    taken = previous_ids | set(kept_ids.tolist())
    # plain dicts: a Series lookup per cluster costs more than the rest of the step
    anchors = _anchors(current).to_dict()
    inherited = kept_ids.to_dict()
    ids = {c: inherited.get(c) for c in anchors}
    for cluster in sorted(c for c, v in ids.items() if v is None):
        ids[cluster] = _new_id(anchors[cluster], taken)

    current["customer_id"] = current.cluster.map(ids)
    history = _history(winners, kept_ids, votes, ids, previous_ids)
    mapping = current.rename(columns={"key": "identity_key"})[
        ["identity_type", "identity_value", "identity_key", "customer_id"]
    ]
    return mapping.reset_index(drop=True), history


def _history(winners, kept_ids, votes, ids, previous_ids) -> pd.DataFrame:
    events = []
    owner = dict(zip(winners.customer_id.tolist(), winners.cluster.tolist(), strict=True))
    for customer_id, cluster in owner.items():
        survivor = ids[cluster]
        if survivor != customer_id:
            events.append(("merged", customer_id, survivor))
    for customer_id, cluster in zip(
        votes.customer_id.tolist(), votes.cluster.tolist(), strict=True
    ):
        if cluster != owner[customer_id]:
            events.append(("split", ids[cluster], customer_id))
    inherited = set(kept_ids.tolist())
    for customer_id in ids.values():
        if customer_id not in inherited and customer_id not in previous_ids:
            events.append(("created", customer_id, None))
    history = pd.DataFrame(events, columns=["event", "customer_id", "related_customer_id"])
    return history.drop_duplicates().sort_values(["event", "customer_id"], ignore_index=True)
