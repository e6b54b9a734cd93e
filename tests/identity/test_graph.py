"""Identity resolution on hand-built graphs, each case derived by hand."""

from __future__ import annotations

import pandas as pd

from orchestration.identity.graph import ResolutionRules, resolve
from orchestration.identity.normalise import canonical_identifier, canonical_phone, simplified_name
from orchestration.identity.stable_ids import assign_customer_ids


def graph(*records: list[tuple[str, str]]):
    """Each record is the identifiers seen together in one row of some export."""
    ids, edges = set(), []
    for record in records:
        ids.update(record)
        edges += [(*record[0], *other, 1) for other in record[1:]]
    identifiers = pd.DataFrame(sorted(ids), columns=["identity_type", "identity_value"])
    edge_frame = pd.DataFrame(
        edges, columns=["type_a", "value_a", "type_b", "value_b", "n_records"]
    )
    return identifiers, edge_frame


def customers(resolution) -> set[frozenset[str]]:
    a = resolution.assignments[resolution.assignments.cluster >= 0]
    return {frozenset(g.identity_type + ":" + g.identity_value) for _, g in a.groupby("cluster")}


STORE_PHONE = ("phone", "+862155550001")


def test_strangers_sharing_the_store_phone_stay_apart():
    identifiers, edges = graph(
        [("member_id", "M1"), STORE_PHONE],
        [("member_id", "M2"), STORE_PHONE],
        [("unionid", "oU3"), STORE_PHONE],
    )
    blocked = pd.DataFrame(
        [(*STORE_PHONE, "store_phone")], columns=["identity_type", "identity_value", "reason"]
    )
    result = resolve(identifiers, edges, blocked)
    assert customers(result) == {
        frozenset({"member_id:M1"}),
        frozenset({"member_id:M2"}),
        frozenset({"unionid:oU3"}),
    }
    [guard] = result.guard_events.itertuples()
    assert (guard.identity_value, guard.guard, guard.detail) == (
        "+862155550001",
        "blocked",
        "store_phone",
    )


def test_a_phone_keyed_in_for_many_members_is_shared_even_if_not_listed():
    records = [[("member_id", f"M{i}"), ("phone", "+8613900000000")] for i in range(6)]
    result = resolve(*graph(*records), rules=ResolutionRules(shared_min_links=5))
    assert customers(result) == {frozenset({f"member_id:M{i}"}) for i in range(6)}
    statuses = result.assignments.set_index("identity_value").status
    assert statuses["+8613900000000"] == "shared"


def test_family_phone_with_two_member_ids_merges_neither_and_stays_its_own_customer():
    family_phone = ("phone", "+8613800000001")
    result = resolve(
        *graph(
            [("member_id", "M1"), family_phone, ("unionid", "oMum")],
            [("member_id", "M2"), family_phone],
            [("member_id", "M1"), ("unionid", "oMum")],
        )
    )
    assert customers(result) == {
        frozenset({"member_id:M1", "unionid:oMum"}),
        frozenset({"member_id:M2"}),
        frozenset({"phone:+8613800000001"}),
    }
    assert result.assignments.set_index("identity_value").status[family_phone[1]] == "ambiguous"


def test_five_hop_chain_converges_to_one_customer():
    chain = [
        ("member_id", "M1"),
        ("phone", "+8613800000002"),
        ("unionid", "oA"),
        ("openid", "op1"),
        ("device_id", "D1"),
    ]
    records = [[chain[i], chain[i + 1]] for i in range(len(chain) - 1)]
    assert customers(resolve(*graph(*records))) == {frozenset(f"{t}:{v}" for t, v in chain)}


def test_weak_chain_joining_two_members_is_cut_at_its_weakest_link():
    # M1 - phone P1 - device D - phone P2 - M2: each phone sees one member, the device joins them.
    result = resolve(
        *graph(
            [("member_id", "M1"), ("phone", "+8613800000003")],
            [("member_id", "M2"), ("phone", "+8613800000004")],
            [("phone", "+8613800000003"), ("device_id", "D")],
            [("phone", "+8613800000004"), ("device_id", "D")],
        )
    )
    clusters = customers(result)
    assert (
        frozenset({"member_id:M1", "phone:+8613800000003", "device_id:D"}) in clusters
        or frozenset({"member_id:M2", "phone:+8613800000004", "device_id:D"}) in clusters
    )
    assert not any({"member_id:M1", "member_id:M2"} <= c for c in clusters)
    assert result.guard_events.guard.str.startswith("cluster_limit:member_id").sum() == 1


def _mapping(resolution, previous=None):
    previous = (
        previous if previous is not None else pd.DataFrame(columns=["identity_key", "customer_id"])
    )
    mapping, history = assign_customer_ids(resolution.assignments, previous)
    return mapping.set_index("identity_key").customer_id, history


def test_customer_keeps_its_id_when_a_new_day_adds_identifiers():
    day1 = resolve(*graph([("member_id", "M1"), ("phone", "+8613800000005")]))
    ids1, history1 = _mapping(day1)
    previous = ids1.rename("customer_id").reset_index()
    day2 = resolve(
        *graph(
            [("member_id", "M1"), ("phone", "+8613800000005")],
            [("phone", "+8613800000005"), ("unionid", "oNew")],
        )
    )
    ids2, history2 = _mapping(day2, previous)
    assert ids2["unionid:oNew"] == ids2["member_id:M1"] == ids1["member_id:M1"]
    assert list(history1.event) == ["created"]
    assert history2.empty


def test_merge_and_split_are_recorded():
    day1 = resolve(*graph([("member_id", "M1")], [("phone", "+8613800000006")]))
    ids1, _ = _mapping(day1)
    day2 = resolve(*graph([("member_id", "M1"), ("phone", "+8613800000006")]))
    ids2, history = _mapping(day2, ids1.rename("customer_id").reset_index())
    assert ids2.nunique() == 1 and ids2.iloc[0] in set(ids1)
    [merged] = history.itertuples()
    assert merged.event == "merged" and {merged.customer_id, merged.related_customer_id} == set(
        ids1
    )


def test_ids_are_reproducible_from_scratch():
    g = graph([("member_id", "M1"), ("phone", "+8613800000007")], [("unionid", "oZ")])
    assert _mapping(resolve(*g))[0].equals(_mapping(resolve(*g))[0])


def test_canonical_forms():
    for raw in ("+86 138 0013 8000", "8613800138000", "138-0013-8000", "１３８００１３８０００"):
        assert canonical_phone(raw) == ("+8613800138000", "valid")
    assert canonical_phone("138****8000") == (None, "masked")
    assert canonical_phone("00000000000")[1] == "invalid"
    assert canonical_identifier("member_id", " m00012345 ") == "M00012345"
    assert simplified_name("張 偉") == "张伟"


def test_pairwise_accuracy_on_a_hand_counted_case():
    from orchestration.identity.accuracy import pairwise_accuracy

    # Truth: P1 owns a, b, c; P2 owns d. Records link a-b, b-c (P1) and c-d (across persons).
    truth = pd.DataFrame(
        [("t", "a", "P1"), ("t", "b", "P1"), ("t", "c", "P1"), ("t", "d", "P2")],
        columns=["identity_type", "identity_value", "person_id"],
    )
    edges = pd.DataFrame(
        [("t", "a", "t", "b"), ("t", "b", "t", "c"), ("t", "c", "t", "d")],
        columns=["type_a", "value_a", "type_b", "value_b"],
    )
    # Predicted: {a, b} and {c, d}. Predicted pairs: ab, cd -> 1 of 2 true: precision 0.5.
    # Linkable P1 pairs: ab, ac, bc (3); found together: ab only -> recall 1/3.
    predicted = pd.DataFrame(
        [("t", "a", "C1"), ("t", "b", "C1"), ("t", "c", "C2"), ("t", "d", "C2")],
        columns=["identity_type", "identity_value", "customer_id"],
    )
    result = pairwise_accuracy(predicted, truth, edges)
    assert (result["precision"], result["linkable_pairs"]) == (0.5, 3)
    assert abs(result["recall"] - 1 / 3) < 1e-12


def test_a_phone_keyed_in_under_two_names_merges_nobody():
    from orchestration.identity.assets import household_phones

    phone = ("phone", "+8613800000009")
    names = pd.DataFrame({"phone": [phone[1]] * 3, "name_raw": ["張偉", "张伟", "李娜"]})
    households = household_phones(names)  # 張偉 and 张伟 are one name in two scripts
    assert households.reason.tolist() == ["2 distinct names"]
    result = resolve(
        *graph([("member_id", "M1"), phone], [("unionid", "oX"), phone]), households=households
    )
    assert customers(result) == {
        frozenset({"member_id:M1"}),
        frozenset({"unionid:oX"}),
        frozenset({"phone:" + phone[1]}),
    }
