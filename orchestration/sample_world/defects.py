"""Spoil rendered rows on purpose, each kind at its configured rate, and remember where.

Invalid kinds are exclusive (a row gets at most one) and name the quarantine reason the loader
must give. Cosmetic kinds (phone spellings, Traditional names, id noise, late arrival) must load.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from opencc import OpenCC

from orchestration.sample_world.behaviour import DAY, day_start_utc
from orchestration.sample_world.config import WorldConfig
from orchestration.sample_world.text import PHONE_FORMATS, padded, phone_spellings

# invalid kind -> column it spoils, per source
INVALID_TARGETS = {
    "pos_receipts": {
        "unknown_store": "store_id",
        "missing_order_id": "receipt_id",
        "future_date": "receipt_time",
    },
    "pos_receipt_lines": {"negative_quantity": "quantity"},
    "ecom_orders": {"missing_order_id": "order_id", "future_date": "order_time"},
    "ecom_order_lines": {"negative_quantity": "quantity"},
    "refunds": {"future_date": "refund_time"},
    "social_events": {"future_date": "event_time"},
    "store_visits": {"unknown_store": "store_id", "future_date": "visit_time"},
    "crm_points": {"future_date": "txn_time"},
}
REASON_RULE = {
    "negative_quantity": "not_positive",
    "unknown_store": "unknown_reference",
    "missing_order_id": "missing_required",
    "future_date": "future_timestamp",
}
# sources whose rows can arrive late and be duplicated: the per-person transactional exports
TRANSACTIONAL = (
    "pos_receipts",
    "pos_receipt_lines",
    "ecom_orders",
    "ecom_order_lines",
    "refunds",
    "social_events",
    "store_visits",
    "crm_members",
    "crm_points",
)
NAME_COLUMNS = ("customer_name", "member_name", "receiver_name")
ID_COLUMNS = ("member_id", "buyer_id", "unionid", "openid", "platform_user_id", "device_id")
FLAG_KINDS = {
    "_late": "late_arrival",
    "_phone_format": "phone_format",
    "_trad": "traditional_name",
    "_noise": "id_noise",
    "_masked": "masked_phone",
}


@lru_cache(maxsize=1)
def _s2t() -> OpenCC:
    return OpenCC("s2t")


def invalid_rate(config: WorldConfig, kind: str) -> float:
    return getattr(config, f"{kind}_rate")


def spoil(
    source: str, frame: pd.DataFrame, config: WorldConfig, rng: np.random.Generator
) -> pd.DataFrame:
    frame = frame.copy()
    n = len(frame)
    for flag in FLAG_KINDS:
        if flag not in frame:
            frame[flag] = False
    frame["_invalid"] = None
    frame["_reason"] = None
    if source in TRANSACTIONAL:
        _late(frame, config, rng)
    _invalid(source, frame, config, rng)
    if "phone" in frame:
        _phone_formats(frame, config, rng)
    for column in NAME_COLUMNS:
        if column in frame:
            _traditional(frame, column, config, rng)
    _id_noise(frame, [c for c in ID_COLUMNS if c in frame], config, rng)
    assert len(frame) == n
    return frame


def _late(frame, config, rng) -> None:
    lag = rng.integers(1, 4, len(frame))
    late = (rng.random(len(frame)) < config.late_arrival_rate) & (
        frame["_day"].to_numpy() + lag < config.days
    )
    frame.loc[late, "_day"] = frame["_day"].to_numpy()[late] + lag[late]
    frame["_late"] = late


def _invalid(source, frame, config, rng) -> None:
    targets = INVALID_TARGETS.get(source, {})
    u = rng.random(len(frame))
    low = 0.0
    for kind, column in targets.items():
        high = low + invalid_rate(config, kind)
        hit = (u >= low) & (u < high)
        low = high
        if kind == "future_date":  # a late row must keep the event time that makes it late
            hit &= ~frame["_late"].to_numpy()
        if not hit.any():
            continue
        frame.loc[hit, "_invalid"] = kind
        frame.loc[hit, "_reason"] = f"{REASON_RULE[kind]}:{column}"
        values = frame[column].to_numpy().copy()
        k = int(hit.sum())
        if kind == "negative_quantity":
            values[hit] = -rng.integers(1, 4, k)
        elif kind == "unknown_store":
            values[hit] = ("S9" + padded(rng.integers(0, 1000, k), 3)).to_numpy(object)
        elif kind == "missing_order_id":
            values[hit] = None
        else:  # future_date: 30-400 days after the export day
            end_of_day = day_start_utc(config, frame["_day"].to_numpy()[hit] + 1)
            values[hit] = end_of_day + rng.integers(29 * DAY, 400 * DAY, k)
        frame[column] = values


def _phone_formats(frame, config, rng) -> None:
    phone = frame["phone"].to_numpy(dtype=object).copy()
    eligible = pd.notna(phone) & ~frame["_masked"].to_numpy()
    spoiled = eligible & (rng.random(len(frame)) < config.phone_format_rate)
    formats = np.where(
        spoiled, np.array(PHONE_FORMATS)[rng.integers(0, len(PHONE_FORMATS), len(frame))], ""
    )
    phone[spoiled] = phone_spellings(phone[spoiled].astype(str), formats[spoiled])
    frame["phone"] = phone
    frame["_phone_format"] = spoiled


def _traditional(frame, column, config, rng) -> None:
    names = frame[column]
    uniques = names.dropna().unique()
    traditional = dict(zip(uniques, map(_s2t().convert, uniques), strict=True))  # per unique name
    converted = names.map(traditional)
    # only names that have a Traditional spelling can be spoiled, so the rate is honest
    eligible = (names.notna() & (converted != names)).to_numpy()
    spoiled = eligible & (rng.random(len(frame)) < config.traditional_name_rate)
    values = names.to_numpy(dtype=object).copy()
    values[spoiled] = converted.to_numpy(dtype=object)[spoiled]
    frame[column] = values
    frame["_trad"] = frame["_trad"].to_numpy() | spoiled


def _id_noise(frame, columns, config, rng) -> None:
    if not columns:
        return
    present = np.column_stack([frame[c].notna().to_numpy() for c in columns])
    noisy = present.any(axis=1) & (rng.random(len(frame)) < config.id_noise_rate)
    which = np.argmax(present * rng.random(present.shape), axis=1)
    style = rng.integers(0, 3, len(frame))
    for i, column in enumerate(columns):
        hit = noisy & (which == i)
        if not hit.any():
            continue
        values = frame[column].to_numpy(dtype=object).copy()
        raw = pd.Series(values[hit], dtype="str")
        if column == "member_id":  # canonical member ids are upper-case, so case is noise too
            variants = [raw.str.lower(), " " + raw + " ", " " + raw.str.lower()]
        else:  # other ids are case-sensitive: only whitespace is noise
            variants = [" " + raw, raw + " ", " " + raw + "  "]
        values[hit] = np.select(
            [style[hit] == j for j in range(3)], [v.to_numpy(object) for v in variants]
        )
        frame[column] = values
    frame["_noise"] = noisy
