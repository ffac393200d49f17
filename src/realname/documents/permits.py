"""Permits and passports: number layout, what the number encodes, and validity period.

Rules (field, rule) besides the shared ones in :mod:`realname.documents.rules`: number/format,
number/checksum, number/unknown_region, nationality/required, nationality/nationality_mismatch,
mrz/required, number/number_mismatch, expiry_date/expiry_date_mismatch, and the MRZ rules of
:mod:`realname.documents.mrz`.
"""

from __future__ import annotations

import re
from datetime import date

from realname.documents.models import CardData
from realname.documents.mrz import Mrz, parse_td3
from realname.documents.prc_id import check_resident_number
from realname.documents.rules import (
    age_on,
    check_birth_date,
    check_format,
    check_issue_date,
    check_not_expired,
    check_sex,
    check_validity,
    require_issue_date,
)
from realname.errors import DocumentError

HMT_REGIONS = {"810000": "Hong Kong", "820000": "Macau", "830000": "Taiwan"}
_HK_MACAU = re.compile(r"^[HM]\d{8}(\d{2})?$", re.ASCII)  # after canonical_number, belt and braces
_TAIWAN = re.compile(r"^\d{8}$", re.ASCII)
_FOREIGN_2017 = re.compile(r"^[A-Z]{3}\d{12}$", re.ASCII)


def _period(card: CardData, today: date, adult_years: int, minor_years: int) -> None:
    """Issue date present and plausible, expiry = issue + the period for the age at issue, not expired."""
    issue = require_issue_date(card.issue_date)
    check_issue_date(card.birth_date, issue, today)
    years = adult_years if age_on(card.birth_date, issue) >= 18 else minor_years
    check_validity(issue, card.expiry_date, years)
    check_not_expired(card.expiry_date, today)


def validate_hk_macau_permit(card: CardData, today: date) -> None:
    """港澳居民来往内地通行证: H (Hong Kong) or M (Macau) + 8 digits [+ 2-digit issue count]; 10 years, 5 for minors."""
    check_format(bool(_HK_MACAU.match(card.number)), "H or M followed by 8 or 10 digits", "H或M加8位或10位数字")
    _period(card, today, adult_years=10, minor_years=5)


def validate_taiwan_permit(card: CardData, today: date) -> None:
    """台湾居民来往大陆通行证: 8 digits; 5 years."""
    check_format(bool(_TAIWAN.match(card.number)), "8 digits", "8位数字")
    _period(card, today, adult_years=5, minor_years=5)


def validate_hmt_residence_permit(card: CardData, today: date) -> None:
    """港澳台居民居住证: laid out like the resident ID with region 810000/820000/830000; 5 years."""
    check_resident_number(card.number)
    if card.number[:6] not in HMT_REGIONS:
        raise DocumentError("Residence permit number must start with 810000, 820000 or 830000", field="number",
                            rule="unknown_region", message_zh="居住证号码应以810000、820000或830000开头")
    check_birth_date(card.number[6:14], card.birth_date)
    check_sex(card.number[16], card.sex)
    _period(card, today, adult_years=5, minor_years=5)


def _check_nationality(code: str, card: CardData) -> None:
    if card.nationality is None:
        raise DocumentError("Nationality is missing", field="nationality", rule="required", message_zh="缺少国籍")
    if code != card.nationality:
        raise DocumentError("Nationality does not match the document number", field="nationality",
                            rule="nationality_mismatch", message_zh="国籍与证件号码不符")


def validate_foreign_permanent_residence(card: CardData, today: date) -> None:
    """外国人永久居留身份证, both layouts; 10 years, 5 for minors.

    2017: 3-letter nationality + 4-digit place of application + birth YYMMDD + 2-digit sequence (15 chars).
    2023: 9 + 2-digit province + 3-digit nationality + birth YYYYMMDD + 3-digit sequence (odd = male) + MOD 11-2
    check digit (18 chars), i.e. the resident-ID layout with the region replaced.
    """
    number = card.number
    if len(number) == 18:
        check_format(number.startswith("9"), "18 characters starting with 9", "以9开头的18位")
        check_resident_number(number)
        check_birth_date(number[6:14], card.birth_date)
        check_sex(number[16], card.sex)
    else:
        check_format(bool(_FOREIGN_2017.match(number)), "3 letters and 12 digits, or 18 characters starting with 9",
                     "3位字母加12位数字，或以9开头的18位")
        _check_nationality(number[:3], card)
        check_birth_date(number[7:13], card.birth_date, "%y%m%d")
    _period(card, today, adult_years=10, minor_years=5)


def validate_passport(card: CardData, today: date) -> Mrz:
    """The MRZ is the authority: the card's number, birth date, sex, expiry and nationality must agree with it."""
    if not card.mrz:
        raise DocumentError("Passport MRZ is missing; scan the passport data page", field="mrz", rule="required",
                            message_zh="缺少护照机读区，请扫描护照资料页")
    mrz = parse_td3(card.mrz, today)
    if card.number != mrz.number:
        raise DocumentError("Passport number does not match the MRZ", field="number", rule="number_mismatch",
                            message_zh="护照号码与机读区不符")
    if card.birth_date != mrz.birth_date:
        raise DocumentError("Date of birth does not match the MRZ", field="birth_date", rule="birth_date_mismatch",
                            message_zh="出生日期与机读区不符")
    if mrz.sex not in ("<", card.sex):
        raise DocumentError("Sex does not match the MRZ", field="sex", rule="sex_mismatch",
                            message_zh="性别与机读区不符")
    if card.expiry_date is not None and card.expiry_date != mrz.expiry_date:
        raise DocumentError("Expiry date does not match the MRZ", field="expiry_date", rule="expiry_date_mismatch",
                            message_zh="有效期与机读区不符")
    if card.nationality is not None and card.nationality != mrz.nationality:
        raise DocumentError("Nationality does not match the MRZ", field="nationality", rule="nationality_mismatch",
                            message_zh="国籍与机读区不符")
    if card.issue_date is not None:
        check_issue_date(card.birth_date, card.issue_date, today)
    check_not_expired(mrz.expiry_date, today)
    return mrz
