"""Identifier types, merge priorities and singularity: read from the dbt seed, defined once."""

from __future__ import annotations

import csv
from functools import lru_cache

from orchestration import settings

IDENTITY_TYPES_SEED = settings.DBT_PROJECT_DIR / "seeds" / "identity_types.csv"


@lru_cache(maxsize=1)
def identity_types() -> dict[str, dict]:
    with IDENTITY_TYPES_SEED.open(encoding="utf-8") as fh:
        return {
            row["identity_type"]: {
                "priority": int(row["priority"]),
                "is_singular": row["is_singular"].strip().lower() == "true",
            }
            for row in csv.DictReader(fh)
        }


def priorities() -> dict[str, int]:
    return {t: spec["priority"] for t, spec in identity_types().items()}


def singular_types() -> tuple[str, ...]:
    return tuple(t for t, spec in identity_types().items() if spec["is_singular"])
