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

Components are computed by scipy to convergence, however long the chains. The graph itself is
numbered: identifiers are nodes 0..n-1 (in identity_type, identity_value order) and their types
small integer codes, so the resolution works on integer arrays only (`resolve_graph`); `resolve`
numbers a graph given as DataFrames, the identity asset numbers it in DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from orchestration.identity import types

NO_CLUSTER = -1
# Statuses by code: resolve_graph returns the code of each node's.
STATUSES = ("resolved", "blocked", "shared", "ambiguous")


@dataclass(frozen=True)
class ResolutionRules:
    """Merge guards. Priorities (lower is stronger; an edge is as strong as its weaker end) and
    singular types come from the `identity_types` dbt seed."""

    singular_types: tuple[str, ...] = field(default_factory=types.singular_types)
    shared_min_links: int = 5
    priorities: dict[str, int] = field(default_factory=types.priorities)


@dataclass
class NumberedGraph:
    """Nodes 0..n-1 with their type codes (into `type_names`), the edges between them, and the
    nodes other evidence guards: blocked (listed) and households (keyed in under two names)."""

    type_names: tuple[str, ...]
    node_type: np.ndarray  # type code of each node
    a: np.ndarray
    b: np.ndarray
    n_records: np.ndarray
    blocked: pd.DataFrame = field(default_factory=lambda: _node_reasons())  # node, reason
    households: pd.DataFrame = field(default_factory=lambda: _node_reasons())  # node, reason


@dataclass
class GraphResolution:
    cluster: np.ndarray  # per node; NO_CLUSTER for blocked and shared nodes
    status: np.ndarray  # per node, a code into STATUSES
    # node, guard, detail and, for a refused link, the node at its other end (else -1)
    guard_events: pd.DataFrame


@dataclass
class Resolution:
    assignments: pd.DataFrame  # identity_type, identity_value, cluster (int, -1 = none), status
    guard_events: pd.DataFrame  # identity_type, identity_value, guard, detail


def _node_reasons() -> pd.DataFrame:
    return pd.DataFrame({"node": np.array([], dtype=np.int64), "reason": []})


def _link_counts(e: pd.DataFrame, node_type: np.ndarray, singular: np.ndarray) -> pd.DataFrame:
    """For every node, how many distinct neighbours of each singular type it has."""
    both = pd.DataFrame(
        {"a": np.concatenate([e.a, e.b]), "b": np.concatenate([e.b, e.a])}
    ).drop_duplicates()
    both["neighbour_type"] = node_type[both.b.to_numpy()]
    both = both[np.isin(both.neighbour_type.to_numpy(), singular)]
    both = both[node_type[both.a.to_numpy()] != both.neighbour_type.to_numpy()]
    return both.groupby(["a", "neighbour_type"]).size().rename("links").reset_index()


def _guarded_nodes(g: NumberedGraph, e: pd.DataFrame, rules: ResolutionRules) -> pd.DataFrame:
    """node, guard, detail for every blocked, shared or ambiguous identifier."""
    singular = np.flatnonzero(np.isin(np.array(g.type_names), rules.singular_types))
    links = _link_counts(e, g.node_type, singular)
    links = links[links.links >= 2]
    shared = links.links >= rules.shared_min_links
    neighbour_type = np.array(g.type_names, dtype=object)[links.neighbour_type.to_numpy()]
    guarded = pd.concat(
        [
            pd.DataFrame({"node": g.blocked.node, "guard": "blocked", "detail": g.blocked.reason}),
            pd.DataFrame(
                {"node": g.households.node, "guard": "ambiguous", "detail": g.households.reason}
            ),
            pd.DataFrame(
                {
                    "node": links.a.to_numpy(),
                    "guard": np.where(shared, "shared", "ambiguous"),
                    "detail": links.links.astype(str).to_numpy() + " distinct " + neighbour_type,
                }
            ),
        ],
        ignore_index=True,
    )
    # blocked beats shared beats ambiguous when several apply to one node
    order = guarded.guard.map({"blocked": 0, "shared": 1, "ambiguous": 2})
    return (
        guarded.assign(_o=order)
        .sort_values(["node", "_o"])
        .drop_duplicates("node")
        .drop(columns="_o")
        .astype({"node": np.int64})
    )


def _find(parent: dict, x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def _split_by_limits(cluster_edges, node_type, is_singular) -> tuple[dict, list]:
    """Strongest-first union-find within one over-full component; returns node->root, refusals.
    Each part holds at most one node of each singular type (a node is one value of its type)."""
    members = pd.unique(cluster_edges[["a", "b"]].to_numpy().ravel())
    parent = {int(n): int(n) for n in members}
    held = {int(n): ({int(node_type[n]): int(n)} if is_singular[n] else {}) for n in members}
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


def _enforce_limits(g: NumberedGraph, kept: pd.DataFrame, labels, rules):
    is_singular = np.isin(np.array(g.type_names), rules.singular_types)[g.node_type]
    singular = pd.DataFrame({"label": labels[is_singular], "type": g.node_type[is_singular]})
    per_label = singular.groupby(["label", "type"]).size()
    over_full = per_label[per_label > 1].index.get_level_values("label").unique()
    if len(over_full) == 0:
        return labels, []
    labels = labels.copy()
    weight = np.array([rules.priorities.get(t, 99) for t in g.type_names])[g.node_type]
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
        roots, refused = _split_by_limits(cluster_edges, g.node_type, is_singular)
        refusals.extend(refused)
        # parts numbered in the order of their roots
        roots_of, part = np.unique(list(roots.values()), return_inverse=True)
        labels[list(roots)] = next_label + part
        next_label += len(roots_of)
    return labels, refusals


def resolve_graph(g: NumberedGraph, rules: ResolutionRules | None = None) -> GraphResolution:
    """Cluster the nodes of a numbered graph into customers. See the module docstring."""
    rules = rules or ResolutionRules()
    n = len(g.node_type)
    e = pd.DataFrame({"a": g.a, "b": g.b, "n_records": g.n_records})
    e = e[e.a != e.b]
    guarded = _guarded_nodes(g, e, rules)
    excluded = guarded.node.to_numpy()
    kept = e[~e.a.isin(excluded) & ~e.b.isin(excluded)]

    graph = coo_matrix((np.ones(len(kept)), (kept.a, kept.b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)

    labels, refusals = _enforce_limits(g, kept, labels, rules)
    status = np.zeros(n, dtype=np.int8)
    status[excluded] = guarded.guard.map({s: i for i, s in enumerate(STATUSES)}).to_numpy()
    cluster = labels.astype(np.int64)
    cluster[np.isin(status, [STATUSES.index("blocked"), STATUSES.index("shared")])] = NO_CLUSTER

    type_names = np.array(g.type_names, dtype=object)
    guard_events = pd.concat(
        [
            guarded.assign(refused_node=np.int64(-1)),
            pd.DataFrame(
                {
                    "node": np.array([a for a, _, _ in refusals], dtype=np.int64),
                    "guard": [f"cluster_limit:{type_names[t]}" for _, _, t in refusals],
                    "detail": [
                        f"refused link to {type_names[g.node_type[b]]}" for _, b, _ in refusals
                    ],
                    "refused_node": np.array([b for _, b, _ in refusals], dtype=np.int64),
                }
            ),
        ],
        ignore_index=True,
    )
    return GraphResolution(cluster, status, guard_events)


def _numbered(identifiers, edges, blocked, households) -> tuple[pd.DataFrame, NumberedGraph]:
    nodes = identifiers[["identity_type", "identity_value"]].drop_duplicates()
    nodes = nodes.sort_values(["identity_type", "identity_value"], ignore_index=True)
    nodes["node"] = np.arange(len(nodes))
    codes, type_names = pd.factorize(nodes.identity_type, sort=True)
    idx = nodes.set_index(["identity_type", "identity_value"])["node"]
    a = idx.reindex(pd.MultiIndex.from_frame(edges[["type_a", "value_a"]])).to_numpy()
    b = idx.reindex(pd.MultiIndex.from_frame(edges[["type_b", "value_b"]])).to_numpy()
    e = pd.DataFrame({"a": a, "b": b, "n_records": edges["n_records"].to_numpy()}).dropna()

    def node_reasons(frame: pd.DataFrame) -> pd.DataFrame:
        matched = nodes.merge(frame, on=["identity_type", "identity_value"])
        return matched[["node", "reason"]].reset_index(drop=True)

    graph = NumberedGraph(
        type_names=tuple(type_names),
        node_type=codes.astype(np.int16),
        a=e.a.to_numpy(np.int64),
        b=e.b.to_numpy(np.int64),
        n_records=e.n_records.to_numpy(),
        blocked=node_reasons(blocked),
        households=node_reasons(households),
    )
    return nodes, graph


def resolve(
    identifiers: pd.DataFrame,
    edges: pd.DataFrame,
    blocked: pd.DataFrame | None = None,
    rules: ResolutionRules | None = None,
    households: pd.DataFrame | None = None,
) -> Resolution:
    """`resolve_graph` on a graph given by value: identifiers (identity_type, identity_value),
    edges (type_a, value_a, type_b, value_b, n_records), blocked identifiers (..., reason).

    `households` (identity_type, identity_value, reason) lists identifiers known from other
    evidence to be used by several people (a phone keyed in under two different names): they are
    ambiguous, like one seen with two members."""
    empty = pd.DataFrame(columns=["identity_type", "identity_value", "reason"])
    nodes, graph = _numbered(
        identifiers,
        edges,
        blocked if blocked is not None else empty,
        households if households is not None else empty,
    )
    result = resolve_graph(graph, rules)
    node_type, node_value = nodes.identity_type.to_numpy(), nodes.identity_value.to_numpy()
    events = result.guard_events
    refused = events.refused_node.to_numpy()
    detail = events.detail.to_numpy(dtype=object).copy()
    is_refusal = refused >= 0
    detail[is_refusal] = detail[is_refusal] + " " + node_value[refused[is_refusal]]
    guard_events = pd.DataFrame(
        {
            "identity_type": node_type[events.node.to_numpy()],
            "identity_value": node_value[events.node.to_numpy()],
            "guard": events.guard.to_numpy(),
            "detail": detail,
        }
    )
    assignments = nodes.assign(
        cluster=result.cluster, status=np.array(STATUSES, dtype=object)[result.status]
    ).drop(columns="node")
    return Resolution(assignments, guard_events)
