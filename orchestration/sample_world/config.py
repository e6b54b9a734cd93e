"""Every knob of the sample world in one dataclass, so a run is reproducible from config.json."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

# True lift per marketing channel: how much one campaign touch (or an active campaign on a sales
# channel) raises purchase propensity. Channels below EFFECTIVE_LIFT spend money for little gain.
DEFAULT_CHANNEL_LIFT = {
    "xiaohongshu": 1.6,
    "wechat": 1.2,
    "douyin": 0.9,
    "weibo": 0.05,
    "miniprogram": 0.8,
    "tmall": 0.5,
    "jd": 0.04,
    "douyin_shop": 0.06,
    "pos": 0.3,
}
EFFECTIVE_LIFT = 0.2


@dataclass(frozen=True)
class WorldConfig:
    # size and time
    customers: int = 20_000
    days: int = 180
    seed: int = 7
    start_date: str = "2026-01-01"
    chunk_size: int = 25_000  # persons simulated at once: bounds memory
    n_stores: int = 40
    n_products: int = 200
    n_campaigns: int = 24

    # who owns which identifier (shares of persons; sub-shares are of the parent group)
    phone_share: float = 0.9
    initial_member_share: float = 0.28  # members before day 0 (share of persons with a phone)
    wechat_share: float = 0.7
    miniprogram_share: float = 0.6  # of WeChat users
    tmall_share: float = 0.35
    jd_share: float = 0.22
    douyin_share: float = 0.4
    douyin_shop_share: float = 0.4  # of Douyin users
    xiaohongshu_share: float = 0.35
    weibo_share: float = 0.15
    device_share: float = 0.4
    family_phone_household_rate: float = 0.05  # households sharing one phone between 2-3 persons

    # behaviour
    purchase_rate: float = 0.006  # base daily purchase probability of an active customer
    prospect_share: float = 0.35  # persons who only become customers after touches / referral
    churn_share: float = 0.25  # persons who churn at some day of the period
    touch_rate: float = 0.03  # daily content-touch probability per social account
    touch_decay: float = 0.85  # daily decay of the touch score that lifts propensity
    channel_lift: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_CHANNEL_LIFT))
    store_phone_receipt_rate: float = 0.03  # receipts where staff keyed the store's own phone
    return_rate: float = 0.05
    cancel_rate: float = 0.03
    test_order_rate: float = 0.001
    bopis_rate: float = 0.08  # of mini-program and Tmall orders
    referral_rate: float = 0.04  # of non-initial-member persons with a phone
    signup_on_purchase_rate: float = 0.2
    consent_change_rate: float = 0.002  # daily, per member
    deletion_request_rate: float = 0.0005
    price_drift_rate: float = 0.06  # of (sku, channel) pairs
    title_drift_rate: float = 0.02  # of (sku, channel) pairs

    # encodings
    gbk_regions: tuple[str, ...] = ("north", "west")
    stores_encoding: str = "gbk"
    bom_file_rate: float = 0.03  # of the other CSV files

    # defects (rates are per row of the sources each kind applies to, unless noted)
    phone_format_rate: float = 0.2  # non-plain phone formats, of rows carrying a phone
    traditional_name_rate: float = 0.05  # of rows carrying a name
    id_noise_rate: float = 0.03  # of rows carrying a member or platform id
    duplicate_row_rate: float = 0.003
    duplicate_file_rate: float = 0.01  # of daily files
    late_arrival_rate: float = 0.01
    negative_quantity_rate: float = 0.003
    unknown_store_rate: float = 0.003
    missing_order_id_rate: float = 0.003
    future_date_rate: float = 0.003

    @property
    def start(self) -> dt.date:
        return dt.date.fromisoformat(self.start_date)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
