"""Master data and brand-level series: stores, products, prices, campaigns, spend, footfall."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestration.ingest.contracts import MARKETING_CHANNELS, SALES_CHANNELS
from orchestration.sample_world.config import EFFECTIVE_LIFT, WorldConfig
from orchestration.sample_world.text import padded, permute, with_prefix

# region code (used in POS file names) -> (name in the stores file, cities)
REGIONS = {
    "east": ("华东", ("上海", "杭州", "南京", "苏州")),
    "south": ("华南", ("广州", "深圳", "厦门")),
    "north": ("华北", ("北京", "天津", "沈阳")),
    "west": ("西南", ("成都", "重庆", "西安")),
    "central": ("华中", ("武汉", "长沙", "郑州")),
}
MALLS = (
    "万达广场",
    "万象城",
    "太古里",
    "大悦城",
    "银泰",
    "来福士",
    "印象城",
    "龙湖天街",
    "恒隆广场",
)
CATEGORIES = {
    "护肤": (("焕颜精华液", "水润面霜", "氨基酸洁面乳", "玻尿酸面膜", "修护眼霜"), 19_900),
    "彩妆": (("丝绒口红", "轻透气垫", "持妆粉底液", "眼影盘", "定妆散粉"), 12_900),
    "香氛": (("白茶淡香水", "玫瑰香氛蜡烛", "木质香水", "车载香薰"), 29_900),
    "身体护理": (("烟酰胺身体乳", "沐浴露", "护手霜", "磨砂膏"), 7_900),
    "洗护": (("控油洗发水", "修护护发素", "头皮精华"), 8_900),
    "礼盒": (("新年礼盒", "七夕限定礼盒", "护肤旅行套装"), 49_900),
}
SIZES = (("30ml", 1.0), ("50ml", 1.5), ("100ml", 2.6), ("旅行装", 0.4))
OBJECTIVE_BY_CHANNEL = {
    "xiaohongshu": "seeding",
    "douyin": "seeding",
    "weibo": "seeding",
    "wechat": "retention",
    "miniprogram": "referral",
    "tmall": "conversion",
    "jd": "conversion",
    "douyin_shop": "conversion",
    "pos": "retention",
}
CHANNEL_NAMES = {
    "xiaohongshu": "小红书",
    "douyin": "抖音",
    "weibo": "微博",
    "wechat": "微信",
    "miniprogram": "小程序",
    "tmall": "天猫",
    "jd": "京东",
    "douyin_shop": "抖店",
    "pos": "门店",
}
CAMPAIGN_CHANNEL_WEIGHTS = (4, 3, 2, 3, 2, 3, 2, 2, 2)  # in MARKETING_CHANNELS order
STORE_PHONE_PREFIX = "177"  # never issued to persons, so a store phone cannot clash with one


@dataclass
class Master:
    stores: pd.DataFrame  # contract columns + region_code, city_index
    products: pd.DataFrame  # contract columns + price_cents
    campaigns: pd.DataFrame  # contract columns + start_day, end_day, delivery_day, daily_budget
    channel_effects: pd.DataFrame
    price_drift: pd.DataFrame
    standard_cents: np.ndarray  # (channel, sku)
    drift_cents: np.ndarray  # (channel, sku) price from drift_from_day on
    drift_from_day: np.ndarray  # (channel, sku), days (large when no drift)
    title_drift: np.ndarray  # (channel, sku) bool

    def prices_on(self, channel_idx: np.ndarray, sku_idx: np.ndarray, day: np.ndarray):
        drifted = day >= self.drift_from_day[channel_idx, sku_idx]
        return np.where(
            drifted,
            self.drift_cents[channel_idx, sku_idx],
            self.standard_cents[channel_idx, sku_idx],
        )


def make_master(config: WorldConfig, rng: np.random.Generator) -> Master:
    stores = _stores(config, rng)
    products = _products(config, rng)
    campaigns = _campaigns(config, rng, products)
    effects = pd.DataFrame(
        {
            "channel": list(MARKETING_CHANNELS),
            "lift": [float(config.channel_lift[c]) for c in MARKETING_CHANNELS],
        }
    )
    effects["is_effective"] = effects["lift"] >= EFFECTIVE_LIFT
    master = Master(
        stores, products, campaigns, effects, pd.DataFrame(), *_drift(config, rng, products)
    )
    master.price_drift = _drift_table(config, master)
    return master


def _stores(config: WorldConfig, rng: np.random.Generator) -> pd.DataFrame:
    cities = [(code, name, city) for code, (name, cs) in REGIONS.items() for city in cs]
    idx = np.arange(config.n_stores)
    city_idx = idx % len(cities)
    opened = pd.Timestamp(config.start) - pd.to_timedelta(
        rng.integers(60, 3000, config.n_stores), unit="D"
    )
    return pd.DataFrame(
        {
            "store_id": with_prefix("S", idx + 1, 4),
            "store_name": [
                f"{cities[c][2]}{MALLS[i % len(MALLS)]}店"
                for i, c in zip(idx, city_idx, strict=True)
            ],
            "store_type": np.where(rng.random(config.n_stores) < 0.7, "owned", "franchise"),
            "city": [cities[c][2] for c in city_idx],
            "region": [cities[c][1] for c in city_idx],
            "store_phone": STORE_PHONE_PREFIX + padded(permute(idx, 10**8, 99), 8),
            "opened_date": pd.Series(opened).dt.strftime("%Y-%m-%d").to_numpy(),
            "region_code": [cities[c][0] for c in city_idx],
        }
    )


def _products(config: WorldConfig, rng: np.random.Generator) -> pd.DataFrame:
    base = [(cat, name, price) for cat, (names, price) in CATEGORIES.items() for name in names]
    rows = []
    for i in range(config.n_products):  # master data: a few hundred rows
        cat, name, price = base[i % len(base)]
        size, factor = SIZES[(i // len(base)) % len(SIZES)]
        edition = i // (len(base) * len(SIZES))
        label = f"{name} {size}" + (f" 第{edition + 1}代" if edition else "")
        cents = int(round(price * factor / 1000.0)) * 1000 - 100  # e.g. 298.00 -> 299.00 style
        rows.append((f"SKU{i + 1:05d}", f"PRD{i % len(base) + 1:04d}", label, cat, max(cents, 900)))
    df = pd.DataFrame(rows, columns=["sku_id", "product_id", "product_name", "category", "cents"])
    launched = pd.Timestamp(config.start) - pd.to_timedelta(
        rng.integers(30, 1500, len(df)), unit="D"
    )
    df["launched_date"] = pd.Series(launched).dt.strftime("%Y-%m-%d").to_numpy()
    df["price_cents"] = df.pop("cents")
    return df


def _campaigns(config: WorldConfig, rng: np.random.Generator, products) -> pd.DataFrame:
    n = config.n_campaigns
    weights = np.array(CAMPAIGN_CHANNEL_WEIGHTS, dtype=float)
    channels = rng.choice(list(MARKETING_CHANNELS), size=n, p=weights / weights.sum())
    start_day = rng.integers(-10, max(config.days - 10, 1), n)
    end_day = start_day + rng.integers(14, 61, n)
    categories = products["category"].unique()
    start = pd.Timestamp(config.start)
    df = pd.DataFrame(
        {
            "campaign_id": with_prefix("CP", np.arange(n) + 1, 3),
            "campaign_name": [
                f"{CHANNEL_NAMES[c]}{OBJECTIVE_BY_CHANNEL[c]}活动{i + 1:02d}期"
                for i, c in enumerate(channels)
            ],
            "channel": channels,
            "objective": [OBJECTIVE_BY_CHANNEL[c] for c in channels],
            "promoted_category": rng.choice(categories, size=n),
            "start_date": (start + pd.to_timedelta(start_day, unit="D")).strftime("%Y-%m-%d"),
            "end_date": (start + pd.to_timedelta(end_day, unit="D")).strftime("%Y-%m-%d"),
        }
    )
    df["start_day"], df["end_day"] = start_day, end_day
    # campaigns starting in the first week come with the day-0 master; later ones the day before
    df["delivery_day"] = np.where(start_day <= 7, 0, start_day - 1)
    df["daily_budget_cents"] = rng.integers(2_000, 30_000, n) * 100
    return df


def _drift(config: WorldConfig, rng: np.random.Generator, products: pd.DataFrame):
    shape = (len(SALES_CHANNELS), len(products))
    standard = np.broadcast_to(products["price_cents"].to_numpy(), shape).copy()
    price_drift = rng.random(shape) < config.price_drift_rate
    title_drift = rng.random(shape) < config.title_drift_rate
    factor = rng.uniform(0.8, 0.95, shape)
    drifted = np.where(
        price_drift, (standard * factor // 100 * 100 - 10).astype(np.int64), standard
    )
    from_day = np.where(
        price_drift | title_drift, rng.integers(1, max(config.days, 2), shape), 10**6
    )
    return standard, drifted, from_day, title_drift


def _drift_table(config: WorldConfig, master: Master) -> pd.DataFrame:
    ch, sku = np.nonzero(master.drift_from_day < 10**6)
    from_day = master.drift_from_day[ch, sku]
    return pd.DataFrame(
        {
            "sku_id": master.products["sku_id"].to_numpy()[sku],
            "channel": np.array(SALES_CHANNELS)[ch],
            "from_date": pd.Timestamp(config.start) + pd.to_timedelta(from_day, unit="D"),
            "standard_price": master.standard_cents[ch, sku] / 100.0,
            "drifted_price": master.drift_cents[ch, sku] / 100.0,
            "title_drift": master.title_drift[ch, sku],
        }
    )


def channel_titles(master: Master, channel_idx, sku_idx, day) -> np.ndarray:
    names = master.products["product_name"]
    drifted_titles = ("【限时特惠】" + names + " 旧款").to_numpy(object)
    drifted = master.title_drift[channel_idx, sku_idx] & (
        day >= master.drift_from_day[channel_idx, sku_idx]
    )
    return np.where(drifted, drifted_titles[sku_idx], names.to_numpy(object)[sku_idx])


def active_campaigns(master: Master, day: int) -> pd.DataFrame:
    c = master.campaigns
    return c[(c["start_day"] <= day) & (c["end_day"] >= day)]
