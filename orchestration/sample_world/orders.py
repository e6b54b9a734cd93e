"""Turn raw purchases into an order book: ids, stores, statuses, BOPIS pickups and refunds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestration.ingest.contracts import SALES_CHANNELS
from orchestration.sample_world.behaviour import DAY, Activity, day_start_utc
from orchestration.sample_world.config import WorldConfig
from orchestration.sample_world.text import padded

ORDER_PREFIX = ("R", "TM", "JD", "WX", "DS")  # in SALES_CHANNELS order
POS, TMALL, JD, MINIPROGRAM, DOUYIN_SHOP = range(5)
REFUND_REASONS = np.array(
    ["尺码不合适", "质量问题", "不想要了", "发错货", "过敏", "七天无理由"], dtype=object
)


@dataclass
class OrderBook:
    orders: pd.DataFrame  # one row per order or receipt (incl. BOPIS pickup receipts)
    lines: pd.DataFrame  # "order" is the order_seq
    statuses: pd.DataFrame  # one row per exported ecom status
    refunds: pd.DataFrame


def build_order_book(
    p: pd.DataFrame,
    act: Activity,
    config: WorldConfig,
    rng: np.random.Generator,
    chunk: int,
    n_stores: int,
) -> OrderBook:
    end = int(day_start_utc(config, config.days))
    orders = act.orders.copy()
    n = len(orders)
    channel = orders["channel"].to_numpy()
    home = p["home_store"].to_numpy()[orders["person"].to_numpy()]
    elsewhere = rng.random(n) >= 0.85
    orders["store"] = np.where(elsewhere, rng.integers(0, n_stores, n), home)
    orders["store"] = np.where(channel == POS, orders["store"], -1)
    orders["is_cancelled"] = (channel != POS) & (rng.random(n) < config.cancel_rate)
    bopis = np.isin(channel, [TMALL, MINIPROGRAM]) & ~orders["is_cancelled"].to_numpy()
    bopis &= rng.random(n) < config.bopis_rate
    orders["pickup_store"] = np.where(bopis, home, -1)
    pickup_day = orders["day"].to_numpy() + rng.integers(1, 4, n)
    pickup_secs = day_start_utc(config, pickup_day) + rng.integers(10 * 3600, 21 * 3600, n)
    orders["pickup_secs"] = np.where(bopis, pickup_secs, -1)
    orders["pickup_of"] = -1
    handed_over = bopis & (pickup_secs < end)
    pickups = _pickup_receipts(orders[handed_over], pickup_day[handed_over])
    orders = pd.concat([orders, pickups], ignore_index=True)
    orders["order_seq"] = np.arange(len(orders))  # originals keep the index lines refer to
    orders["order_id"] = _order_ids(orders["channel"].to_numpy(), chunk)
    statuses = _statuses(orders, rng, end)
    final = statuses.groupby("order_seq")["status"].last()
    orders["status"] = final.reindex(orders["order_seq"]).fillna("completed").to_numpy()
    refunds = _refunds(orders, act.lines, config, rng, end, chunk)
    return OrderBook(orders, act.lines, statuses, refunds)


def _pickup_receipts(bopis: pd.DataFrame, day: np.ndarray) -> pd.DataFrame:
    """The store receipt that hands a BOPIS order over: zero amounts, it points at the order."""
    return pd.DataFrame(
        {
            "person": bopis["person"].to_numpy(),
            "day": day,
            "secs": bopis["pickup_secs"].to_numpy(),
            "channel": POS,
            "campaign": -1,
            "is_test": False,
            "gross_cents": 0,
            "discount_cents": 0,
            "store": bopis["pickup_store"].to_numpy(),
            "is_cancelled": False,
            "pickup_store": -1,
            "pickup_secs": -1,
            "pickup_of": bopis.index.to_numpy(),
        }
    )


def _order_ids(channel: np.ndarray, chunk: int) -> np.ndarray:
    """Per channel a running number; the chunk is part of it so ids never clash across chunks."""
    seq = np.zeros(len(channel), dtype=np.int64)
    for c in range(len(SALES_CHANNELS)):
        mask = channel == c
        seq[mask] = np.arange(mask.sum())
    prefix = np.array(ORDER_PREFIX, dtype=object)[channel]
    return (prefix + padded(chunk * 10**8 + seq, 11).to_numpy(dtype=object)).astype(object)


def _statuses(orders: pd.DataFrame, rng: np.random.Generator, end: int) -> pd.DataFrame:
    """paid -> (shipped) -> completed, or paid -> cancelled; only changes before the end."""
    ecom = orders[orders["channel"] != POS]
    k = len(ecom)
    secs = ecom["secs"].to_numpy()
    cancelled = ecom["is_cancelled"].to_numpy()
    bopis = ecom["pickup_store"].to_numpy() >= 0
    marketplace = np.isin(ecom["channel"].to_numpy(), [TMALL, JD])
    shipped = ~cancelled & ~bopis & marketplace & (rng.random(k) < 0.6)
    completed_at = np.where(
        bopis, ecom["pickup_secs"].to_numpy(), secs + rng.integers(3 * DAY, 10 * DAY, k)
    )
    parts = [
        (np.ones(k, bool), "paid", secs + rng.integers(5, 120, k)),
        (cancelled, "cancelled", secs + rng.integers(3600, 2 * DAY, k)),
        (shipped, "shipped", secs + rng.integers(12 * 3600, 36 * 3600, k)),
        (~cancelled, "completed", completed_at),
    ]
    frames = [
        pd.DataFrame({"order_seq": ecom["order_seq"].to_numpy()[m], "status": s, "updated": t[m]})
        for m, s, t in parts
    ]
    rows = pd.concat(frames, ignore_index=True)
    rows = rows[rows["updated"] < end]
    return rows.sort_values(["order_seq", "updated"], kind="stable").reset_index(drop=True)


def _refunds(orders, lines, config, rng, end, chunk) -> pd.DataFrame:
    ok = (~orders["is_cancelled"] & ~orders["is_test"] & (orders["gross_cents"] > 0)).to_numpy()
    chosen = orders[ok & (rng.random(len(orders)) < config.return_rate)]
    first = np.searchsorted(lines["order"].to_numpy(), chosen["order_seq"].to_numpy())
    n_lines = np.searchsorted(lines["order"].to_numpy(), chosen["order_seq"].to_numpy(), "right")
    line = first + (rng.integers(0, 1000, len(chosen)) % np.maximum(n_lines - first, 1))
    picked = lines.iloc[line]
    keep = 1.0 - chosen["discount_cents"].to_numpy() / chosen["gross_cents"].to_numpy()
    after = np.maximum(chosen["secs"].to_numpy(), chosen["pickup_secs"].to_numpy())
    refunds = pd.DataFrame(
        {
            "order_seq": chosen["order_seq"].to_numpy(),
            "person": chosen["person"].to_numpy(),
            "channel": chosen["channel"].to_numpy(),
            "order_id": chosen["order_id"].to_numpy(),
            "sku": picked["sku"].to_numpy(),
            "quantity": picked["quantity"].to_numpy(),
            "refund_cents": np.round(picked["line_cents"].to_numpy() * keep).astype(np.int64),
            "secs": after + rng.integers(DAY, 14 * DAY, len(chosen)),
            "reason": REFUND_REASONS[rng.integers(0, len(REFUND_REASONS), len(chosen))],
        }
    )
    refunds = refunds[refunds["secs"] < end].reset_index(drop=True)
    refunds["refund_id"] = "RF" + padded(chunk * 10**8 + np.arange(len(refunds)), 11)
    return refunds
