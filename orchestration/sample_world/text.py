"""Vectorised string building: identifiers, money, timestamps and phone spellings."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
UNIONID_ALPHABET = ALNUM + "_-"
LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
HEX = "0123456789abcdef"
SHANGHAI_OFFSET = 8 * 3600
DAY_SECONDS = 86_400
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")

TS_LOCAL = "local"  # Asia/Shanghai naive, "2026-03-01 13:12:00"
TS_UTC_Z = "utc_z"  # "2026-03-01T05:12:00Z"
TS_OFFSET = "offset"  # "2026-03-01T13:12:00+08:00"


def random_ids(rng: np.random.Generator, n: int, length: int, alphabet: str) -> np.ndarray:
    """n random strings of `length` characters, built as one byte matrix (no per-row loop)."""
    table = np.frombuffer(alphabet.encode("ascii"), dtype=np.uint8)
    codes = table[rng.integers(0, len(table), size=(n, length))]
    return np.ascontiguousarray(codes).view(f"S{length}").ravel().astype(str)


def permute(index: np.ndarray, modulus: int, salt: int) -> np.ndarray:
    """A bijection of [0, modulus): unique, random-looking numbers for unique indexes."""
    multiplier = 7_368_787 + 20 * salt  # odd and not a multiple of 5: coprime with 10**k
    multiplier += 1 if multiplier % 2 == 0 else 0
    multiplier += 2 if multiplier % 5 == 0 else 0
    return (index.astype(np.int64) * multiplier + 104_729 * salt) % modulus


def padded(values: np.ndarray, width: int) -> pd.Series:
    return pd.Series(values, dtype="int64").astype(str).str.zfill(width)


def with_prefix(prefix: str, values: np.ndarray, width: int) -> np.ndarray:
    return (prefix + padded(values, width)).to_numpy(dtype=object)


def money(cents: np.ndarray) -> pd.Series:
    """Integer cents as a decimal string with two decimals ("12.30")."""
    cents = pd.Series(cents, dtype="int64")
    sign = np.where(cents < 0, "-", "")
    whole = (cents.abs() // 100).astype(str)
    frac = (cents.abs() % 100).astype(str).str.zfill(2)
    return sign + whole + "." + frac


@lru_cache(maxsize=1)
def _clock() -> np.ndarray:
    """ "HH:MM:SS" for every second of a day, built once."""
    stamps = pd.Series(np.datetime_as_string(np.arange(DAY_SECONDS).astype("datetime64[s]")))
    return stamps.str.slice(11, 19).to_numpy(dtype=object)


def timestamps(utc_seconds: np.ndarray, style: str) -> np.ndarray:
    """Format UTC epoch seconds in one of the export conventions.

    Dates are formatted once per distinct day and times looked up, so a row costs two lookups.
    """
    secs = np.asarray(utc_seconds, dtype=np.int64)
    if style != TS_UTC_Z:
        secs = secs + SHANGHAI_OFFSET
    days, inverse = np.unique(secs // DAY_SECONDS, return_inverse=True)
    dates = np.datetime_as_string(days.astype("datetime64[D]")).astype(object)
    sep, suffix = {TS_LOCAL: (" ", ""), TS_UTC_Z: ("T", "Z"), TS_OFFSET: ("T", "+08:00")}[style]
    return dates[inverse] + sep + _clock()[secs % DAY_SECONDS] + suffix


def timestamps_by_style(utc_seconds: np.ndarray, styles: np.ndarray) -> np.ndarray:
    out = np.empty(len(utc_seconds), dtype=object)
    for style in np.unique(styles):
        mask = styles == style
        out[mask] = timestamps(np.asarray(utc_seconds)[mask], str(style))
    return out


PHONE_FORMATS = ("spaced_e164", "country_prefix", "dashed", "fullwidth")


def phone_spellings(phones: np.ndarray, formats: np.ndarray) -> np.ndarray:
    """Rewrite 11-digit phones in the given format ('' keeps the plain spelling)."""
    s = pd.Series(phones, dtype="str")
    out = s.to_numpy(dtype=object).copy()
    head, mid, tail = s.str.slice(0, 3), s.str.slice(3, 7), s.str.slice(7, 11)
    variants = {
        "spaced_e164": "+86 " + head + " " + mid + " " + tail,
        "country_prefix": "86" + s,
        "dashed": head + "-" + mid + "-" + tail,
    }
    for name, variant in variants.items():
        mask = formats == name
        out[mask] = variant.to_numpy(dtype=object)[mask]
    full = formats == "fullwidth"
    out[full] = s[full].str.translate(FULLWIDTH).to_numpy(dtype=object)
    return out


def masked_phones(phones: np.ndarray) -> np.ndarray:
    s = pd.Series(phones, dtype="str")
    return (s.str.slice(0, 3) + "****" + s.str.slice(7, 11)).to_numpy(dtype=object)
