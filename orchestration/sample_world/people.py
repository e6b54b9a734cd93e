"""Persons, households and every identifier a person can show to a channel."""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration.sample_world.config import WorldConfig
from orchestration.sample_world.text import (
    ALNUM,
    HEX,
    LOWER_ALNUM,
    UNIONID_ALPHABET,
    padded,
    permute,
    random_ids,
    with_prefix,
)

# Surnames whose GBK bytes (Simplified and Traditional) can never start valid UTF-8: a GBK file
# holding a name then fails as UTF-8, so a loader can tell the encodings apart (卢伟 in GBK is
# the valid UTF-8 "¬ΰ", so 卢 and its like are left out).
SURNAMES = list(
    "王李张刘杨黄赵吴周徐孙马朱胡郭何高林罗梁宋唐许韩冯曹彭曾田董潘蒋蔡杜程苏吕丁沈钟汪范金廖贾夏邹孟熊秦邱"
)
GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "华",
    "红",
    "玲",
    "飞",
    "鹏",
    "辉",
    "婷",
    "雪",
    "琳",
    "晨",
    "欣怡",
    "子涵",
    "梓萱",
    "浩然",
    "宇轩",
    "雨桐",
    "思远",
    "佳怡",
    "诗涵",
    "俊杰",
    "晓东",
    "丽华",
    "建国",
    "海燕",
    "凤",
    "颖",
    "晶",
    "丹",
    "萍",
    "鑫",
    "斌",
    "宁",
    "龙",
    "阳",
    "博",
    "帅",
    "慧",
    "倩",
    "嘉欣",
    "志强",
    "书涵",
    "梦瑶",
]
# person-issued mobile prefixes; 177 is reserved for store phones
MOBILE_PREFIXES = np.array(
    [
        "130",
        "131",
        "132",
        "133",
        "134",
        "135",
        "136",
        "137",
        "138",
        "139",
        "150",
        "151",
        "152",
        "153",
        "155",
        "156",
        "157",
        "158",
        "159",
        "166",
        "180",
        "181",
        "182",
        "183",
        "185",
        "186",
        "187",
        "188",
        "189",
        "191",
        "198",
        "199",
    ]
)
# (sales channel) column order used for channel weights: pos, tmall, jd, miniprogram, douyin_shop
CHANNEL_POPULARITY = np.array([1.0, 0.8, 0.5, 0.6, 0.4])


def make_people(
    config: WorldConfig, first: int, n: int, rng: np.random.Generator, store_weights: np.ndarray
) -> pd.DataFrame:
    """Persons first..first+n-1 with their households, identifiers and behavioural traits."""
    gidx = np.arange(first, first + n)
    p = pd.DataFrame({"person_id": with_prefix("P", gidx + 1, 7)})
    p["gidx"] = gidx
    _households(p, config, rng)
    _identifiers(p, config, rng)
    _traits(p, config, rng, store_weights)
    return p


def _households(p: pd.DataFrame, config: WorldConfig, rng: np.random.Generator) -> None:
    n = len(p)
    shared = rng.random(n) < config.family_phone_household_rate
    sizes = np.where(shared, rng.integers(2, 4, n), rng.choice([1, 2, 3], n, p=[0.6, 0.25, 0.15]))
    hh = np.repeat(np.arange(n), sizes)[:n]
    first_member = np.searchsorted(hh, hh)  # households are contiguous
    actual_size = np.bincount(hh, minlength=n)[hh]
    p["household_id"] = with_prefix("H", p["gidx"].to_numpy()[first_member] + 1, 7)
    p["phone_holder"] = first_member  # row index (in this chunk) of whose phone is used
    p["family_shared"] = shared[hh] & (actual_size >= 2)


def _identifiers(p: pd.DataFrame, config: WorldConfig, rng: np.random.Generator) -> None:
    n, gidx = len(p), p["gidx"].to_numpy()
    own_phone = MOBILE_PREFIXES[rng.integers(0, len(MOBILE_PREFIXES), n)] + padded(
        permute(gidx, 10**8, 1), 8
    ).to_numpy(dtype=str)
    holder = p["phone_holder"].to_numpy()
    shared = p["family_shared"].to_numpy()
    has_own = np.where(shared, np.arange(n) == holder, rng.random(n) < config.phone_share)
    phone = np.where(shared, own_phone[holder], np.where(has_own, own_phone, None))
    p["phone"] = phone
    p["owns_phone"] = has_own
    p["member_id"] = with_prefix("M", permute(gidx, 10**8, 2), 8)
    p["name"] = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)].astype(object) + np.array(
        GIVEN
    )[rng.integers(0, len(GIVEN), n)].astype(object)
    wechat = rng.random(n) < config.wechat_share
    douyin = rng.random(n) < config.douyin_share
    ids = {
        "unionid": (wechat, "o", 27, UNIONID_ALPHABET),
        "openid": (wechat & (rng.random(n) < config.miniprogram_share), "o", 27, UNIONID_ALPHABET),
        "jd_buyer_id": (rng.random(n) < config.jd_share, "jd_", 12, LOWER_ALNUM),
        "xiaohongshu_user_id": (rng.random(n) < config.xiaohongshu_share, "5", 23, HEX),
        "douyin_shop_buyer_id": (
            douyin & (rng.random(n) < config.douyin_shop_share),
            "DY",
            14,
            ALNUM,
        ),
        "device_id": (rng.random(n) < config.device_share, "", 32, HEX.upper()),
    }
    for column, (has, prefix, length, alphabet) in ids.items():
        values = prefix + random_ids(rng, n, length, alphabet).astype(object)
        p[column] = np.where(has, values, None)
    # numeric ids must be unique by construction: a permutation of the global person index
    numeric = {
        "tmall_buyer_id": (rng.random(n) < config.tmall_share, "tb", 10, 3),
        "douyin_user_id": (douyin, "7", 15, 4),
        "weibo_user_id": (rng.random(n) < config.weibo_share, "5", 9, 5),
    }
    for column, (has, prefix, width, salt) in numeric.items():
        values = with_prefix(prefix, permute(gidx, 10**width, salt), width)
        p[column] = np.where(has, values, None)


def _traits(
    p: pd.DataFrame, config: WorldConfig, rng: np.random.Generator, store_weights: np.ndarray
) -> None:
    n = len(p)
    has_phone = p["phone"].notna().to_numpy()
    p["home_store"] = rng.choice(len(store_weights), size=n, p=store_weights)
    p["buy_activity"] = rng.lognormal(0.0, 0.8, n)
    p["touch_activity"] = rng.lognormal(0.0, 0.7, n)
    p["initial_member"] = has_phone & (rng.random(n) < config.initial_member_share)
    p["prospect"] = ~p["initial_member"] & (rng.random(n) < config.prospect_share)
    churns = rng.random(n) < config.churn_share
    p["churn_day"] = np.where(churns, rng.integers(0, max(config.days, 1), n), 10**6)
    p["initial_tier"] = np.where(
        p["initial_member"], rng.choice(4, size=n, p=[0.6, 0.25, 0.12, 0.03]), 0
    )
    p["initial_consent"] = rng.random(n) < 0.7
    # channel weights over (pos, tmall, jd, miniprogram, douyin_shop): only accounts one has
    available = np.column_stack(
        [
            np.ones(n, dtype=bool),
            p["tmall_buyer_id"].notna(),
            p["jd_buyer_id"].notna(),
            p["openid"].notna(),
            p["douyin_shop_buyer_id"].notna(),
        ]
    )
    weights = rng.gamma(0.7, size=(n, 5)) * CHANNEL_POPULARITY * available
    p[["w_pos", "w_tmall", "w_jd", "w_miniprogram", "w_douyin_shop"]] = weights / weights.sum(
        axis=1, keepdims=True
    )
    # a referral: a prospect with a phone joins through an initial member of the same chunk
    members = np.flatnonzero(p["initial_member"])
    referred = (p["prospect"] & has_phone & (rng.random(n) < config.referral_rate)).to_numpy()
    referred = referred & (len(members) > 0)
    referrer = np.full(n, -1)
    if len(members):
        referrer[referred] = members[rng.integers(0, len(members), referred.sum())]
    p["referrer"] = referrer
    p["referral_day"] = np.where(referred, rng.integers(0, max(config.days, 1), n), 10**6)
    p["mp_member_bound"] = rng.random(n) < 0.6  # marketplace account bound to membership
