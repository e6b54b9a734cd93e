"""Markov removal-effect attribution and rule-based credits, against numbers worked out by hand."""

from datetime import datetime, timedelta

import pandas as pd
import pytest

from orchestration.journeys.markov import (
    ATTRIBUTION_COLUMNS,
    credit_by_removal_effects,
    markov_attribution,
    removal_effects_in_force,
    rule_based_credits,
)


def paths_frame(*rows: tuple[list[str], int, int, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["path", "conversions", "non_conversions", "revenue"])


def by_channel(attribution: pd.DataFrame) -> pd.DataFrame:
    return attribution.set_index("channel")


# Graph 1: [A] converts ×1, [A, B] converts ×1, [B] drops ×1.
#   start → A 2/3, start → B 1/3;  A → conversion 1/2, A → B 1/2;  B → conversion 1/2, B → null 1/2
#   P_B = 1/2;  P_A = 1/2 + 1/2 · P_B = 3/4;  P(conv) = 2/3 · 3/4 + 1/3 · 1/2 = 2/3
#   without A (start → A goes to null): P = 1/3 · 1/2 = 1/6          → RE_A = 1 − (1/6)/(2/3) = 3/4
#   without B (A → B, start → B go to null): P_A = 1/2, P = 2/3 · 1/2 = 1/3 → RE_B = 1 − 1/2 = 1/2
#   shares: A = (3/4)/(5/4) = 0.6, B = 0.4; 2 conversions worth 30 + 50 = 80
GRAPH_1 = paths_frame((["A"], 1, 0, 30.0), (["A", "B"], 1, 0, 50.0), (["B"], 0, 1, 0.0))


def test_removal_effects_on_a_simple_graph():
    result = by_channel(markov_attribution(GRAPH_1))
    assert result["removal_effect"].to_dict() == pytest.approx({"A": 3 / 4, "B": 1 / 2})
    assert result["share"].to_dict() == pytest.approx({"A": 0.6, "B": 0.4})
    assert result["attributed_conversions"].to_dict() == pytest.approx({"A": 1.2, "B": 0.8})
    assert result["attributed_revenue"].to_dict() == pytest.approx({"A": 48.0, "B": 32.0})


def test_credits_by_given_removal_effects_share_the_paths_totals():
    # effects A 0.3, B 0.1 -> shares 0.75 / 0.25 of Graph 1's 2 conversions and 80 CNY
    result = by_channel(credit_by_removal_effects(pd.Series({"B": 0.1, "A": 0.3}), GRAPH_1))
    assert list(result.index) == ["A", "B"]
    assert result["share"].to_dict() == pytest.approx({"A": 0.75, "B": 0.25})
    assert result["attributed_conversions"].to_dict() == pytest.approx({"A": 1.5, "B": 0.5})
    assert result["attributed_revenue"].to_dict() == pytest.approx({"A": 60.0, "B": 20.0})


IN_FORCE = pd.Series({"A": 0.75, "B": 0.5})


@pytest.mark.parametrize(
    ("refitted", "in_force", "tolerance", "kept"),
    [
        ({"A": 0.752, "B": 0.497}, IN_FORCE, 0.005, True),  # moved 0.002 and 0.003
        ({"A": 0.752, "B": 0.494}, IN_FORCE, 0.005, False),  # B moved 0.006
        ({"A": 0.75, "B": 0.5}, IN_FORCE, 0.0, True),  # no move at all
        ({"A": 0.751, "B": 0.5}, IN_FORCE, 0.0, False),  # tolerance 0 adopts any move
        ({"A": 0.75, "B": 0.5, "C": 0.0}, IN_FORCE, 1.0, False),  # a new channel
        ({"A": 0.75}, IN_FORCE, 1.0, False),  # a channel gone
        ({"A": 0.75, "B": 0.5}, None, 1.0, False),  # the first fit
    ],
)
def test_removal_effects_stay_in_force_until_a_refit_moves_one_beyond_the_tolerance(
    refitted, in_force, tolerance, kept
):
    refit = pd.Series(refitted)
    effects, adopted = removal_effects_in_force(refit, in_force, tolerance)
    assert adopted is not kept
    expected = in_force if kept else refit
    assert effects.to_dict() == expected.to_dict()


# Graph 2, with a loop A → B → A and a channel C that never leads to a conversion:
#   [A, B, A] converts ×1 (revenue 90), [A, B] drops ×1, [B] converts ×1 (revenue 45), [C] drops ×2.
#   start → A 2/5, start → B 1/5, start → C 2/5
#   A → B 2/3, A → conversion 1/3;  B → A 1/3, B → null 1/3, B → conversion 1/3;  C → null 1
#   P_A = 1/3 + 2/3 · P_B,  P_B = 1/3 + 1/3 · P_A  ⇒  7/9 · P_A = 5/9  ⇒  P_A = 5/7, P_B = 4/7
#   P(conv) = 2/5 · 5/7 + 1/5 · 4/7 = 14/35 = 2/5 (= 2 conversions out of 5 journeys)
#   without A: P_B = 1/3, P = 1/5 · 1/3 = 1/15  → RE_A = 1 − (1/15)/(2/5) = 5/6
#   without B: P_A = 1/3, P = 2/5 · 1/3 = 2/15  → RE_B = 1 − (2/15)/(2/5) = 2/3
#   without C: nothing changes                   → RE_C = 0
#   shares: A = (5/6)/(3/2) = 5/9, B = 4/9, C = 0; revenue 135 → A 75, B 60
GRAPH_2 = paths_frame(
    (["A", "B", "A"], 1, 0, 90.0),
    (["A", "B"], 0, 1, 0.0),
    (["B"], 1, 0, 45.0),
    (["C"], 0, 2, 0.0),
)


def test_removal_effects_on_a_graph_with_a_loop():
    result = by_channel(markov_attribution(GRAPH_2))
    assert result["removal_effect"].to_dict() == pytest.approx({"A": 5 / 6, "B": 2 / 3, "C": 0})
    assert result["share"].to_dict() == pytest.approx({"A": 5 / 9, "B": 4 / 9, "C": 0})
    assert result["attributed_revenue"].to_dict() == pytest.approx({"A": 75, "B": 60, "C": 0})


def test_channel_never_on_a_converting_path_gets_nothing():
    result = by_channel(markov_attribution(GRAPH_2)).loc["C"]
    assert result["attributed_conversions"] == 0
    assert result["attributed_revenue"] == 0


@pytest.mark.parametrize("paths", [GRAPH_1, GRAPH_2], ids=["graph_1", "graph_2_loop"])
def test_credits_sum_to_totals(paths):
    result = markov_attribution(paths)
    assert list(result.columns) == ATTRIBUTION_COLUMNS
    assert result["share"].sum() == pytest.approx(1.0)
    assert result["attributed_conversions"].sum() == pytest.approx(paths["conversions"].sum())
    assert result["attributed_revenue"].sum() == pytest.approx(paths["revenue"].sum())


def test_repeated_touches_are_a_self_loop():
    """[A, A] converts ×1, [B] drops ×1: A → A 1/2, A → conversion 1/2, so P_A = 1 and
    P(conv) = 1/2; removing A gives 0 (RE_A = 1) and removing B changes nothing (RE_B = 0)."""
    result = by_channel(markov_attribution(paths_frame((["A", "A"], 1, 0, 10.0), (["B"], 0, 1, 0))))
    assert result["removal_effect"].to_dict() == pytest.approx({"A": 1.0, "B": 0.0})


def test_no_conversions_credits_nothing():
    result = markov_attribution(paths_frame((["A", "B"], 0, 3, 0.0), (["B"], 0, 1, 0.0)))
    assert (result[["removal_effect", "share", "attributed_revenue"]] == 0).all().all()


def test_empty_path_is_rejected():
    with pytest.raises(ValueError, match="at least one channel"):
        markov_attribution(paths_frame(([], 1, 0, 10.0)))


# One path: touches on days 0, 5 and 10, conversion on day 10, revenue 100.
DAY_0 = datetime(2024, 3, 1)
TOUCHES = [DAY_0, DAY_0 + timedelta(days=5), DAY_0 + timedelta(days=10)]
CONVERSION = DAY_0 + timedelta(days=10)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("first_touch", [100, 0, 0]),
        ("last_touch", [0, 0, 100]),
        ("linear", [100 / 3, 100 / 3, 100 / 3]),
        ("position_based", [40, 20, 40]),
        # Δt = 10, 5, 0 days; weights 2^(−10/7) = 0.371499, 2^(−5/7) = 0.609507, 2^0 = 1;
        # sum 1.981006 → 18.7531, 30.7676, 50.4794
        ("time_decay", [18.7531, 30.7676, 50.4794]),
    ],
)
def test_rule_based_credits_on_three_touches(model, expected):
    credits = rule_based_credits(TOUCHES, CONVERSION, 100.0, model, half_life_days=7)
    assert credits == pytest.approx(expected, abs=1e-4)
    assert sum(credits) == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("touches", "expected"),
    [([3.0], [100.0]), ([1.0, 4.0], [50.0, 50.0]), ([0, 1, 2, 3], [40, 10, 10, 40])],
)
def test_position_based_with_few_or_many_touches(touches, expected):
    assert rule_based_credits(touches, 5.0, 100.0, "position_based") == pytest.approx(expected)


def test_time_decay_halves_per_half_life_with_numeric_days():
    """Touches 7 days apart with a 7-day half-life weigh 1/2 : 1 → 1/3 and 2/3 of revenue."""
    assert rule_based_credits([0, 7], 7, 90.0, "time_decay") == pytest.approx([30.0, 60.0])


def test_time_decay_survives_very_old_touches():
    credits = rule_based_credits([0, 20_000], 20_000, 10.0, "time_decay")
    assert credits == pytest.approx([0.0, 10.0])


def test_pandas_timestamps_are_accepted():
    touches = [pd.Timestamp(t) for t in TOUCHES]
    credits = rule_based_credits(touches, pd.Timestamp(CONVERSION), 100.0, "time_decay")
    assert credits == pytest.approx([18.7531, 30.7676, 50.4794], abs=1e-4)


@pytest.mark.parametrize(
    ("touches", "conversion", "model", "message"),
    [
        ([], 1.0, "linear", "at least one touch"),
        ([0, 5], 3.0, "linear", "after the conversion"),
        ([5, 1], 6.0, "linear", "chronological"),
        ([1], 2.0, "u_shaped", "unknown model"),
    ],
)
def test_rule_based_credits_reject_bad_input(touches, conversion, model, message):
    with pytest.raises(ValueError, match=message):
        rule_based_credits(touches, conversion, 10.0, model)
