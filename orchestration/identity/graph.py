"""Identity resolution: identifiers seen together become one customer, behind merge guards.

Input is compact: one row per distinct identifier and one per distinct pair of identifiers seen in
the same record. The guards, in the order they apply:

1. blocked: listed test values and stores' own phones never identify anyone;
2. shared: an identifier seen with `shared_min_links` or more distinct values of a singular type
   (a phone keyed in for many members) is dropped like a blocked one;
3. ambiguous: an identifier seen with 2 .. shared_min_links-1 distinct values of a singular type
   (a household phone used by two members, or by two Douyin accounts), or a phone keyed in under
   two different names, merges nobody: it stays a customer of its own;
4. cluster limits: a customer holds at most one value of each singular type (member_id, unionid);
   where a chain of weaker links would join two, edges are taken strongest first and the edge
   that would break the limit is refused.

Components are computed by scipy to convergence, however long the chains.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from orchestration.identity import types


@dataclass(frozen=True)
class ResolutionRules:
    """Merge guards. Priorities (lower is stronger; an edge is as strong as its weaker end) and
    singular types come from the `identity_types` dbt seed."""

    singular_types: tuple[str, ...] = field(default_factory=types.singular_types)
    shared_min_links: int = 5
    priorities: dict[str, int] = field(default_factory=types.priorities)


@dataclass
class Resolution:
    assignments: pd.DataFrame  # identity_type, identity_value, cluster (int, -1 = none), status
    guard_events: pd.DataFrame  # identity_type, identity_value, guard, detail


def _node_index(identifiers: pd.DataFrame) -> pd.DataFrame:
    nodes = identifiers[["identity_type", "identity_value"]].drop_duplicates()
    nodes = nodes.sort_values(["identity_type", "identity_value"], ignore_index=True)
    nodes["node"] = np.arange(len(nodes))
    return nodes


def _edge_nodes(edges: pd.DataFrame, nodes: pd.DataFrame) -> pd.DataFrame:
    idx = nodes.set_index(["identity_type", "identity_value"])["node"]
    a = idx.reindex(pd.MultiIndex.from_frame(edges[["type_a", "value_a"]])).to_numpy()
    b = idx.reindex(pd.MultiIndex.from_frame(edges[["type_b", "value_b"]])).to_numpy()
    out = pd.DataFrame({"a": a, "b": b, "n_records": edges["n_records"].to_numpy()})
    out = out.dropna().astype({"a": np.int64, "b": np.int64})
    return out[out.a != out.b]


def _link_counts(e: pd.DataFrame, node_type: np.ndarray, singular: tuple[str, ...]) -> pd.DataFrame:
    """For every node, how many distinct neighbours of each singular type it has."""
    both = pd.concat([e[["a", "b"]], e[["b", "a"]].set_axis(["a", "b"], axis=1)])
    both = both.drop_duplicates()
    both["neighbour_type"] = node_type[both.b.to_numpy()]
    both = both[both.neighbour_type.isin(singular)]
    both = both[node_type[both.a.to_numpy()] != both.neighbour_type]
    return both.groupby(["a", "neighbour_type"]).size().rename("links").reset_index()


def _guarded_nodes(e, nodes, blocked, households, rules) -> pd.DataFrame:
    """node, guard, detail for every blocked, shared or ambiguous identifier."""
    node_type = nodes.identity_type.to_numpy()
    frames = []
    if len(blocked):
        b = nodes.merge(blocked, on=["identity_type", "identity_value"])
        frames.append(pd.DataFrame({"node": b.node, "guard": "blocked", "detail": b.reason}))
    if len(households):
        h = nodes.merge(households, on=["identity_type", "identity_value"])
        frames.append(pd.DataFrame({"node": h.node, "guard": "ambiguous", "detail": h.reason}))
    links = _link_counts(e, node_type, rules.singular_types)
    links = links[links.links >= 2]
    shared = links.links >= rules.shared_min_links
    detail = links.links.astype(str) + " distinct " + links.neighbour_type
    frames.append(
        pd.DataFrame(
            {
                "node": links.a,
                "guard": np.where(shared, "shared", "ambiguous"),
                "detail": detail,
            }
        )
    )
    guarded = pd.concat(frames, ignore_index=True)
    # blocked beats shared beats ambiguous when several apply to one node
    order = guarded.guard.map({"blocked": 0, "shared": 1, "ambiguous": 2})
    return (
        guarded.assign(_o=order)
        .sort_values(["node", "_o"])
        .drop_duplicates("node")
        .drop(columns="_o")
    )


def _find(parent: dict, x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def _split_by_limits(cluster_edges, node_type, singular_values) -> tuple[dict, list]:
    """Strongest-first union-find within one over-full component; returns node->root, refusals."""
    members = pd.unique(cluster_edges[["a", "b"]].to_numpy().ravel())
    parent = {int(n): int(n) for n in members}
    held = {
        int(n): ({node_type[n]: singular_values[n]} if n in singular_values else {})
        for n in members
    }
    refused = []
    for a, b in zip(cluster_edges.a.tolist(), cluster_edges.b.tolist(), strict=True):
        ra, rb = _find(parent, a), _find(parent, b)
        if ra == rb:
            continue
        clash = [t for t in held[ra] if t in held[rb] and held[ra][t] != held[rb][t]]
        if clash:
            refused.append((a, b, clash[0]))
            continue
        parent[rb] = ra
        held[ra] = {**held[rb], **held[ra]}
    return {n: _find(parent, n) for n in members}, refused


def resolve(
    identifiers: pd.DataFrame,
    edges: pd.DataFrame,
    blocked: pd.DataFrame | None = None,
    rules: ResolutionRules | None = None,
    households: pd.DataFrame | None = None,
) -> Resolution:
    """Cluster identifiers into customers. See the module docstring for the guards.

    `households` (identity_type, identity_value, reason) lists identifiers known from other
    evidence to be used by several people (a phone keyed in under two different names): they are
    ambiguous, like one seen with two members."""
    rules = rules or ResolutionRules()
    empty = pd.DataFrame(columns=["identity_type", "identity_value", "reason"])
    blocked = blocked if blocked is not None else empty
    households = households if households is not None else empty
    nodes = _node_index(identifiers)
    e = _edge_nodes(edges, nodes)
    guarded = _guarded_nodes(e, nodes, blocked, households, rules)
    excluded = guarded.node.to_numpy()
    kept = e[~e.a.isin(excluded) & ~e.b.isin(excluded)]

    n = len(nodes)
    graph = coo_matrix((np.ones(len(kept)), (kept.a, kept.b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)

    labels, refusals = _enforce_limits(kept, nodes, labels, rules)
    status = np.full(n, "resolved", dtype=object)
    status[guarded.node.to_numpy()] = guarded.guard.to_numpy()
    cluster = labels.astype(np.int64)
    cluster[np.isin(status, ["blocked", "shared"])] = -1

    node_type, node_value = nodes.identity_type.to_numpy(), nodes.identity_value.to_numpy()
    guard_events = pd.concat(
        [
            pd.DataFrame(
                {
                    "identity_type": node_type[guarded.node],
                    "identity_value": node_value[guarded.node],
                    "guard": guarded.guard.to_numpy(),
                    "detail": guarded.detail.to_numpy(),
                }
            ),
            pd.DataFrame(
                {
                    "identity_type": [node_type[a] for a, _, _ in refusals],
                    "identity_value": [node_value[a] for a, _, _ in refusals],
                    "guard": [f"cluster_limit:{t}" for _, _, t in refusals],
                    "detail": [
                        f"refused link to {node_type[b]} {node_value[b]}" for _, b, _ in refusals
                    ],
                }
            ),
        ],
        ignore_index=True,
    )
    assignments = nodes.assign(cluster=cluster, status=status).drop(columns="node")
    return Resolution(assignments, guard_events)


def _enforce_limits(kept, nodes, labels, rules):
    node_type = nodes.identity_type.to_numpy()
    is_singular = np.isin(node_type, rules.singular_types)
    singular = pd.DataFrame(
        {
            "label": labels[is_singular],
            "type": node_type[is_singular],
            "value": nodes.identity_value.to_numpy()[is_singular],
        }
    )
    per_label = singular.groupby(["label", "type"]).value.nunique()
    over_full = per_label[per_label > 1].index.get_level_values("label").unique()
    if len(over_full) == 0:
        return labels, []
    labels = labels.copy()
    singular_values = dict(
        zip(np.flatnonzero(is_singular).tolist(), singular.value.tolist(), strict=True)
    )
    weight = nodes.identity_type.map(rules.priorities).fillna(99).to_numpy()
    edge_label = labels[kept.a.to_numpy()]
    # one pass over the edges for all over-full components: a mask per component costs a scan each
    in_over_full = np.isin(edge_label, over_full)
    ce = kept[in_over_full].assign(label=edge_label[in_over_full])
    ce["strength"] = np.maximum(weight[ce.a], weight[ce.b])
    ce = ce.sort_values(
        ["label", "strength", "n_records", "a", "b"], ascending=[True, True, False, True, True]
    )
    refusals = []
    next_label = labels.max() + 1
    for _, cluster_edges in ce.groupby("label", sort=True):
        roots, refused = _split_by_limits(cluster_edges, node_type, singular_values)
        refusals.extend(refused)
        # parts numbered in the order of their roots
        roots_of, part = np.unique(list(roots.values()), return_inverse=True)
        labels[list(roots)] = next_label + part
        next_label += len(roots_of)
    return labels, refusals
