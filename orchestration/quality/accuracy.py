"""Data accuracy: the share of rows that pass every row-level rule, judged against the target.

A day with 20 rows and one bad one is 95% valid by arithmetic but says little about the source;
a day with 5,000 rows at 97% says a lot. So a share fails the target only when it is below it with
confidence: when the Wilson score interval's upper bound is under the target.

A run judges every export day and all of them together. Judging 180 days x 16 sources at 95%
would raise false alarms on healthy data several times a night, so a single day is judged at
99.9% (one-sided) and only from `MIN_ROWS_PER_DAY` rows; the run's rows together are judged at
95%. A 5%-corrupt day of 1,000 rows fails on its own; a source 3% corrupt every day fails on the
run total.
"""

from __future__ import annotations

import math

RUN_Z = 1.96  # 95% two-sided
DAY_Z = 3.09  # 99.9% one-sided
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


def day_below_target(valid: int, total: int, target: float) -> bool:
    return total >= MIN_ROWS_PER_DAY and below_target(valid, total, target, DAY_Z)
