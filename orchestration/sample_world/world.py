"""Generate a whole sample world: master data, then persons chunk by chunk, then the truth."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.identity.keyed_hash import SAMPLE_WORLD_MARKER
from orchestration.ingest.contracts import SALES_CHANNELS, SOURCES
from orchestration.sample_world.behaviour import day_start_utc, simulate
from orchestration.sample_world.config import WorldConfig
from orchestration.sample_world.defects import spoil
from orchestration.sample_world.master import Master, channel_titles, make_master
from orchestration.sample_world.orders import build_order_book
from orchestration.sample_world.people import make_people
from orchestration.sample_world.render import Chunk, deletion_candidates, render_chunk
from orchestration.sample_world.text import TS_LOCAL
from orchestration.sample_world.truth import TruthWriter, store_phone_identities
from orchestration.sample_world.writer import LandingWriter

HOUR_PROFILE = np.array([0.4, 0.7, 0.9, 0.8, 0.7, 0.8, 1.0, 1.2, 1.3, 1.2, 0.9, 0.5])  # 10-21h


class LandingNotEmpty(RuntimeError):
    pass


def generate_world(config: WorldConfig, out: Path | str = "data", force: bool = False) -> dict:
    """Write <out>/landing and <out>/truth for `config`; return a summary of what was made."""
    began = time.perf_counter()
    landing, truth_dir = _prepare(Path(out), force)
    master = make_master(config, np.random.default_rng([config.seed, 0]))
    writer = LandingWriter(landing, config)
    truth = TruthWriter(truth_dir)
    _write_master(master, writer, config, np.random.default_rng([config.seed, 1]))
    truth.append("identities", store_phone_identities(master))
    store_weights = np.linspace(2.0, 0.5, len(master.stores))
    store_weights /= store_weights.sum()
    for index, first in enumerate(range(0, config.customers, config.chunk_size)):
        rng = np.random.default_rng([config.seed, 2, index])
        n = min(config.chunk_size, config.customers - first)
        people = make_people(config, first, n, rng, store_weights)
        activity = simulate(people, master, config, rng)
        book = build_order_book(people, activity, config, rng, index, len(master.stores))
        chunk = Chunk(index, people, activity, book)
        chunk.deletion = deletion_candidates(chunk, config, rng)
        spoiled = {
            source: spoil(source, frame, config, rng)
            for source, frame in render_chunk(chunk, master, config, rng).items()
        }
        for source, frame in spoiled.items():
            writer.write(source, frame, rng)
        truth.write_chunk(chunk, spoiled, master, config.start)
        truth.append("defects", writer.take_defects())
    writer.resend_some_files()
    truth.append("defects", writer.take_defects())
    truth.close()
    truth.write_table("channel_effects", master.channel_effects)
    truth.write_table("price_drift", master.price_drift)
    (truth_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2, sort_keys=True))
    rows = writer.data_rows()
    return {
        "customers": config.customers,
        "days": config.days,
        "seed": config.seed,
        "files": len(list(landing.rglob("*.*"))),
        "rows": {s.name: rows.get(s.name, 0) for s in SOURCES},
        "seconds": round(time.perf_counter() - began, 2),
    }


def _prepare(out: Path, force: bool) -> tuple[Path, Path]:
    landing, truth = out / "landing", out / "truth"
    if landing.exists() and any(landing.iterdir()) and not force:
        raise LandingNotEmpty(f"{landing} is not empty; use --force to overwrite it")
    for folder in (landing, truth):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    # Marks the landing zone as generated: only such a zone may use the development hash key.
    (landing / SAMPLE_WORLD_MARKER).touch()
    return landing, truth


def _write_master(master: Master, writer: LandingWriter, config: WorldConfig, rng) -> None:
    frames = {
        "stores": _meta(master.stores.drop(columns=["region_code"]), 0),
        "products": _meta(master.products.rename(columns={"price_cents": "list_price"}), 0),
        "campaigns": _meta(master.campaigns, master.campaigns["delivery_day"].to_numpy()),
        "channel_prices": _channel_prices(master, config),
        "marketing_spend": _marketing_spend(master, config, rng),
        "store_footfall": _footfall(master, config, rng),
    }
    for source, frame in frames.items():
        writer.write(source, spoil(source, frame, config, rng), rng)


def _meta(frame: pd.DataFrame, day) -> pd.DataFrame:
    frame = frame.copy()
    frame["_day"], frame["_part"], frame["_style"], frame["_ref"] = day, "", TS_LOCAL, -1
    return frame


def _dates(config: WorldConfig, days: np.ndarray) -> np.ndarray:
    stamps = pd.Timestamp(config.start) + pd.to_timedelta(days, unit="D")
    return np.asarray(stamps.strftime("%Y-%m-%d"), dtype=object)


def _channel_prices(master: Master, config: WorldConfig) -> pd.DataFrame:
    """Every channel's price and title of every SKU, every day (a day x channel x SKU grid)."""
    n_ch, n_sku = len(SALES_CHANNELS), len(master.products)
    day = np.repeat(np.arange(config.days), n_ch * n_sku)
    channel = np.tile(np.repeat(np.arange(n_ch), n_sku), config.days)
    sku = np.tile(np.arange(n_sku), n_ch * config.days)
    frame = pd.DataFrame(
        {
            "price_date": _dates(config, day),
            "channel": np.array(SALES_CHANNELS, dtype=object)[channel],
            "sku_id": master.products["sku_id"].to_numpy()[sku],
            "list_price": master.prices_on(channel, sku, day),
            "product_title": channel_titles(master, channel, sku, day),
        }
    )
    return _meta(frame, day)


def _marketing_spend(master: Master, config: WorldConfig, rng) -> pd.DataFrame:
    c = master.campaigns
    first = np.maximum(c["start_day"].to_numpy(), 0)
    last = np.minimum(c["end_day"].to_numpy(), config.days - 1)
    length = np.maximum(last - first + 1, 0)
    camp = np.repeat(np.arange(len(c)), length)
    day = first[camp] + np.arange(len(camp)) - np.repeat(np.cumsum(length) - length, length)
    spend = (c["daily_budget_cents"].to_numpy()[camp] * rng.uniform(0.6, 1.4, len(camp))) // 100
    impressions = (spend / rng.uniform(30, 80, len(camp)) * 1000 / 100).astype(np.int64)
    frame = pd.DataFrame(
        {
            "spend_date": _dates(config, day),
            "channel": c["channel"].to_numpy()[camp],
            "campaign_id": c["campaign_id"].to_numpy()[camp],
            "spend_cny": spend.astype(np.int64) * 100,
            "impressions": impressions,
            "clicks": (impressions * rng.uniform(0.005, 0.03, len(camp))).astype(np.int64),
        }
    )
    return _meta(frame, day)


def _footfall(master: Master, config: WorldConfig, rng) -> pd.DataFrame:
    n_stores, hours = len(master.stores), len(HOUR_PROFILE)
    store = np.tile(np.repeat(np.arange(n_stores), hours), config.days)
    hour = np.tile(np.arange(hours), n_stores * config.days)
    day = np.repeat(np.arange(config.days), n_stores * hours)
    weekday = (pd.Timestamp(config.start).dayofweek + day) % 7
    scale = max(config.customers / 20_000, 0.05) * 12
    lam = scale * HOUR_PROFILE[hour] * np.where(weekday >= 5, 1.4, 1.0)
    lam *= np.linspace(1.5, 0.6, n_stores)[store]
    secs = day_start_utc(config, day) + (10 + hour) * 3600
    frame = pd.DataFrame(
        {
            "store_id": master.stores["store_id"].to_numpy()[store],
            "hour_start": secs,
            "visitors": rng.poisson(lam),
        }
    )
    return _meta(frame, day)
