"""Render one chunk's people and activity as each source's export rows (semantic values).

Values stay semantic here (timestamps as UTC epoch seconds, money as cents); `defects.py` spoils
some of them and `formatting.py` turns them into the strings each export uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from orchestration.ingest.contracts import SALES_CHANNELS
from orchestration.sample_world.behaviour import DAY, NEVER, Activity, day_start_utc
from orchestration.sample_world.config import WorldConfig
from orchestration.sample_world.master import Master
from orchestration.sample_world.orders import JD, POS, TMALL, OrderBook
from orchestration.sample_world.text import (
    SHANGHAI_OFFSET,
    TS_LOCAL,
    TS_OFFSET,
    TS_UTC_Z,
    masked_phones,
    padded,
)

TIERS = np.array(["regular", "silver", "gold", "platinum"], dtype=object)
CHANNELS = np.array(SALES_CHANNELS, dtype=object)
# timestamp convention of each sales channel's own exports
CHANNEL_STYLE = np.array([TS_LOCAL, TS_UTC_Z, TS_UTC_Z, TS_OFFSET, TS_LOCAL], dtype=object)
CONTENT_PREFIX = {"xiaohongshu": "XHSN", "douyin": "DYV", "weibo": "WBP", "wechat": "WXA"}
USER_ID_COLUMN = {
    "xiaohongshu": "xiaohongshu_user_id",
    "douyin": "douyin_user_id",
    "weibo": "weibo_user_id",
}
BUYER_ID_COLUMN = ("", "tmall_buyer_id", "jd_buyer_id", "openid", "douyin_shop_buyer_id")


@dataclass
class Chunk:
    index: int
    people: pd.DataFrame
    activity: Activity
    book: OrderBook
    deletion: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))


def export_day(config: WorldConfig, secs: np.ndarray) -> np.ndarray:
    """Period day index of the Asia/Shanghai date of each UTC timestamp."""
    base = int(day_start_utc(config, 0)) + SHANGHAI_OFFSET
    return (np.asarray(secs, dtype=np.int64) + SHANGHAI_OFFSET - base) // DAY


def _pick(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, values, None).astype(object)


def _person(chunk: Chunk, column: str, who: np.ndarray) -> np.ndarray:
    return chunk.people[column].to_numpy(dtype=object)[who]


def _guides(rng, store: np.ndarray) -> np.ndarray:
    return ("G" + padded(store + 1, 4) + padded(rng.integers(1, 6, len(store)), 2)).to_numpy(object)


def _meta(frame: pd.DataFrame, day, part, style, ref=-1) -> pd.DataFrame:
    frame["_day"], frame["_part"], frame["_style"], frame["_ref"] = day, part, style, ref
    return frame


def render_chunk(
    chunk: Chunk, master: Master, config: WorldConfig, rng: np.random.Generator
) -> dict[str, pd.DataFrame]:
    renderers = {
        "pos_receipts": _pos_receipts,
        "pos_receipt_lines": _pos_lines,
        "ecom_orders": _ecom_orders,
        "ecom_order_lines": _ecom_lines,
        "refunds": _refunds,
        "social_events": _social_events,
        "store_visits": _store_visits,
        "crm_members": _crm_members,
        "crm_points": _crm_points,
        "deletion_requests": _deletion_requests,
    }
    return {name: fn(chunk, master, config, rng) for name, fn in renderers.items()}


def _pos_receipts(chunk, master, config, rng) -> pd.DataFrame:
    o = chunk.book.orders
    r = o[o["channel"] == POS]
    who, k = r["person"].to_numpy(), len(r)
    member = (chunk.activity.member_day[who] <= r["day"].to_numpy()) & (rng.random(k) < 0.85)
    phone = _person(chunk, "phone", who)
    show_phone = pd.notna(phone) & (rng.random(k) < np.where(member, 0.4, 0.65))
    store = r["store"].to_numpy()
    # walk-ins: staff key the store's own phone instead of the customer's
    keyed_store_phone = rng.random(k) < config.store_phone_receipt_rate
    phone = np.where(
        keyed_store_phone, master.stores["store_phone"].to_numpy()[store], _pick(phone, show_phone)
    )
    pickup_of = r["pickup_of"].to_numpy()
    is_pickup = pickup_of >= 0
    frame = pd.DataFrame(
        {
            "receipt_id": r["order_id"].to_numpy(),
            "store_id": master.stores["store_id"].to_numpy()[store],
            "receipt_time": r["secs"].to_numpy(),
            "member_id": _pick(_person(chunk, "member_id", who), member & ~keyed_store_phone),
            "phone": phone,
            "customer_name": _pick(_person(chunk, "name", who), rng.random(k) < 0.25),
            "guide_id": _pick(_guides(rng, store), rng.random(k) < 0.6),
            "pickup_order_id": _pick(o["order_id"].to_numpy()[np.maximum(pickup_of, 0)], is_pickup),
            "pickup_platform": _pick(
                CHANNELS[o["channel"].to_numpy()[np.maximum(pickup_of, 0)]], is_pickup
            ),
            "gross_amount": r["gross_cents"].to_numpy(),
            "discount_amount": r["discount_cents"].to_numpy(),
        }
    )
    frame["_store_phone"] = keyed_store_phone
    part = master.stores["region_code"].to_numpy()[store]
    return _meta(frame, r["day"].to_numpy(), part, TS_LOCAL, r["order_seq"].to_numpy())


def _lines_of(chunk, pos: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    o, lines = chunk.book.orders, chunk.book.lines
    owner = o.iloc[lines["order"].to_numpy()]
    mask = (owner["channel"].to_numpy() == POS) == pos
    return lines[mask], owner[mask]


def _line_columns(lines, owner, master) -> dict:
    return {
        "line_no": lines["line_no"].to_numpy(),
        "sku_id": master.products["sku_id"].to_numpy()[lines["sku"].to_numpy()],
        "quantity": lines["quantity"].to_numpy(),
        "unit_price": lines["unit_cents"].to_numpy(),
        "line_amount": lines["line_cents"].to_numpy(),
    }


def _pos_lines(chunk, master, config, rng) -> pd.DataFrame:
    lines, owner = _lines_of(chunk, pos=True)
    frame = pd.DataFrame(
        {"receipt_id": owner["order_id"].to_numpy(), **_line_columns(lines, owner, master)}
    )
    part = master.stores["region_code"].to_numpy()[owner["store"].to_numpy()]
    return _meta(frame, owner["day"].to_numpy(), part, TS_LOCAL, lines.index.to_numpy())


def _ecom_lines(chunk, master, config, rng) -> pd.DataFrame:
    lines, owner = _lines_of(chunk, pos=False)
    frame = pd.DataFrame(
        {
            "platform": CHANNELS[owner["channel"].to_numpy()],
            "order_id": owner["order_id"].to_numpy(),
            **_line_columns(lines, owner, master),
        }
    )
    return _meta(frame, owner["day"].to_numpy(), "", TS_LOCAL, lines.index.to_numpy())


def _ecom_identities(chunk, rng, o: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per order (all of chunk.book.orders) the identifiers the platform exports."""
    who, channel, k = o["person"].to_numpy(), o["channel"].to_numpy(), len(o)
    buyer = np.full(k, None, dtype=object)
    for c in range(1, len(SALES_CHANNELS)):
        mask = channel == c
        buyer[mask] = _person(chunk, BUYER_ID_COLUMN[c], who[mask])
    member_now = chunk.activity.member_day[who] <= o["day"].to_numpy()
    bound = np.select(
        [np.isin(channel, [TMALL, JD]), channel == 3],
        [chunk.people["mp_member_bound"].to_numpy()[who], rng.random(k) < 0.9],
        rng.random(k) < 0.2,
    )
    phone = _person(chunk, "phone", who)
    masked = np.isin(channel, [TMALL, JD]) & pd.notna(phone)
    shown = pd.notna(phone) & (masked | (rng.random(k) < np.where(channel == 3, 0.8, 0.7)))
    phone = _pick(phone, shown)
    phone[masked] = masked_phones(phone[masked].astype(str))
    return {
        "buyer_id": buyer,
        "member_id": _pick(_person(chunk, "member_id", who), member_now & bound),
        "phone": phone,
        "receiver_name": _pick(_person(chunk, "name", who), rng.random(k) < 0.9),
        "unionid": _pick(_person(chunk, "unionid", who), channel == 3),
        "_masked": masked,
    }


def _ecom_orders(chunk, master, config, rng) -> pd.DataFrame:
    o, st = chunk.book.orders, chunk.book.statuses
    ids = _ecom_identities(chunk, rng, o)
    at = st["order_seq"].to_numpy()
    row = o.iloc[at]
    campaign, pickup = row["campaign"].to_numpy(), row["pickup_store"].to_numpy()
    frame = pd.DataFrame(
        {
            "platform": CHANNELS[row["channel"].to_numpy()],
            "order_id": row["order_id"].to_numpy(),
            "buyer_id": ids["buyer_id"][at],
            "member_id": ids["member_id"][at],
            "phone": ids["phone"][at],
            "receiver_name": ids["receiver_name"][at],
            "unionid": ids["unionid"][at],
            "order_time": row["secs"].to_numpy(),
            "status": st["status"].to_numpy(),
            "gross_amount": row["gross_cents"].to_numpy(),
            "discount_amount": row["discount_cents"].to_numpy(),
            "pickup_store_id": _pick(master.stores["store_id"].to_numpy()[pickup], pickup >= 0),
            "campaign_id": _pick(
                master.campaigns["campaign_id"].to_numpy()[np.maximum(campaign, 0)], campaign >= 0
            ),
            "is_test": row["is_test"].to_numpy(),
            "updated_at": st["updated"].to_numpy(),
        }
    )
    frame["_masked"] = ids["_masked"][at]
    day = export_day(config, st["updated"].to_numpy())
    return _meta(frame, day, "", CHANNEL_STYLE[row["channel"].to_numpy()], at)


def _refunds(chunk, master, config, rng) -> pd.DataFrame:
    r = chunk.book.refunds
    frame = pd.DataFrame(
        {
            "refund_id": r["refund_id"].to_numpy(dtype=object),
            "channel": CHANNELS[r["channel"].to_numpy()],
            "order_id": r["order_id"].to_numpy(),
            "sku_id": master.products["sku_id"].to_numpy()[r["sku"].to_numpy()],
            "quantity": r["quantity"].to_numpy(),
            "refund_amount": r["refund_cents"].to_numpy(),
            "refund_time": r["secs"].to_numpy(),
            "reason": r["reason"].to_numpy(),
        }
    )
    style = CHANNEL_STYLE[r["channel"].to_numpy()]
    return _meta(frame, export_day(config, r["secs"].to_numpy()), "", style)


def _social_events(chunk, master, config, rng) -> pd.DataFrame:
    t = chunk.activity.touches
    who, k = t["person"].to_numpy(), len(t)
    platform, etype = t["platform"].to_numpy(dtype=object), t["event_type"].to_numpy(dtype=object)
    wechat, consult = platform == "wechat", etype == "consultation"
    user_id = np.full(k, None, dtype=object)
    for name, column in USER_ID_COLUMN.items():
        mask = platform == name
        user_id[mask] = _person(chunk, column, who[mask])
    # off WeChat a lead form or a linked account now and then reveals a strong key
    reveal = ~wechat & (rng.random(k) < 0.12)
    which = rng.integers(0, 3, k)
    phone = _person(chunk, "phone", who)
    show_phone = (reveal & (which == 0)) | (consult & (rng.random(k) < 0.65))
    unionid = _person(chunk, "unionid", who)
    show_unionid = (wechat & ~(consult & show_phone & (rng.random(k) < 0.2))) | (
        reveal & (which == 1)
    )
    member = t["is_member"].to_numpy() & (
        (reveal & (which == 2)) | (consult & (rng.random(k) < 0.3))
    )
    store = chunk.people["home_store"].to_numpy()[who]
    campaign = t["campaign"].to_numpy()
    content = ~consult & (etype != "miniprogram_visit") & (etype != "campaign_click")
    prefix = pd.Series(platform).map(CONTENT_PREFIX).to_numpy(dtype=object)
    frame = pd.DataFrame(
        {
            "event_id": ("E" + padded(chunk.index * 10**9 + np.arange(k), 12)).to_numpy(object),
            "platform": platform,
            "event_type": etype,
            "event_time": t["secs"].to_numpy(),
            "platform_user_id": user_id,
            "unionid": _pick(unionid, show_unionid),
            "openid": _pick(_person(chunk, "openid", who), etype == "miniprogram_visit"),
            "phone": _pick(phone, show_phone & pd.notna(phone)),
            "member_id": _pick(_person(chunk, "member_id", who), member),
            "device_id": _pick(
                _person(chunk, "device_id", who), (platform == "douyin") & (rng.random(k) < 0.15)
            ),
            "content_id": _pick(
                prefix + padded(rng.integers(0, 10**6, k), 6).to_numpy(object), content
            ),
            "campaign_id": _pick(
                master.campaigns["campaign_id"].to_numpy()[np.maximum(campaign, 0)], campaign >= 0
            ),
            "guide_id": _pick(_guides(rng, store), consult),
            "store_id": _pick(master.stores["store_id"].to_numpy()[store], consult),
        }
    )
    return _meta(frame, export_day(config, t["secs"].to_numpy()), "", TS_UTC_Z)


def _store_visits(chunk, master, config, rng) -> pd.DataFrame:
    v = chunk.activity.visits
    who, k = v["person"].to_numpy(), len(v)
    order = v["order"].to_numpy()
    store = np.where(
        order >= 0,
        chunk.book.orders["store"].to_numpy()[np.maximum(order, 0)],
        chunk.people["home_store"].to_numpy()[who],
    )
    day = export_day(config, v["secs"].to_numpy())
    member = (chunk.activity.member_day[who] <= day) & (rng.random(k) < 0.7)
    phone = _person(chunk, "phone", who)
    device = _person(chunk, "device_id", who)
    show_phone = pd.notna(phone) & (rng.random(k) < 0.25)
    show_device = pd.notna(device) & (rng.random(k) < 0.85)
    frame = pd.DataFrame(
        {
            "visit_id": ("V" + padded(chunk.index * 10**9 + np.arange(k), 12)).to_numpy(object),
            "store_id": master.stores["store_id"].to_numpy()[store],
            "visit_time": v["secs"].to_numpy(),
            "member_id": _pick(_person(chunk, "member_id", who), member),
            "phone": _pick(phone, show_phone),
            "device_id": _pick(device, show_device),
        }
    )
    seen = member | show_phone | show_device  # an anonymous visit is never exported
    return _meta(frame, day, "", TS_LOCAL)[seen].reset_index(drop=True)


def _crm_members(chunk, master, config, rng) -> pd.DataFrame:
    c = chunk.activity.crm
    who = c["person"].to_numpy()
    referrer = c["referrer"].to_numpy()
    unionid = _person(chunk, "unionid", who)
    frame = pd.DataFrame(
        {
            "member_id": _person(chunk, "member_id", who),
            "phone": _person(chunk, "phone", who),
            "member_name": _person(chunk, "name", who),
            "unionid": _pick(unionid, chunk.people["mp_member_bound"].to_numpy()[who]),
            "signup_time": c["signup_secs"].to_numpy(),
            "signup_channel": c["signup_channel"].to_numpy(),
            "tier": TIERS[c["tier"].to_numpy()],
            "home_store_id": master.stores["store_id"].to_numpy()[
                chunk.people["home_store"].to_numpy()[who]
            ],
            "referrer_member_id": _pick(
                chunk.people["member_id"].to_numpy(dtype=object)[np.maximum(referrer, 0)],
                referrer >= 0,
            ),
            "marketing_consent": c["consent"].to_numpy(),
            "consent_updated_at": c["consent_secs"].to_numpy(),
            "updated_at": c["updated_secs"].to_numpy(),
        }
    )
    return _meta(frame, export_day(config, c["updated_secs"].to_numpy()), "", TS_LOCAL)


def _crm_points(chunk, master, config, rng) -> pd.DataFrame:
    pts = chunk.activity.points
    k = len(pts)
    frame = pd.DataFrame(
        {
            "points_txn_id": ("PT" + padded(chunk.index * 10**9 + np.arange(k), 12)).to_numpy(
                object
            ),
            "member_id": _person(chunk, "member_id", pts["person"].to_numpy()),
            "txn_time": pts["secs"].to_numpy(),
            "channel": CHANNELS[pts["channel"].to_numpy()],
            "order_id": chunk.book.orders["order_id"].to_numpy()[pts["order"].to_numpy()],
            "txn_type": pts["txn_type"].to_numpy(dtype=object),
            "points": pts["points"].to_numpy(),
        }
    )
    return _meta(frame, export_day(config, pts["secs"].to_numpy()), "", TS_LOCAL)


def deletion_candidates(chunk: Chunk, config: WorldConfig, rng) -> np.ndarray:
    """Persons asking for erasure: identifiable by their own phone or member id."""
    p = chunk.people
    member = chunk.activity.member_day < NEVER
    eligible = np.flatnonzero((p["owns_phone"] & ~p["family_shared"]).to_numpy() | member)
    count = rng.binomial(len(eligible), config.deletion_request_rate) if len(eligible) else 0
    if chunk.index == 0 and len(eligible):
        count = max(count, 1)  # every world exercises the erasure path
    return np.sort(rng.choice(eligible, size=count, replace=False))


def _deletion_requests(chunk, master, config, rng) -> pd.DataFrame:
    who = chunk.deletion
    k = len(who)
    member = chunk.activity.member_day[who] < NEVER
    own_phone = (chunk.people["owns_phone"] & ~chunk.people["family_shared"]).to_numpy()[who]
    show_phone = own_phone & (~member | (rng.random(k) < 0.5))
    day = rng.integers(0, config.days, k)
    secs = day_start_utc(config, day) + rng.integers(9 * 3600, 18 * 3600, k)
    frame = pd.DataFrame(
        {
            "request_id": ("DR" + padded(chunk.index * 10**6 + np.arange(k), 9)).to_numpy(object),
            "requested_at": secs,
            "phone": _pick(_person(chunk, "phone", who), show_phone),
            "member_id": _pick(_person(chunk, "member_id", who), member),
        }
    )
    return _meta(frame, day, "", TS_LOCAL)
