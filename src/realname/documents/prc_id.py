"""Resident identity card (居民身份证): number checks, and the validity period the law ties to age at issue.

Rules (field, rule): number/format, number/checksum, number/unknown_region, birth_date/birth_date_mismatch,
sex/sex_mismatch, issue_date/required, issue_date/issue_before_birth, issue_date/future_date,
expiry_date/validity_period, expiry_date/expired.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from stdnum import numdb

from realname.documents.models import CardData
from realname.documents.rules import (
    age_on,
    check_birth_date,
    check_format,
    check_issue_date,
    check_mod11_2,
    check_not_expired,
    check_sex,
    check_validity,
    require_issue_date,
)
from realname.errors import DocumentError

HMT_PREFIXES = ("81", "82", "83")  # residence permits of Hong Kong, Macau and Taiwan residents


@cache
def _regions() -> numdb.NumDB:
    return numdb.get("cn/loc")


def is_known_region(code: str) -> bool:
    """True if the 6-digit code names a county that ever existed.

    ``stdnum.cn.ric.get_birth_place`` also demands the code existed in the *birth* year, but a number is
    assigned when the first card is issued, so someone born before their county got its code is genuine.
    """
    info = _regions().info(code)
    return len(code) == 6 and code.isdigit() and len(info) == 2 and "county" in info[1][1]


def validity_years(age_at_issue: int) -> int | None:
    """Validity by age at issue (居民身份证法 第五条): <16 five years, 16-25 ten, 26-45 twenty, 46+ long-term."""
    if age_at_issue < 16:
        return 5
    if age_at_issue <= 25:
        return 10
    if age_at_issue <= 45:
        return 20
    return None


def check_resident_number(number: str) -> None:
    """Length, digits and check digit only: shared by every 18-digit number built like the resident ID."""
    check_format(len(number) == 18 and number.isascii() and number[:17].isdigit()
                 and (number[17].isdigit() or number[17] == "X"),
                 "18 characters: 17 digits and a digit or X", "18位：17位数字加1位数字或X")
    check_mod11_2(number)


def validate_resident_id(card: CardData, today: date) -> None:
    """Raise :class:`DocumentError` naming the first broken rule; return None if the card is good."""
    number = card.number.upper()
    check_resident_number(number)
    if number[:2] in HMT_PREFIXES:
        raise DocumentError("This number belongs to a Hong Kong/Macau/Taiwan residence permit, not a resident ID",
                            field="number", rule="unknown_region",
                            message_zh="该号码属于港澳台居民居住证，不是居民身份证")
    if not is_known_region(number[:6]):
        raise DocumentError("Document number has an unknown region code", field="number", rule="unknown_region",
                            message_zh="证件号码的地区代码不存在")
    check_birth_date(number[6:14], card.birth_date)
    check_sex(number[16], card.sex)
    issue = require_issue_date(card.issue_date)
    check_issue_date(card.birth_date, issue, today)
    check_validity(issue, card.expiry_date, validity_years(age_on(card.birth_date, issue)))
    check_not_expired(card.expiry_date, today)
