"""Ground truth: who is who, what really happened, and what was spoiled. Never read by the
pipeline; tests and benchmarks score the warehouse against it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.sample_world.behaviour import NEVER
from orchestration.sample_world.master import Master
from orchestration.sample_world.render import CHANNELS, Chunk

TS = pa.timestamp("s", tz="UTC")
IDENTITY_COLUMNS = {
    "phone": "phone",
    "member_id": "member_id",
    "unionid": "unionid",
    "openid": "openid",
    "tmall_buyer_id": "tmall_buyer_id",
    "jd_buyer_id": "jd_buyer_id",
    "douyin_shop_buyer_id": "douyin_shop_buyer_id",
    "douyin_user_id": "douyin_user_id",
    "xiaohongshu_user_id": "xiaohongshu_user_id",
    "weibo_user_id": "weibo_user_id",
    "device_id": "device_id",
}
S, B, F, D = pa.string(), pa.bool_(), pa.float64(), pa.date32()
SCHEMAS = {
    "persons": pa.schema(
        [
            ("person_id", S),
            ("household_id", S),
            ("phone_e164", S),
            ("member_id", S),
            ("unionid", S),
            ("openid", S),
            ("tmall_buyer_id", S),
            ("jd_buyer_id", S),
            ("douyin_shop_buyer_id", S),
            ("douyin_user_id", S),
            ("xiaohongshu_user_id", S),
            ("weibo_user_id", S),
            ("device_id", S),
            ("name", S),
            ("home_store_id", S),
            ("referrer_person_id", S),
            ("first_purchase_day", D),
            ("marketing_consent_final", B),
            ("is_deleted_request", B),
        ]
    ),
    "identities": pa.schema(
        [("identity_type", S), ("identity_value", S), ("person_id", S), ("shared_kind", S)]
    ),
    "orders": pa.schema(
        [
            ("channel", S),
            ("order_id", S),
            ("person_id", S),
            ("order_time_utc", TS),
            ("gross_amount", F),
            ("discount_amount", F),
            ("net_amount", F),
            ("status", S),
            ("is_test", B),
            ("is_cancelled", B),
            ("store_id", S),
            ("pickup_store_id", S),
            ("pickup_order_id", S),
            ("pickup_platform", S),
            ("campaign_id", S),
            ("is_invalid_injected", B),
        ]
    ),
    "order_lines": pa.schema(
        [
            ("channel", S),
            ("order_id", S),
            ("line_no", pa.int64()),
            ("sku_id", S),
            ("quantity", pa.int64()),
            ("unit_price", F),
            ("line_amount", F),
            ("is_invalid_injected", B),
        ]
    ),
    "refunds": pa.schema(
        [
            ("channel", S),
            ("refund_id", S),
            ("order_id", S),
            ("person_id", S),
            ("sku_id", S),
            ("quantity", pa.int64()),
            ("refund_amount", F),
            ("refund_time_utc", TS),
        ]
    ),
    "touches": pa.schema(
        [
            ("person_id", S),
            ("event_id", S),
            ("platform", S),
            ("event_type", S),
            ("campaign_id", S),
            ("event_time_utc", TS),
        ]
    ),
    "defects": pa.schema(
        [
            ("source", S),
            ("file", S),
            ("line", pa.int64()),
            ("defect_kind", S),
            ("expected_reason", S),
        ]
    ),
}


class TruthWriter:
    """One Parquet file per truth table, appended chunk by chunk."""

    def __init__(self, root: Path):
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.writers = {
            name: pq.ParquetWriter(root / f"{name}.parquet", schema)
            for name, schema in SCHEMAS.items()
        }

    def append(self, name: str, frame: pd.DataFrame) -> None:
        schema = SCHEMAS[name]
        table = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
        self.writers[name].write_table(table)

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()

    def write_table(self, name: str, frame: pd.DataFrame) -> None:
        frame.to_parquet(self.root / f"{name}.parquet", index=False)

    def write_chunk(
        self, chunk: Chunk, spoiled: dict[str, pd.DataFrame], master: Master, start
    ) -> None:
        self.append("persons", _persons(chunk, master, start))
        self.append("identities", _identities(chunk))
        self.append("orders", _orders(chunk, spoiled, master))
        self.append("order_lines", _order_lines(chunk, spoiled, master))
        self.append("refunds", _refunds(chunk, master))
        self.append("touches", _touches(chunk, spoiled, master))


def _utc(secs) -> pd.Series:
    return pd.to_datetime(np.asarray(secs, dtype=np.int64), unit="s", utc=True)


def _person_ids(chunk: Chunk, who) -> np.ndarray:
    return chunk.people["person_id"].to_numpy(dtype=object)[np.asarray(who)]


def _members(chunk: Chunk) -> np.ndarray:
    return chunk.activity.member_day < NEVER


def _persons(chunk: Chunk, master: Master, start) -> pd.DataFrame:
    p, act, orders = chunk.people, chunk.activity, chunk.book.orders
    frame = p[[c for c in IDENTITY_COLUMNS.values() if c not in ("phone", "member_id")]].copy()
    frame["person_id"], frame["household_id"], frame["name"] = (
        p["person_id"],
        p["household_id"],
        p["name"],
    )
    frame["phone_e164"] = np.where(p["phone"].notna(), "+86" + p["phone"].astype(str), None)
    frame["member_id"] = np.where(_members(chunk), p["member_id"], None)
    frame["home_store_id"] = master.stores["store_id"].to_numpy()[p["home_store"].to_numpy()]
    ref = p["referrer"].to_numpy()
    frame["referrer_person_id"] = np.where(ref >= 0, _person_ids(chunk, np.maximum(ref, 0)), None)
    bought = orders[~orders["is_test"] & ~orders["is_cancelled"] & (orders["gross_cents"] > 0)]
    first = bought.groupby("person")["day"].min().reindex(range(len(p)))
    frame["first_purchase_day"] = (pd.Timestamp(start) + pd.to_timedelta(first, unit="D")).dt.date
    crm = act.crm.sort_values("updated_secs", kind="stable").groupby("person")["consent"].last()
    frame["marketing_consent_final"] = crm.reindex(range(len(p))).fillna(False).astype(bool)
    deleted = np.zeros(len(p), dtype=bool)
    deleted[chunk.deletion] = True
    frame["is_deleted_request"] = deleted
    return frame


def _identities(chunk: Chunk) -> pd.DataFrame:
    p = chunk.people
    parts = []
    for kind, column in IDENTITY_COLUMNS.items():
        has = p[column].notna().to_numpy()
        if kind == "phone":  # the phone belongs to whoever owns it; family members borrow it
            has = p["owns_phone"].to_numpy()
        if kind == "member_id":
            has = _members(chunk)
        value = p[column].to_numpy(dtype=object)[has]
        shared = None
        if kind == "phone":
            value = "+86" + value.astype(str).astype(object)
            shared = np.where(p["family_shared"].to_numpy()[has], "family", None)
        parts.append(
            pd.DataFrame(
                {
                    "identity_type": kind,
                    "identity_value": value,
                    "person_id": p["person_id"].to_numpy(dtype=object)[has],
                    "shared_kind": shared,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def store_phone_identities(master: Master) -> pd.DataFrame:
    phones = "+86" + master.stores["store_phone"].astype(str)
    return pd.DataFrame(
        {
            "identity_type": "phone",
            "identity_value": phones,
            "person_id": None,
            "shared_kind": "store_phone",
        }
    )


def _invalid_refs(spoiled: dict[str, pd.DataFrame], *sources: str) -> np.ndarray:
    refs = [
        f.loc[f["_invalid"].notna(), "_ref"].to_numpy() for s, f in spoiled.items() if s in sources
    ]
    return np.concatenate(refs) if refs else np.array([], dtype=np.int64)


def _orders(chunk: Chunk, spoiled, master: Master) -> pd.DataFrame:
    o = chunk.book.orders
    stores = master.stores["store_id"].to_numpy(dtype=object)
    pickup_of = o["pickup_of"].to_numpy()
    invalid = np.isin(o["order_seq"], _invalid_refs(spoiled, "pos_receipts", "ecom_orders"))
    campaign = o["campaign"].to_numpy()
    return pd.DataFrame(
        {
            "channel": CHANNELS[o["channel"].to_numpy()],
            "order_id": o["order_id"],
            "person_id": _person_ids(chunk, o["person"]),
            "order_time_utc": _utc(o["secs"]),
            "gross_amount": o["gross_cents"] / 100,
            "discount_amount": o["discount_cents"] / 100,
            "net_amount": (o["gross_cents"] - o["discount_cents"]) / 100,
            "status": o["status"],
            "is_test": o["is_test"],
            "is_cancelled": o["is_cancelled"],
            "store_id": np.where(o["store"] >= 0, stores[np.maximum(o["store"], 0)], None),
            "pickup_store_id": np.where(
                o["pickup_store"] >= 0, stores[np.maximum(o["pickup_store"], 0)], None
            ),
            "pickup_order_id": np.where(
                pickup_of >= 0, o["order_id"].to_numpy()[np.maximum(pickup_of, 0)], None
            ),
            "pickup_platform": np.where(
                pickup_of >= 0, CHANNELS[o["channel"].to_numpy()[np.maximum(pickup_of, 0)]], None
            ),
            "campaign_id": np.where(
                campaign >= 0,
                master.campaigns["campaign_id"].to_numpy()[np.maximum(campaign, 0)],
                None,
            ),
            "is_invalid_injected": invalid,
        }
    )


def _order_lines(chunk: Chunk, spoiled, master: Master) -> pd.DataFrame:
    lines, o = chunk.book.lines, chunk.book.orders
    owner = o.iloc[lines["order"].to_numpy()]
    invalid = _invalid_refs(spoiled, "pos_receipt_lines", "ecom_order_lines")
    return pd.DataFrame(
        {
            "channel": CHANNELS[owner["channel"].to_numpy()],
            "order_id": owner["order_id"].to_numpy(),
            "line_no": lines["line_no"].to_numpy(),
            "sku_id": master.products["sku_id"].to_numpy()[lines["sku"].to_numpy()],
            "quantity": lines["quantity"].to_numpy(),
            "unit_price": lines["unit_cents"].to_numpy() / 100,
            "line_amount": lines["line_cents"].to_numpy() / 100,
            "is_invalid_injected": np.isin(np.arange(len(lines)), invalid),
        }
    )


def _refunds(chunk: Chunk, master: Master) -> pd.DataFrame:
    r = chunk.book.refunds
    return pd.DataFrame(
        {
            "channel": CHANNELS[r["channel"].to_numpy()],
            "refund_id": r["refund_id"],
            "order_id": r["order_id"],
            "person_id": _person_ids(chunk, r["person"]),
            "sku_id": master.products["sku_id"].to_numpy()[r["sku"].to_numpy()],
            "quantity": r["quantity"],
            "refund_amount": r["refund_cents"] / 100,
            "refund_time_utc": _utc(r["secs"]),
        }
    )


def _touches(chunk: Chunk, spoiled, master: Master) -> pd.DataFrame:
    t = chunk.activity.touches
    campaign = t["campaign"].to_numpy()
    return pd.DataFrame(
        {
            "person_id": _person_ids(chunk, t["person"]),
            "event_id": spoiled["social_events"]["event_id"].to_numpy(),
            "platform": t["platform"],
            "event_type": t["event_type"],
            "campaign_id": np.where(
                campaign >= 0,
                master.campaigns["campaign_id"].to_numpy()[np.maximum(campaign, 0)],
                None,
            ),
            "event_time_utc": _utc(t["secs"]),
        }
    )
