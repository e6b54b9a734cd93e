"""One canonical form per identifier type, so the same person's ids compare equal across channels.

These run on distinct values (compact), never per raw row.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc
import phonenumbers

PHONE_REGION = "CN"
MASK_CHARACTERS = re.compile(r"[*xX#]{2,}")

# identifier type -> how its values are cased after trimming (None: case as issued)
CASE_RULES: dict[str, str | None] = {
    "member_id": "upper",
    "unionid": None,
    "openid": None,
    "tmall_buyer_id": "lower",
    "jd_buyer_id": "lower",
    "douyin_shop_buyer_id": "lower",
    "douyin_user_id": "lower",
    "xiaohongshu_user_id": "lower",
    "weibo_user_id": "lower",
    "wechat_user_id": None,
    "device_id": "upper",
}


def canonical_phone(raw: str | None) -> tuple[str | None, str]:
    """E.164 for a usable phone; otherwise None and why (empty, masked, invalid)."""
    if raw is None or not raw.strip():
        return None, "empty"
    text = unicodedata.normalize("NFKC", raw).strip()
    if "*" in text or MASK_CHARACTERS.search(text):
        return None, "masked"
    try:
        number = phonenumbers.parse(text, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None, "invalid"
    if not phonenumbers.is_valid_number(number):
        return None, "invalid"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), "valid"


def canonical_identifier(identity_type: str, raw: str | None) -> str | None:
    """Trim (incl. full-width spaces) and case by the type's one rule; empty becomes None."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        return None
    rule = CASE_RULES.get(identity_type)
    if rule == "upper":
        return text.upper()
    if rule == "lower":
        return text.lower()
    return text


@lru_cache(maxsize=1)
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def simplified_name(raw: str | None) -> str | None:
    """Names in Simplified Chinese, whitespace removed: for display and matching features only."""
    if raw is None:
        return None
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw))
    return _to_simplified().convert(text) if text else None
