"""The data contract: every landing-zone source, its columns and the rules a row must pass.

This module is the single definition that the sample-world generator writes to, the loader
validates against and `data/README.md` documents. A real brand maps its exports to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PLATFORMS_ECOM = ("tmall", "jd", "miniprogram", "douyin_shop")
SALES_CHANNELS = ("pos", *PLATFORMS_ECOM)
SOCIAL_PLATFORMS = ("xiaohongshu", "douyin", "weibo", "wechat")
MARKETING_CHANNELS = (*SOCIAL_PLATFORMS, *PLATFORMS_ECOM, "pos")
SOCIAL_EVENT_TYPES = (
    "note_view",
    "video_view",
    "post_view",
    "article_read",
    "like",
    "save",
    "comment",
    "share",
    "follow",
    "consultation",
    "miniprogram_visit",
    "campaign_click",
)


@dataclass(frozen=True)
class Column:
    """One contract column.

    type is one of: string, integer, decimal, boolean, date, timestamp.
    Timestamps without an offset are read as Asia/Shanghai local time; with `Z` or an offset they
    are read as given. The raw layer stores every timestamp as UTC.
    """

    name: str
    type: str = "string"
    required: bool = False
    allowed: tuple[str, ...] | None = None
    non_negative: bool = False
    positive: bool = False
    not_in_future: bool = False
    references: str | None = None  # "<source>.<column>" that must already be loaded
    # personal data (PIPL): "phone", "identifier", "name", or "reference" (names another person)
    personal: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Source:
    name: str
    format: str  # "csv" or "jsonl"
    description: str
    natural_key: tuple[str, ...]
    columns: tuple[Column, ...]
    encodings: tuple[str, ...] = ("utf-8", "utf-8-sig")
    depends_on: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def personal_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.personal)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


C = Column
GBK = ("utf-8", "utf-8-sig", "gb18030")

SOURCES: tuple[Source, ...] = (
    Source(
        "stores",
        "csv",
        "Store master: owned and franchise stores. Delivered when it changes.",
        ("store_id",),
        (
            C("store_id", required=True, description="Store code, e.g. S0012."),
            C("store_name", required=True),
            C("store_type", required=True, allowed=("owned", "franchise")),
            C("city", required=True),
            C("region", required=True),
            C("store_phone", description="The store's own landline or mobile."),
            C("opened_date", "date"),
        ),
        encodings=GBK,
    ),
    Source(
        "products",
        "csv",
        "Product master: one row per SKU with the brand's standard list price.",
        ("sku_id",),
        (
            C("sku_id", required=True),
            C("product_id", required=True),
            C("product_name", required=True),
            C("category", required=True),
            C("list_price", "decimal", required=True, non_negative=True, description="CNY."),
            C("launched_date", "date"),
        ),
    ),
    Source(
        "channel_prices",
        "csv",
        "Daily price list per sales channel: the price and title each channel shows for a SKU.",
        ("price_date", "channel", "sku_id"),
        (
            C("price_date", "date", required=True),
            C("channel", required=True, allowed=SALES_CHANNELS),
            C("sku_id", required=True, references="products.sku_id"),
            C("list_price", "decimal", required=True, non_negative=True),
            C("product_title", required=True),
        ),
        depends_on=("products",),
    ),
    Source(
        "campaigns",
        "csv",
        "Campaign master: one row per campaign, its channel, objective and promoted category.",
        ("campaign_id",),
        (
            C("campaign_id", required=True),
            C("campaign_name", required=True),
            C("channel", required=True, allowed=MARKETING_CHANNELS),
            C(
                "objective",
                required=True,
                allowed=("seeding", "conversion", "retention", "referral"),
            ),
            C("promoted_category"),
            C("start_date", "date", required=True),
            C("end_date", "date", required=True),
        ),
    ),
    Source(
        "marketing_spend",
        "csv",
        "Daily marketing spend per channel and campaign, in CNY.",
        ("spend_date", "channel", "campaign_id"),
        (
            C("spend_date", "date", required=True, not_in_future=True),
            C("channel", required=True, allowed=MARKETING_CHANNELS),
            C("campaign_id", required=True, references="campaigns.campaign_id"),
            C("spend_cny", "decimal", required=True, non_negative=True),
            C("impressions", "integer", non_negative=True),
            C("clicks", "integer", non_negative=True),
        ),
        depends_on=("campaigns",),
    ),
    Source(
        "crm_members",
        "csv",
        "CRM member export: members created or changed that day "
        "(sign-up, tier, consent, referrer).",
        ("member_id", "updated_at"),
        (
            C("member_id", personal="identifier", required=True),
            C("phone", personal="phone"),
            C("member_name", personal="name"),
            C(
                "unionid",
                personal="identifier",
                description="WeChat unionid bound to the membership.",
            ),
            C("signup_time", "timestamp", required=True, not_in_future=True),
            C("signup_channel", required=True, allowed=(*SALES_CHANNELS, "wechat")),
            C("tier", required=True, allowed=("regular", "silver", "gold", "platinum")),
            C("home_store_id", references="stores.store_id"),
            C(
                "referrer_member_id",
                personal="identifier",
                description="Member who referred this one (以老带新).",
            ),
            C("marketing_consent", "boolean", required=True),
            C("consent_updated_at", "timestamp"),
            C("updated_at", "timestamp", required=True, not_in_future=True),
        ),
        depends_on=("stores",),
    ),
    Source(
        "crm_points",
        "csv",
        "Member points transactions from every channel: earned, redeemed, expired, adjusted.",
        ("points_txn_id",),
        (
            C("points_txn_id", required=True),
            C("member_id", personal="identifier", required=True),
            C("txn_time", "timestamp", required=True, not_in_future=True),
            C("channel", required=True, allowed=SALES_CHANNELS),
            C("order_id"),
            C("txn_type", required=True, allowed=("earn", "redeem", "expire", "adjust")),
            C("points", "integer", required=True, description="Signed: redemptions negative."),
        ),
    ),
    Source(
        "pos_receipts",
        "csv",
        "Store POS receipts, one file per region and day; some regions' POS export GBK.",
        ("receipt_id",),
        (
            C("receipt_id", required=True),
            C("store_id", required=True, references="stores.store_id"),
            C("receipt_time", "timestamp", required=True, not_in_future=True),
            C("member_id", personal="identifier"),
            C(
                "phone",
                personal="phone",
                description="As keyed in by staff; sometimes the store's own phone.",
            ),
            C("customer_name", personal="name"),
            C("guide_id", description="Shopping guide who served the sale."),
            C("pickup_order_id", description="Online order fulfilled by this receipt (BOPIS)."),
            C("pickup_platform", allowed=PLATFORMS_ECOM),
            C("gross_amount", "decimal", required=True, non_negative=True),
            C("discount_amount", "decimal", required=True, non_negative=True),
        ),
        encodings=GBK,
        depends_on=("stores",),
    ),
    Source(
        "pos_receipt_lines",
        "csv",
        "Lines of the POS receipts.",
        ("receipt_id", "line_no"),
        (
            C("receipt_id", required=True),
            C("line_no", "integer", required=True, positive=True),
            C("sku_id", required=True, references="products.sku_id"),
            C("quantity", "integer", required=True, positive=True),
            C("unit_price", "decimal", required=True, non_negative=True),
            C("line_amount", "decimal", required=True, non_negative=True),
        ),
        encodings=GBK,
        depends_on=("products",),
    ),
    Source(
        "ecom_orders",
        "csv",
        "Online orders from Tmall, JD, the mini-program mall and the Douyin shop. An order is "
        "exported again when its status changes.",
        ("platform", "order_id", "status"),
        (
            C("platform", required=True, allowed=PLATFORMS_ECOM),
            C("order_id", required=True),
            C(
                "buyer_id",
                personal="identifier",
                required=True,
                description="Platform buyer id (openid on mini-program).",
            ),
            C(
                "member_id",
                personal="identifier",
                description="Brand member bound to the buyer account, if any.",
            ),
            C("phone", personal="phone", description="Masked (138****8000) on Tmall and JD."),
            C("receiver_name", personal="name"),
            C("unionid", personal="identifier"),
            C("order_time", "timestamp", required=True, not_in_future=True),
            C("status", required=True, allowed=("paid", "shipped", "completed", "cancelled")),
            C("gross_amount", "decimal", required=True, non_negative=True),
            C("discount_amount", "decimal", required=True, non_negative=True),
            C("pickup_store_id", references="stores.store_id", description="BOPIS store."),
            C("campaign_id"),
            C("is_test", "boolean"),
            C("updated_at", "timestamp", required=True, not_in_future=True),
        ),
        depends_on=("stores",),
    ),
    Source(
        "ecom_order_lines",
        "csv",
        "Lines of the online orders.",
        ("platform", "order_id", "line_no"),
        (
            C("platform", required=True, allowed=PLATFORMS_ECOM),
            C("order_id", required=True),
            C("line_no", "integer", required=True, positive=True),
            C("sku_id", required=True, references="products.sku_id"),
            C("quantity", "integer", required=True, positive=True),
            C("unit_price", "decimal", required=True, non_negative=True),
            C("line_amount", "decimal", required=True, non_negative=True),
        ),
        depends_on=("products",),
    ),
    Source(
        "refunds",
        "csv",
        "Refunds and returns from every sales channel, linked to their order (receipt for POS).",
        ("channel", "refund_id"),
        (
            C("refund_id", required=True),
            C("channel", required=True, allowed=SALES_CHANNELS),
            C("order_id", required=True),
            C("sku_id"),
            C("quantity", "integer", positive=True),
            C("refund_amount", "decimal", required=True, non_negative=True),
            C("refund_time", "timestamp", required=True, not_in_future=True),
            C("reason"),
        ),
    ),
    Source(
        "social_events",
        "jsonl",
        "Social and content interactions: Xiaohongshu, Douyin, Weibo and WeChat (articles, "
        "consultations with shopping guides, mini-program visits, campaign clicks).",
        ("event_id",),
        (
            C("event_id", required=True),
            C("platform", required=True, allowed=SOCIAL_PLATFORMS),
            C("event_type", required=True, allowed=SOCIAL_EVENT_TYPES),
            C("event_time", "timestamp", required=True, not_in_future=True),
            C(
                "platform_user_id",
                personal="identifier",
                description="Xiaohongshu / Douyin / Weibo user id.",
            ),
            C("unionid", personal="identifier"),
            C("openid", personal="identifier"),
            C(
                "phone",
                personal="phone",
                description="Recorded by a shopping guide during a consultation.",
            ),
            C("member_id", personal="identifier"),
            C("device_id", personal="identifier"),
            C("content_id"),
            C("campaign_id"),
            C("guide_id"),
            C("store_id"),
        ),
    ),
    Source(
        "store_visits",
        "csv",
        "Identified store visits (member check-in, store Wi-Fi) with the device or member seen.",
        ("visit_id",),
        (
            C("visit_id", required=True),
            C("store_id", required=True, references="stores.store_id"),
            C("visit_time", "timestamp", required=True, not_in_future=True),
            C("member_id", personal="identifier"),
            C("phone", personal="phone"),
            C("device_id", personal="identifier"),
        ),
        depends_on=("stores",),
    ),
    Source(
        "store_footfall",
        "csv",
        "Hourly footfall counter per store.",
        ("store_id", "hour_start"),
        (
            C("store_id", required=True, references="stores.store_id"),
            C("hour_start", "timestamp", required=True, not_in_future=True),
            C("visitors", "integer", required=True, non_negative=True),
        ),
        depends_on=("stores",),
    ),
    Source(
        "deletion_requests",
        "csv",
        "PIPL / GDPR deletion requests: erase the person identified by phone or member id.",
        ("request_id",),
        (
            C("request_id", required=True),
            C("requested_at", "timestamp", required=True, not_in_future=True),
            C("phone", personal="phone"),
            C("member_id", personal="identifier"),
        ),
    ),
)

SOURCES_BY_NAME = {s.name: s for s in SOURCES}

# Quarantine reasons, "<rule>:<column>" for row rules and "<rule>" for file rules.
ROW_RULES = (
    "missing_required",
    "invalid_type",
    "not_allowed",
    "negative_value",
    "not_positive",
    "future_timestamp",
    "unknown_reference",
    "duplicate_row",
    "wrong_column_count",
    "invalid_json",
)
FILE_RULES = (
    "duplicate_file",
    "empty_file",
    "undecodable",
    "wrong_delimiter",
    "missing_column",
    "unparseable",
)
