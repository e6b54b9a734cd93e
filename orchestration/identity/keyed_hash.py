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


def keyed_hash_reusing(values: pd.Series, key: bytes, known: pd.Series) -> pd.Series:
    """keyed_hash of every value, taking those `known` holds (hashes by value, made with this
    same key) instead of hashing them again: HMAC in Python costs seconds per million values."""
    hashes = values.map(known) if len(known) else pd.Series(None, index=values.index, dtype=object)
    missing = hashes.isna()
    if missing.any():
        hashes[missing] = keyed_hash(values[missing], key)
    return hashes


def hashes_made_with(known: pd.Series, key: bytes) -> pd.Series:
    """`known` (hashes by value) if they were made with `key`, judged on one of them; else empty,
    so that a new key rehashes everything."""
    if known.empty or keyed_hash(known.index[:1].to_series(), key).iloc[0] != known.iloc[0]:
        return known.iloc[:0]
    return known
