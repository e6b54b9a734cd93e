"""Every identifier in the exports resolves to exactly one truth identity."""

from collections import defaultdict

import pandas as pd

from .conftest import canonical_phone, original_files, read_rows

BUYER_TYPE = {
    "tmall": "tmall_buyer_id",
    "jd": "jd_buyer_id",
    "miniprogram": "openid",
    "douyin_shop": "douyin_shop_buyer_id",
}
USER_TYPE = {
    "xiaohongshu": "xiaohongshu_user_id",
    "douyin": "douyin_user_id",
    "weibo": "weibo_user_id",
}
# source -> column -> identity type (a dict: type depends on the row's platform)
ID_FIELDS = {
    "pos_receipts": {"member_id": "member_id", "phone": "phone"},
    "crm_members": {
        "member_id": "member_id",
        "referrer_member_id": "member_id",
        "phone": "phone",
        "unionid": "unionid",
    },
    "crm_points": {"member_id": "member_id"},
    "ecom_orders": {
        "buyer_id": BUYER_TYPE,
        "member_id": "member_id",
        "phone": "phone",
        "unionid": "unionid",
    },
    "social_events": {
        "platform_user_id": USER_TYPE,
        "unionid": "unionid",
        "openid": "openid",
        "phone": "phone",
        "member_id": "member_id",
        "device_id": "device_id",
    },
    "store_visits": {"member_id": "member_id", "phone": "phone", "device_id": "device_id"},
    "deletion_requests": {"phone": "phone", "member_id": "member_id"},
}


def canonical(kind: str, raw: str) -> str:
    if kind == "phone":
        return canonical_phone(raw)
    if kind == "member_id":
        return raw.strip().upper()
    return raw.strip()


def exported_identities(world) -> tuple[set, list[str]]:
    seen, masked = set(), []
    for source, fields in ID_FIELDS.items():
        for path in original_files(world, source):
            for row in read_rows(path):
                for column, kind in fields.items():
                    raw = row.get(column)
                    if not raw:
                        continue
                    if isinstance(kind, dict):
                        kind = kind[row["platform"]]
                    if kind == "phone" and "*" in raw:
                        masked.append(raw)
                        continue
                    seen.add((kind, canonical(kind, raw)))
    return seen, masked


def test_every_exported_identity_is_in_truth_exactly_once(defective_world):
    truth = pd.read_parquet(defective_world / "truth" / "identities.parquet")
    keys = list(zip(truth["identity_type"], truth["identity_value"], strict=True))
    assert len(keys) == len(set(keys))
    seen, _ = exported_identities(defective_world)
    assert len(seen) > 1000
    missing = seen - set(keys)
    assert not missing, sorted(missing)[:10]


def test_masked_phones_are_never_identities(defective_world):
    truth = pd.read_parquet(defective_world / "truth" / "identities.parquet")
    _, masked = exported_identities(defective_world)
    assert masked and all(len(m) == 11 and m[3:7] == "****" for m in masked)
    assert not truth["identity_value"].str.contains(r"\*").any()


def test_identity_values_are_canonical(defective_world):
    truth = pd.read_parquet(defective_world / "truth" / "identities.parquet")
    phones = truth.loc[truth["identity_type"] == "phone", "identity_value"]
    assert phones.str.fullmatch(r"\+861[3-9]\d{9}").all()
    members = truth.loc[truth["identity_type"] == "member_id", "identity_value"]
    assert members.str.fullmatch(r"M\d{8}").all()
    assert (truth["identity_value"] == truth["identity_value"].str.strip()).all()


def test_store_phone_is_keyed_for_several_persons(defective_world):
    truth = pd.read_parquet(defective_world / "truth" / "identities.parquet")
    store_phones = set(truth.loc[truth["shared_kind"] == "store_phone", "identity_value"])
    assert (
        store_phones and truth.loc[truth["shared_kind"] == "store_phone", "person_id"].isna().all()
    )
    orders = pd.read_parquet(defective_world / "truth" / "orders.parquet")
    owner = dict(zip(orders["order_id"], orders["person_id"], strict=True))
    persons_per_phone = defaultdict(set)
    for path in original_files(defective_world, "pos_receipts"):
        for row in read_rows(path):
            if row["phone"] and row["receipt_id"]:
                phone = canonical_phone(row["phone"])
                if phone in store_phones:
                    persons_per_phone[phone].add(owner[row["receipt_id"]])
    assert max(len(p) for p in persons_per_phone.values()) >= 3


def test_family_phones_are_shared_by_household_members(defective_world):
    persons = pd.read_parquet(defective_world / "truth" / "persons.parquet")
    identities = pd.read_parquet(defective_world / "truth" / "identities.parquet")
    family = identities[identities["shared_kind"] == "family"]
    assert len(family) > 0
    users = persons[persons["phone_e164"].isin(family["identity_value"])]
    per_phone = users.groupby("phone_e164")["household_id"].agg(["nunique", "size"])
    assert (per_phone["nunique"] == 1).all() and (per_phone["size"] >= 2).all()


def test_most_buyers_are_linkable_by_a_strong_key(defective_world):
    """A buyer's own orders, receipts or member records carry a phone, member id or unionid."""
    persons = pd.read_parquet(defective_world / "truth" / "persons.parquet")
    buyers = persons[persons["first_purchase_day"].notna()]
    strong = buyers[["phone_e164", "member_id", "unionid"]].notna().any(axis=1)
    assert strong.mean() > 0.85
