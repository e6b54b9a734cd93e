"""Data accuracy: the share of rows that pass every row-level rule, judged against the target.

A day with 20 rows and one bad one is 95% valid by arithmetic but says little about the source;
a day with 5,000 rows at 97% says a lot. So a share fails the target only when it is below it with
95% confidence: when the Wilson score interval's upper bound is under the target. Large corrupted
partitions fail at once; small ones fail when the evidence is clear.
"""

from __future__ import annotations

import math

CONFIDENCE_Z = 1.96


def wilson_upper_bound(valid: int, total: int, z: float = CONFIDENCE_Z) -> float:
    if total == 0:
        return 1.0
    p = valid / total
    denominator = 1 + z * z / total
    centre = p + z * z / (2 * total)
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return (centre + margin) / denominator


def below_target(valid: int, total: int, target: float) -> bool:
    """True when the valid share is below `target` with 95% confidence."""
    return wilson_upper_bound(valid, total) < target
