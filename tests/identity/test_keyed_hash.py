"""Keyed hashes: a night reuses the hashes of the previous map, never across a change of key."""

import hashlib
import hmac

import duckdb
import pandas as pd
import pytest

from orchestration.identity.keyed_hash import keyed_hash, with_keyed_hashes

KEY = b"a test key of more than thirty-two characters"


def hmac_hex(value: str, key: bytes) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


@pytest.fixture
def conn():
    with duckdb.connect() as conn:
        conn.execute(
            "CREATE TABLE fresh AS SELECT * FROM (VALUES ('member:M1'), ('member:M2'))"
            " AS t(identity_key)"
        )
        yield conn


def _hashes(conn) -> dict[str, str]:
    return dict(conn.execute("SELECT identity_key, identity_hash FROM hashed").fetchall())


def test_keyed_hash_is_hmac_sha256_truncated():
    assert keyed_hash(pd.Series(["phone:+8613800000000"]), KEY).iloc[0] == hmac_hex(
        "phone:+8613800000000", KEY
    )


def test_known_hashes_are_taken_and_the_rest_computed(conn):
    # M0's real hash shows the known ones were made with this key; a planted hash for M1 that
    # is not the real one shows it was taken, not recomputed
    conn.execute(
        "CREATE TABLE known AS SELECT * FROM (VALUES ('member:M0', ?), ('member:M1', 'planted'))"
        " AS t(identity_key, identity_hash)",
        [hmac_hex("member:M0", KEY)],
    )
    assert with_keyed_hashes(conn, "fresh", "hashed", KEY, "known") == 1
    assert _hashes(conn) == {"member:M1": "planted", "member:M2": hmac_hex("member:M2", KEY)}


def test_nothing_known_hashes_everything(conn):
    assert with_keyed_hashes(conn, "fresh", "hashed", KEY, None) == 2
    assert _hashes(conn) == {k: hmac_hex(k, KEY) for k in ("member:M1", "member:M2")}


def test_hashes_made_with_another_key_are_dropped(conn):
    other = b"another key entirely, also long enough"
    conn.execute(
        "CREATE TABLE known AS SELECT * FROM (VALUES ('member:M1', ?)) AS t(identity_key, "
        "identity_hash)",
        [hmac_hex("member:M1", other)],
    )
    assert with_keyed_hashes(conn, "fresh", "hashed", KEY, "known") == 2
    assert _hashes(conn)["member:M1"] == hmac_hex("member:M1", KEY)
