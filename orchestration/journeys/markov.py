"""Channel attribution of cross-channel journeys: a first-order Markov chain, and rule-based models.

Markov attribution credits each channel by its removal effect: how much the probability of
converting from `start` drops when the channel is taken out of the journey graph. Unlike rule-based
models it credits channels for what they contribute across all paths, converting or not.

The chain has the states `start`, one per channel, and the absorbing states `conversion` and
`null` (dropped out). Each observed path start → c1 → … → cn → conversion|null adds its journey
count to every transition on it. P(conversion) is solved exactly from the absorbing-chain linear
system, not by simulation. Repeated touches of one channel (A, A) stay as self-loops.

The rule-based models (`rule_based_credits`) credit one converting path and exist to cross-check
the dbt attribution models row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from itertools import pairwise
from numbers import Real

import numpy as np
import pandas as pd

START = "start"
RULE_BASED_MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position_based")
POSITION_BASED_ENDS = 0.4  # share of the first and of the last touch; the middle shares the rest
ATTRIBUTION_COLUMNS = [
    "channel",
    "removal_effect",
    "share",
    "attributed_conversions",
    "attributed_revenue",
]


def markov_attribution(paths: pd.DataFrame) -> pd.DataFrame:
    """Credit conversions and revenue to channels by first-order Markov removal effects.

    `paths` has one row per distinct path: `path` (channel names in order), `conversions` and
    `non_conversions` (journey counts) and `revenue` (total revenue of the conversions). Credits are
    floats, not rounded to cents, so they sum to the totals up to float rounding. A channel that is
    never on a converting path gets a removal effect of 0 and no credit; with no conversions at all
    every channel gets 0.
    """
    _check_paths(paths)
    channels = sorted({channel for path in paths["path"] for channel in path})
    transient, to_conversion = _transition_probabilities(paths, channels)
    base = _conversion_probability(transient, to_conversion)
    removal_effects = pd.Series(
        [_removal_effect(transient, to_conversion, base, i + 1) for i in range(len(channels))],
        index=channels,
        dtype=float,
    )
    return credit_by_removal_effects(removal_effects, paths)


def credit_by_removal_effects(removal_effects: pd.Series, paths: pd.DataFrame) -> pd.DataFrame:
    """Each channel's share of the removal effects (channel -> effect) and that share of the
    conversions and revenue of `paths`."""
    channels = sorted(removal_effects.index)
    effects = removal_effects.reindex(channels).to_numpy(dtype=float)
    total_effect = effects.sum()
    shares = effects / total_effect if total_effect > 0 else np.zeros(len(channels))
    return pd.DataFrame(
        {
            "channel": channels,
            "removal_effect": effects,
            "share": shares,
            "attributed_conversions": shares * paths["conversions"].sum(),
            "attributed_revenue": shares * paths["revenue"].sum(),
        },
        columns=ATTRIBUTION_COLUMNS,
    )


def removal_effects_in_force(
    refitted: pd.Series, in_force: pd.Series | None, tolerance: float
) -> tuple[pd.Series, bool]:
    """The removal effects (channel -> effect) to credit with, and whether they are the refit.

    The effects in force stay while the refit has the same channels and moves none of them by
    more than `tolerance`: a day's journeys barely move a chain fitted on all of them, and every
    markov credit is computed again whenever the effects change. The drift is measured from the
    effects in force, so small nightly moves add up until they cross the tolerance."""
    if in_force is None or set(in_force.index) != set(refitted.index):
        return refitted, True
    move = largest_move(refitted, in_force)  # None only when both have no channel
    if move is not None and move > tolerance:
        return refitted, True
    return in_force.reindex(refitted.index), False


def largest_move(refitted: pd.Series, in_force: pd.Series | None) -> float | None:
    """The largest move of a channel's removal effect from those in force to the refit, over
    the channels both have (None on a first fit or with none in common)."""
    if in_force is None:
        return None
    move = (refitted - in_force.reindex(refitted.index)).abs().max()
    return None if pd.isna(move) else float(move)


def _check_paths(paths: pd.DataFrame) -> None:
    """Reject input that would silently distort the chain: empty paths and negative counts."""
    if any(len(path) == 0 for path in paths["path"]):
        raise ValueError("every path needs at least one channel touch")
    if (paths[["conversions", "non_conversions"]] < 0).any().any():
        raise ValueError("conversions and non_conversions must be non-negative")


def _transition_probabilities(
    paths: pd.DataFrame, channels: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Row-normalised transitions among transient states (0 = start, then channels) and into
    `conversion`. The mass missing from a row is the probability of dropping out to `null`."""
    index = {START: 0} | {channel: i + 1 for i, channel in enumerate(channels)}
    size = len(index)
    transient = np.zeros((size, size))
    to_conversion = np.zeros(size)
    to_null = np.zeros(size)
    for path, conversions, non_conversions in paths[
        ["path", "conversions", "non_conversions"]
    ].itertuples(index=False):
        states = [index[START]] + [index[channel] for channel in path]
        for source, target in pairwise(states):
            transient[source, target] += conversions + non_conversions
        to_conversion[states[-1]] += conversions
        to_null[states[-1]] += non_conversions
    outflow = transient.sum(axis=1) + to_conversion + to_null
    outflow[outflow == 0] = 1.0  # a state never left is never entered either: its row stays 0
    return transient / outflow[:, None], to_conversion / outflow


def _conversion_probability(transient: np.ndarray, to_conversion: np.ndarray) -> float:
    """P(absorbed in `conversion` | start) from (I − Q) x = R, the absorbing-chain equations.

    Every observed path ends in an absorbing state, so from every reachable state absorption is
    certain and I − Q is non-singular.
    """
    absorption = np.linalg.solve(np.eye(len(to_conversion)) - transient, to_conversion)
    return float(absorption[0])


def _removal_effect(
    transient: np.ndarray, to_conversion: np.ndarray, base: float, state: int
) -> float:
    """1 − P(conversion without the channel) / P(conversion); every move into it drops to null."""
    if base == 0:
        return 0.0
    without = transient.copy()
    without[:, state] = 0.0
    without[state, :] = 0.0  # unreachable now; zeroing keeps I − Q non-singular
    reduced_conversion = to_conversion.copy()
    reduced_conversion[state] = 0.0
    return 1.0 - _conversion_probability(without, reduced_conversion) / base


def rule_based_credits(
    touch_times: Sequence,
    conversion_time,
    revenue: float,
    model: str,
    half_life_days: float = 7,
) -> list[float]:
    """Credit `revenue` of one conversion to its touches, in the order given, by a rule.

    `touch_times` are in chronological order and not after `conversion_time`; they are datetimes
    (or Timestamps) or plain numbers of days. Models: first_touch, last_touch, linear,
    time_decay (weight 2^(−Δt / half_life_days), Δt = days from touch to conversion) and
    position_based (40% first, 40% last, 20% shared by the middle; 50/50 for two touches).
    """
    if model not in RULE_BASED_MODELS:
        raise ValueError(f"unknown model {model!r}, expected one of {RULE_BASED_MODELS}")
    gaps = [_days_between(touch, conversion_time) for touch in touch_times]
    _check_touches(gaps)
    weights = _rule_weights(model, gaps, half_life_days)
    return [revenue * weight / sum(weights) for weight in weights]


def _days_between(earlier, later) -> float:
    gap = later - earlier
    if isinstance(gap, Real):
        return float(gap)
    return pd.Timedelta(gap) / timedelta(days=1)


def _check_touches(gaps: list[float]) -> None:
    if not gaps:
        raise ValueError("a conversion needs at least one touch to credit")
    if min(gaps) < 0:
        raise ValueError("touches must not be after the conversion")
    if any(later > earlier for earlier, later in pairwise(gaps)):
        raise ValueError("touch_times must be in chronological order")


def _rule_weights(model: str, gaps: list[float], half_life_days: float) -> list[float]:
    """Unnormalised weight per touch; `gaps` are days before the conversion."""
    count = len(gaps)
    match model:
        case "first_touch":
            return [1.0] + [0.0] * (count - 1)
        case "last_touch":
            return [0.0] * (count - 1) + [1.0]
        case "linear":
            return [1.0] * count
        case "time_decay":
            # measured from the latest touch: same shares, but no underflow on very old touches
            return [2.0 ** (-(gap - min(gaps)) / half_life_days) for gap in gaps]
        case "position_based":
            return _position_based_weights(count)


def _position_based_weights(count: int) -> list[float]:
    if count <= 2:
        return [1.0] * count
    middle = (1.0 - 2 * POSITION_BASED_ENDS) / (count - 2)
    return [POSITION_BASED_ENDS] + [middle] * (count - 2) + [POSITION_BASED_ENDS]
