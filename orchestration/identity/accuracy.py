"""Pairwise precision and recall of resolved customers against a ground truth of persons.

Only identifiers that the data shows and the truth owns count (a store's phone belongs to nobody).
Recall is measured over the pairs the data makes linkable: two identifiers of one person joined by
a chain of records that carry only that person's identifiers. A pair no record ever connects
cannot be found by any resolver, so it is not held against this one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def _pairs(group_sizes: pd.Series) -> int:
    n = group_sizes.to_numpy(dtype=np.int64)
    return int((n * (n - 1) // 2).sum())


def _linkable_components(universe: pd.DataFrame, edges: pd.DataFrame) -> np.ndarray:
    index = pd.Series(np.arange(len(universe)), index=universe.key.to_numpy())
    person = universe.person_id.to_numpy()
    a = index.reindex((edges.type_a + ":" + edges.value_a).to_numpy()).to_numpy()
    b = index.reindex((edges.type_b + ":" + edges.value_b).to_numpy()).to_numpy()
    keep = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[keep].astype(np.int64), b[keep].astype(np.int64)
    same_person = person[a] == person[b]
    a, b = a[same_person], b[same_person]
    n = len(universe)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def pairwise_accuracy(
    predicted: pd.DataFrame, truth: pd.DataFrame, edges: pd.DataFrame
) -> dict[str, float]:
    """predicted: identity_type, identity_value, customer_id; truth: identity_type,
    identity_value, person_id; edges: type_a, value_a, type_b, value_b."""
    universe = predicted.dropna(subset=["customer_id"]).merge(
        truth.dropna(subset=["person_id"]), on=["identity_type", "identity_value"]
    )
    universe = universe.reset_index(drop=True)
    universe["key"] = universe.identity_type + ":" + universe.identity_value
    universe["component"] = _linkable_components(universe, edges)

    predicted_pairs = _pairs(universe.groupby("customer_id").size())
    true_positive = _pairs(universe.groupby(["customer_id", "person_id"]).size())
    linkable = _pairs(universe.groupby("component").size())
    found = _pairs(universe.groupby(["customer_id", "component"]).size())
    return {
        "identifiers": len(universe),
        "predicted_pairs": predicted_pairs,
        "true_positive_pairs": true_positive,
        "linkable_pairs": linkable,
        "precision": true_positive / predicted_pairs if predicted_pairs else 1.0,
        "recall": found / linkable if linkable else 1.0,
    }
