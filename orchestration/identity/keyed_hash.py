"""Keyed hashes (HMAC-SHA256) of identifiers: what analyst-facing marts carry instead of raw ids.

The key comes from PII_HASH_KEY. Only a landing zone made by the sample-world generator (it leaves
a `.sample_world` marker) may fall back to the published development key; any other run without a
key stops with an error rather than hash with a key everyone knows.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import pandas as pd

from orchestration.warehouse_tables import registered

SAMPLE_WORLD_MARKER = ".sample_world"
DEVELOPMENT_KEY = "omnichannel-sample-world-development-key"


class MissingHashKeyError(RuntimeError):
    pass


def hashing_key(landing: Path) -> bytes:
    key = os.environ.get("PII_HASH_KEY")
    if key:
        return key.encode()
    if (landing / SAMPLE_WORLD_MARKER).exists():
        return DEVELOPMENT_KEY.encode()
    raise MissingHashKeyError(
        f"PII_HASH_KEY is not set and {landing} is not a generated sample world: set PII_HASH_KEY "
        "to a secret of at least 32 characters before building a warehouse from real exports."
    )


def keyed_hash(values: pd.Series, key: bytes) -> pd.Series:
    digest = hashlib.sha256
    return values.map(lambda v: hmac.new(key, v.encode(), digest).hexdigest()[:32])


def _made_with(conn, known: str, key: bytes) -> bool:
    """Whether the hashes of `known` were made with `key`, judged on the smallest key's."""
    sample = conn.execute(
        f"SELECT identity_key, identity_hash FROM {known} WHERE identity_hash IS NOT NULL "
        "ORDER BY identity_key LIMIT 1"
    ).fetchall()
    return bool(sample) and keyed_hash(pd.Series([sample[0][0]]), key).iloc[0] == sample[0][1]


def with_keyed_hashes(conn, table: str, out: str, key: bytes, known: str | None) -> int:
    """Create temp table `out`: `table` plus identity_hash, the keyed hash of its identity_key,
    taken from `known` (a relation of identity_key, identity_hash) where it holds one made with
    this same key, computed otherwise: HMAC in Python costs seconds per million values, so only
    keys new to `known` are hashed. Returns how many were."""
    reused = (
        f"SELECT identity_key, any_value(identity_hash) AS identity_hash FROM {known} "
        "GROUP BY identity_key"
        if known is not None and _made_with(conn, known, key)
        else "SELECT NULL::VARCHAR AS identity_key, NULL::VARCHAR AS identity_hash WHERE false"
    )
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT t.*, k.identity_hash FROM {table} AS t "
        f"LEFT JOIN ({reused}) AS k ON k.identity_key = t.identity_key"
    )
    missing = conn.execute(
        f"SELECT DISTINCT identity_key FROM {out} WHERE identity_hash IS NULL"
    ).df()
    if missing.empty:
        return 0
    missing["identity_hash"] = keyed_hash(missing.identity_key.astype(object), key)
    with registered(conn, "new_keyed_hashes", missing):
        conn.execute(
            f"UPDATE {out} SET identity_hash = n.identity_hash FROM new_keyed_hashes AS n "
            f"WHERE n.identity_key = {out}.identity_key"
        )
    return len(missing)
