"""Day-by-day behaviour of one chunk of persons: touches, purchases, visits, membership."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestration.ingest.contracts import SALES_CHANNELS, SOCIAL_PLATFORMS
from orchestration.sample_world.config import WorldConfig
from orchestration.sample_world.master import Master, active_campaigns

NEVER = 10**6
DAY = 86_400
TIER_THRESHOLDS_CENTS = np.array([100_000, 500_000, 2_000_000])  # silver, gold, platinum
PLATFORM_ACCOUNT = {
    "xiaohongshu": "xiaohongshu_user_id",
    "douyin": "douyin_user_id",
    "weibo": "weibo_user_id",
    "wechat": "unionid",
}
EVENT_MIX = {
    "xiaohongshu": (
        ("note_view", "like", "save", "comment", "share"),
        (0.7, 0.14, 0.1, 0.03, 0.03),
    ),
    "douyin": (("video_view", "like", "comment", "share", "follow"), (0.8, 0.11, 0.03, 0.03, 0.03)),
    "weibo": (("post_view", "like", "share", "comment"), (0.84, 0.1, 0.04, 0.02)),
    "wechat": (
        ("article_read", "consultation", "miniprogram_visit", "share"),
        (0.55, 0.17, 0.25, 0.03),
    ),
}
SIGNUP_CHANNELS = (*SALES_CHANNELS, "wechat")


@dataclass
class Activity:
    touches: pd.DataFrame
    orders: pd.DataFrame
    lines: pd.DataFrame
    visits: pd.DataFrame
    crm: pd.DataFrame
    points: pd.DataFrame
    member_day: np.ndarray  # day each person became a member (NEVER if not)


def day_start_utc(config: WorldConfig, day) -> np.ndarray:
    """UTC epoch seconds of Asia/Shanghai midnight of period day `day`."""
    epoch = int(pd.Timestamp(config.start).timestamp()) - 8 * 3600
    return epoch + np.asarray(day, dtype=np.int64) * DAY


class _Traits:
    """The person columns the daily loop reads, as plain arrays (pandas access per day is slow)."""

    def __init__(self, p: pd.DataFrame):
        self.n = len(p)
        self.has_account = {k: p[c].notna().to_numpy() for k, c in PLATFORM_ACCOUNT.items()}
        self.has_openid = p["openid"].notna().to_numpy()
        self.has_phone = p["phone"].notna().to_numpy()
        self.has_device = p["device_id"].notna().to_numpy()
        self.churn_day = p["churn_day"].to_numpy()
        self.touch_activity = p["touch_activity"].to_numpy()
        self.buy_activity = p["buy_activity"].to_numpy()
        self.referral_day = p["referral_day"].to_numpy()
        self.referrer = p["referrer"].to_numpy()
        self.initial_member = p["initial_member"].to_numpy()
        self.weights = p[["w_pos", "w_tmall", "w_jd", "w_miniprogram", "w_douyin_shop"]].to_numpy()


class _State:
    """What changes day by day, per person."""

    def __init__(self, p: pd.DataFrame):
        n = len(p)
        self.touch_score = np.zeros(n)
        self.last_buy = np.full(n, -NEVER)
        self.prospect = p["prospect"].to_numpy().copy()
        self.member_day = np.where(p["initial_member"], -1, NEVER)
        self.tier = p["initial_tier"].to_numpy().copy()
        self.spend = np.zeros(n, dtype=np.int64)
        # opening balances of existing members: 0-900 points, spread evenly
        self.points = np.where(p["initial_member"], np.arange(n) % 7 * 150, 0)
        self.consent = p["initial_consent"].to_numpy().copy()
        self.consent_secs = np.zeros(n, dtype=np.int64)
        self.signup_secs = np.zeros(n, dtype=np.int64)
        self.signup_channel = np.zeros(n, dtype=np.int64)
        self.referrer = np.full(n, -1)
        self.last_campaign = np.full(n, -1)
        self.last_campaign_day = np.full(n, -NEVER)


def simulate(
    p: pd.DataFrame, master: Master, config: WorldConfig, rng: np.random.Generator
) -> Activity:
    st = _State(p)
    p = _Traits(p)
    names = ("touches", "orders", "lines", "visits", "crm", "points")
    out: dict[str, list[pd.DataFrame]] = {k: [] for k in names}
    out["crm"].append(_initial_members(p, st, config, rng))
    n_orders = 0
    for day in range(config.days):
        start = int(day_start_utc(config, day))
        camps = active_campaigns(master, day)
        out["touches"].append(_touches(p, st, config, rng, camps, day, start))
        out["crm"].append(_referrals(p, st, rng, day, start))
        orders, lines = _purchases(p, st, master, config, rng, camps, day, start)
        visits = _visits(p, st, config, rng, orders, start)
        crm, points = _membership(p, st, config, rng, orders, day, start)
        # the day's order indexes become chunk-wide order sequence numbers
        for frame in (lines, visits, points):
            frame["order"] = np.where(frame["order"] >= 0, frame["order"] + n_orders, -1)
        n_orders += len(orders)
        daily = {"orders": orders, "lines": lines, "visits": visits, "crm": crm, "points": points}
        for name, frame in daily.items():
            out[name].append(frame)
        st.touch_score *= config.touch_decay
    frames = {k: pd.concat(v, ignore_index=True) for k, v in out.items()}
    return Activity(**frames, member_day=st.member_day)


def _daytime(rng: np.random.Generator, start: int, k: int, first_hour=8, last_hour=23):
    return start + rng.integers(first_hour * 3600, last_hour * 3600, k)


def _touches(p, st, config, rng, camps, day, start) -> pd.DataFrame:
    parts = []
    churned = day >= p.churn_day
    for platform in SOCIAL_PLATFORMS:
        has = p.has_account[platform]
        on_platform = camps[camps["channel"] == platform].index.to_numpy()
        rate = config.touch_rate * p.touch_activity * np.where(churned, 0.2, 1.0)
        rate = rate * (2.5 if len(on_platform) else 1.0)
        who = np.flatnonzero(has & (rng.random(p.n) < rate))
        types, probs = EVENT_MIX[platform]
        event_type = rng.choice(np.array(types), size=len(who), p=probs).astype(object)
        if platform == "wechat":  # only mini-program users can visit the mini-program
            no_app = ~p.has_openid[who] & (event_type == "miniprogram_visit")
            event_type[no_app] = "article_read"
        campaign = np.full(len(who), -1)
        if len(on_platform):
            tagged = rng.random(len(who)) < 0.6
            campaign[tagged] = on_platform[rng.integers(0, len(on_platform), tagged.sum())]
            event_type[tagged & (rng.random(len(who)) < 0.3)] = "campaign_click"
        lift = config.channel_lift[platform] * np.where(campaign >= 0, 1.0, 0.25)
        np.add.at(st.touch_score, who, lift)
        st.last_campaign[who[campaign >= 0]] = campaign[campaign >= 0]
        st.last_campaign_day[who[campaign >= 0]] = day
        parts.append(
            pd.DataFrame(
                {
                    "person": who,
                    "secs": _daytime(rng, start, len(who), 7, 24),
                    "platform": platform,
                    "event_type": event_type,
                    "campaign": campaign,
                    "is_member": st.member_day[who] <= day,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _crm_rows(st: _State, who: np.ndarray, secs: np.ndarray) -> pd.DataFrame:
    """Snapshot of the member records of `who` as of `secs` (a CRM export row each)."""
    return pd.DataFrame(
        {
            "person": who,
            "updated_secs": secs,
            "signup_secs": st.signup_secs[who],
            "signup_channel": np.array(SIGNUP_CHANNELS, dtype=object)[st.signup_channel[who]],
            "tier": st.tier[who],
            "consent": st.consent[who],
            "consent_secs": st.consent_secs[who],
            "referrer": st.referrer[who],
        }
    )


def _initial_members(p, st, config, rng) -> pd.DataFrame:
    who = np.flatnonzero(p.initial_member)
    start = int(day_start_utc(config, 0))
    st.signup_secs[who] = start - rng.integers(30 * DAY, 1500 * DAY, len(who))
    st.signup_channel[who] = rng.choice([0, 3, 5, 1], size=len(who), p=[0.55, 0.2, 0.15, 0.1])
    st.consent_secs[who] = st.signup_secs[who]
    return _crm_rows(st, who, _daytime(rng, start, len(who), 1, 6))


def _referrals(p, st, rng, day, start) -> pd.DataFrame:
    who = np.flatnonzero(p.referral_day == day)
    secs = _daytime(rng, start, len(who))
    _sign_up(st, who, secs, rng.choice([5, 3], size=len(who)), day)
    st.referrer[who] = p.referrer[who]
    st.prospect[who] = False
    st.touch_score[who] += 2.0
    return _crm_rows(st, who, secs)


def _sign_up(st: _State, who, secs, channel, day) -> None:
    st.member_day[who] = day
    st.signup_secs[who] = secs
    st.signup_channel[who] = channel
    st.consent[who] = True
    st.consent_secs[who] = secs


def _purchases(p, st, master, config, rng, camps, day, start):
    n = p.n
    weights = p.weights
    boost = np.ones(n)
    for channel in camps["channel"]:
        if channel in SALES_CHANNELS:  # a running sales-channel campaign lifts its own buyers
            boost += config.channel_lift[channel] * weights[:, SALES_CHANNELS.index(channel)]
    churned = day >= p.churn_day
    prob = (
        config.purchase_rate
        * p.buy_activity
        * np.where(st.prospect, 0.08, 1.0)
        * np.where(churned, 0.03, 1.0)
        * np.where(day - st.last_buy < 3, 0.05, 1.0)
        * (1.0 + st.touch_score)
        * boost
    )
    who = np.flatnonzero(rng.random(n) < np.minimum(prob, 0.5))
    cum = weights[who].cumsum(axis=1)
    channel = np.minimum((rng.random(len(who))[:, None] > cum).sum(axis=1), 4)
    campaign = _order_campaigns(st, rng, camps, who, channel, day)
    orders = pd.DataFrame(
        {
            "person": who,
            "day": day,
            "secs": _daytime(rng, start, len(who), 9, 22),
            "channel": channel,
            "campaign": campaign,
            "is_test": (channel > 0) & (rng.random(len(who)) < config.test_order_rate),
        }
    )
    lines = _lines(master, rng, orders, st, day)
    net = lines.groupby("order", sort=True)["line_cents"].sum().reindex(range(len(who)))
    share = rng.uniform(0.05, 0.2, len(who))
    discount = np.where(rng.random(len(who)) < 0.3, net.to_numpy() * share // 100 * 100, 0)
    orders["gross_cents"] = net.to_numpy().astype(np.int64)
    orders["discount_cents"] = discount.astype(np.int64)
    st.last_buy[who] = day
    st.prospect[who] = False
    return orders, lines


def _order_campaigns(st, rng, camps, who, channel, day) -> np.ndarray:
    campaign = np.full(len(who), -1)
    recent = (day - st.last_campaign_day[who] <= 7) & (rng.random(len(who)) < 0.5)
    campaign[recent] = st.last_campaign[who][recent]
    for idx, ch in zip(camps.index, camps["channel"], strict=True):
        if ch in SALES_CHANNELS:
            hit = (channel == SALES_CHANNELS.index(ch)) & (rng.random(len(who)) < 0.5)
            campaign[hit] = idx
    return campaign


def _lines(master: Master, rng, orders: pd.DataFrame, st, day) -> pd.DataFrame:
    k = len(orders)
    n_lines = np.minimum(1 + rng.geometric(0.6, k) - 1, 4)
    order = np.repeat(np.arange(k), n_lines)
    products = master.products
    popularity = 1.0 / np.arange(1, len(products) + 1) ** 0.8
    sku = rng.choice(len(products), size=len(order), p=popularity / popularity.sum())
    campaign = orders["campaign"].to_numpy()[order]
    promoted = master.campaigns["promoted_category"].to_numpy()[np.maximum(campaign, 0)]
    steer = (campaign >= 0) & (rng.random(len(order)) < 0.4)
    for category, skus in products.groupby("category").indices.items():
        hit = steer & (promoted == category)
        sku[hit] = skus[rng.integers(0, len(skus), hit.sum())]
    qty = 1 + (rng.random(len(order)) < 0.2) + (rng.random(len(order)) < 0.05)
    channel = orders["channel"].to_numpy()[order]
    price = master.prices_on(channel, sku, np.full(len(order), day))
    line_no = np.arange(len(order)) - np.searchsorted(order, order) + 1
    return pd.DataFrame(
        {
            "order": order,
            "line_no": line_no,
            "sku": sku,
            "quantity": qty.astype(np.int64),
            "unit_cents": price,
            "line_cents": qty * price,
        }
    )


def _visits(p, st, config, rng, orders, start) -> pd.DataFrame:
    pos = orders[orders["channel"] == 0]
    with_visit = pos[rng.random(len(pos)) < 0.5]
    n = p.n
    can_browse = (st.member_day < NEVER) | p.has_device
    browse = np.flatnonzero(can_browse & (rng.random(n) < 0.002 * p.touch_activity))
    person = np.concatenate([with_visit["person"].to_numpy(), browse])
    secs = np.concatenate(
        [
            with_visit["secs"].to_numpy() - rng.integers(300, 2400, len(with_visit)),
            _daytime(rng, start, len(browse), 10, 22),
        ]
    )
    order = np.concatenate([with_visit.index.to_numpy(), np.full(len(browse), -1)])
    return pd.DataFrame({"person": person, "secs": secs, "order": order})


def _membership(p, st, config, rng, orders, day, start):
    who, secs = orders["person"].to_numpy(), orders["secs"].to_numpy()
    channel = orders["channel"].to_numpy()
    has_phone = p.has_phone
    joins = (st.member_day[who] > day) & has_phone[who]
    joins &= rng.random(len(who)) < config.signup_on_purchase_rate
    _sign_up(st, who[joins], secs[joins] + 30, channel[joins], day)
    rows = [_crm_rows(st, who[joins], secs[joins] + 30)]

    member = (st.member_day[who] <= day) & ~orders["is_test"].to_numpy()
    net = (orders["gross_cents"] - orders["discount_cents"]).to_numpy()
    redeem = member & (st.points[who] >= 500) & (rng.random(len(who)) < 0.1)
    earn = member & (net >= 100)
    points = pd.concat(
        [
            pd.DataFrame(
                {
                    "order": np.flatnonzero(redeem),
                    "secs": secs[redeem] + 20,
                    "txn_type": "redeem",
                    "points": -500,
                }
            ),
            pd.DataFrame(
                {
                    "order": np.flatnonzero(earn),
                    "secs": secs[earn] + 60,
                    "txn_type": "earn",
                    "points": net[earn] // 100,
                }
            ),
        ],
        ignore_index=True,
    )
    np.add.at(st.points, who[points["order"].to_numpy()], points["points"].to_numpy())
    points["person"] = who[points["order"].to_numpy()]
    points["channel"] = channel[points["order"].to_numpy()]
    points["order_day"] = day

    np.add.at(st.spend, who[member], net[member])
    new_tier = np.maximum(
        st.tier[who], np.searchsorted(TIER_THRESHOLDS_CENTS, st.spend[who], "right")
    )
    up = member & (new_tier > st.tier[who])
    st.tier[who[up]] = new_tier[up]
    rows.append(_crm_rows(st, who[up], secs[up] + 90))

    members = np.flatnonzero(st.member_day <= day)
    flips = members[rng.random(len(members)) < config.consent_change_rate]
    flip_secs = _daytime(rng, start, len(flips), 23, 24)  # the CRM's nightly consent sync
    st.consent[flips] = ~st.consent[flips]
    st.consent_secs[flips] = flip_secs
    rows.append(_crm_rows(st, flips, flip_secs))
    return pd.concat(rows, ignore_index=True), points
