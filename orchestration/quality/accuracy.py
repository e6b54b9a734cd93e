"""Data accuracy: the share of rows that pass every row-level rule, judged against the target.

A day with 20 rows and one bad one is 95% valid by arithmetic but says little about the source;
a day with 5,000 rows at 97% says a lot. So a share fails the target only when it is below it with
confidence: when the Wilson score interval's upper bound is under the target.

A run judges every export day and all of them together. Days are many small tests: judged each at
95%, a 180-day backfill of 16 sources would raise false alarms on healthy data every time. So the
days of one run share a family-wise error rate of 0.1% (Bonferroni: a nightly run of one day
judges it at 99.9% one-sided, a 180-day backfill each day at 99.9994%), and a day is judged alone
only from `MIN_ROWS_PER_DAY` rows. The run's rows together are judged at 95%. A half-corrupt day
fails on its own; a source 3% corrupt every day fails on the run total.
"""

from __future__ import annotations

import math
from statistics import NormalDist

RUN_Z = 1.96  # 95% two-sided
DAYS_FAMILY_ERROR_RATE = 0.001
MIN_ROWS_PER_DAY = 50


def wilson_upper_bound(valid: int, total: int, z: float = RUN_Z) -> float:
    if total == 0:
        return 1.0
    p = valid / total
    denominator = 1 + z * z / total
    centre = p + z * z / (2 * total)
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return (centre + margin) / denominator


def below_target(valid: int, total: int, target: float, z: float = RUN_Z) -> bool:
    """True when the valid share is below `target` with the confidence that `z` gives."""
    return wilson_upper_bound(valid, total, z) < target


def day_z(days_judged: int) -> float:
    """One-sided z for each of `days_judged` days, keeping the family-wise error rate."""
    return NormalDist().inv_cdf(1 - DAYS_FAMILY_ERROR_RATE / max(days_judged, 1))


def day_below_target(valid: int, total: int, target: float, days_judged: int = 1) -> bool:
    return total >= MIN_ROWS_PER_DAY and below_target(valid, total, target, day_z(days_judged))
