"""Keyed hashes: a night reuses the hashes of the previous map, never across a change of key."""

import hashlib
import hmac

import pandas as pd

from orchestration.identity.keyed_hash import hashes_made_with, keyed_hash, keyed_hash_reusing

KEY = b"a test key of more than thirty-two characters"


def hmac_hex(value: str, key: bytes) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


def test_keyed_hash_is_hmac_sha256_truncated():
    assert keyed_hash(pd.Series(["phone:+8613800000000"]), KEY).iloc[0] == hmac_hex(
        "phone:+8613800000000", KEY
    )


def test_known_hashes_are_taken_and_the_rest_computed():
    # a planted "known" hash that is not the real one shows it was taken, not recomputed
    known = pd.Series({"member:M1": "planted"})
    hashes = keyed_hash_reusing(pd.Series(["member:M1", "member:M2"]), KEY, known)
    assert hashes.tolist() == ["planted", hmac_hex("member:M2", KEY)]


def test_nothing_known_hashes_everything():
    values = pd.Series(["a", "b"])
    empty = pd.Series(dtype=object)
    assert keyed_hash_reusing(values, KEY, empty).tolist() == [hmac_hex(v, KEY) for v in "ab"]


def test_hashes_made_with_another_key_are_dropped():
    made = pd.Series({v: hmac_hex(v, KEY) for v in ("phone:1", "phone:2")})
    assert hashes_made_with(made, KEY).equals(made)
    assert hashes_made_with(made, b"another key entirely, also long enough").empty
