"""Permits and passports: layouts, encoded birth date and sex, validity periods, MRZ agreement."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from tests.documents.builders import SPECIMEN_MRZ, SPECIMEN_TODAY, TODAY, card, resident_number, td3, with_check_digit

from realname.documents.models import CardData, DocType
from realname.documents.permits import (
    validate_foreign_permanent_residence,
    validate_hk_macau_permit,
    validate_hmt_residence_permit,
    validate_passport,
    validate_taiwan_permit,
)
from realname.errors import DocumentError

Validator = Callable[[CardData, date], object]


def refused(validator: Validator, c: CardData, today: date = TODAY) -> tuple[str, str]:
    with pytest.raises(DocumentError) as info:
        validator(c, today)
    return info.value.field, info.value.rule


# --- 港澳居民来往内地通行证 -------------------------------------------------------------------------------

HK = DocType.HK_MACAU_PERMIT


@pytest.mark.parametrize("number", ["H12345678", "M12345678", "H1234567801", "h12345678"])
def test_hk_macau_numbers(number: str) -> None:
    validate_hk_macau_permit(card(HK, number=number), TODAY)


@pytest.mark.parametrize("number", ["H1234567", "H123456789", "X12345678", "12345678", "H12345678012", "HH2345678"])
def test_hk_macau_format(number: str) -> None:
    assert refused(validate_hk_macau_permit, card(HK, number=number)) == ("number", "format")


def test_hk_macau_minor_gets_five_years() -> None:
    validate_hk_macau_permit(card(HK, birth_date=date(2010, 5, 5), issue_date=date(2020, 1, 1),
                                  expiry_date=date(2025, 1, 1)), TODAY)
    assert refused(validate_hk_macau_permit, card(HK, birth_date=date(2010, 5, 5), issue_date=date(2020, 1, 1),
                                                  expiry_date=date(2030, 1, 1))) == ("expiry_date", "validity_period")


def test_hk_macau_adult_from_18th_birthday() -> None:
    validate_hk_macau_permit(card(HK, birth_date=date(2002, 1, 10), issue_date=date(2020, 1, 10),
                                  expiry_date=date(2030, 1, 10)), TODAY)


def test_hk_macau_long_term_refused() -> None:
    assert refused(validate_hk_macau_permit, card(HK, expiry_date=None)) == ("expiry_date", "validity_period")


def test_hk_macau_issue_date_required() -> None:
    assert refused(validate_hk_macau_permit, card(HK, issue_date=None)) == ("issue_date", "required")


def test_hk_macau_expired() -> None:
    assert refused(validate_hk_macau_permit, card(HK), date(2029, 1, 11)) == ("expiry_date", "expired")
    validate_hk_macau_permit(card(HK), date(2029, 1, 10))


# --- 台湾居民来往大陆通行证 -------------------------------------------------------------------------------

TW = DocType.TAIWAN_PERMIT


@pytest.mark.parametrize("number", ["1234567", "123456789", "T1234567", "1234567801"])
def test_taiwan_format(number: str) -> None:
    assert refused(validate_taiwan_permit, card(TW, number=number)) == ("number", "format")


def test_taiwan_five_years() -> None:
    validate_taiwan_permit(card(TW), TODAY)
    assert refused(validate_taiwan_permit, card(TW, expiry_date=date(2031, 8, 1))) == ("expiry_date",
                                                                                       "validity_period")


def test_taiwan_expired() -> None:
    assert refused(validate_taiwan_permit, card(TW), date(2026, 8, 2)) == ("expiry_date", "expired")


# --- 港澳台居民居住证 -------------------------------------------------------------------------------------

HMT = DocType.HMT_RESIDENCE_PERMIT


@pytest.mark.parametrize("region", ["810000", "820000", "830000"])
def test_residence_permit_regions(region: str) -> None:
    validate_hmt_residence_permit(card(HMT, number=resident_number(region)), TODAY)


@pytest.mark.parametrize("region", ["110101", "840000", "810100"])
def test_residence_permit_unknown_region(region: str) -> None:
    assert refused(validate_hmt_residence_permit, card(HMT, number=resident_number(region))) == ("number",
                                                                                                 "unknown_region")


def test_residence_permit_checksum() -> None:
    good = resident_number("820000")
    bad = good[:-1] + ("1" if good[-1] == "0" else "0")
    assert refused(validate_hmt_residence_permit, card(HMT, number=bad)) == ("number", "checksum")


def test_residence_permit_format() -> None:
    assert refused(validate_hmt_residence_permit, card(HMT, number="H12345678")) == ("number", "format")


def test_residence_permit_birth_and_sex() -> None:
    assert refused(validate_hmt_residence_permit, card(HMT, birth_date=date(1991, 3, 7))) == ("birth_date",
                                                                                              "birth_date_mismatch")
    assert refused(validate_hmt_residence_permit, card(HMT, sex="F")) == ("sex", "sex_mismatch")


def test_residence_permit_five_years() -> None:
    assert refused(validate_hmt_residence_permit, card(HMT, expiry_date=date(2030, 9, 1))) == ("expiry_date",
                                                                                               "validity_period")
    assert refused(validate_hmt_residence_permit, card(HMT), date(2025, 9, 2)) == ("expiry_date", "expired")


# --- 外国人永久居留身份证 ---------------------------------------------------------------------------------

FPR = DocType.FOREIGN_PERMANENT_RESIDENCE
NEW_FPR = with_check_digit("911840" + "19900307" + "123")  # 2023 layout: 9, province, nationality, birth, sequence


def test_foreigner_2017_layout() -> None:
    validate_foreign_permanent_residence(card(FPR), TODAY)


def test_foreigner_2017_nationality() -> None:
    assert refused(validate_foreign_permanent_residence, card(FPR, nationality="CAN")) == ("nationality",
                                                                                           "nationality_mismatch")
    assert refused(validate_foreign_permanent_residence, card(FPR, nationality=None)) == ("nationality", "required")


def test_foreigner_2017_birth_date() -> None:
    assert refused(validate_foreign_permanent_residence, card(FPR, birth_date=date(1990, 3, 8))) == (
        "birth_date", "birth_date_mismatch")


@pytest.mark.parametrize("number", ["US1100900307010", "USA11009003070", "USA1100900307011", "USA11009003070A",
                                    "811840199003071235"])
def test_foreigner_format(number: str) -> None:
    assert refused(validate_foreign_permanent_residence, card(FPR, number=number)) == ("number", "format")


def test_foreigner_2023_layout() -> None:
    validate_foreign_permanent_residence(card(FPR, number=NEW_FPR, nationality=None), TODAY)


def test_foreigner_2023_checksum_birth_and_sex() -> None:
    bad = NEW_FPR[:-1] + ("1" if NEW_FPR[-1] == "0" else "0")
    assert refused(validate_foreign_permanent_residence, card(FPR, number=bad)) == ("number", "checksum")
    assert refused(validate_foreign_permanent_residence, card(FPR, number=NEW_FPR, birth_date=date(1990, 3, 8))) == (
        "birth_date", "birth_date_mismatch")
    assert refused(validate_foreign_permanent_residence, card(FPR, number=NEW_FPR, sex="F")) == ("sex",
                                                                                                 "sex_mismatch")


def test_foreigner_validity() -> None:
    assert refused(validate_foreign_permanent_residence, card(FPR, expiry_date=date(2023, 4, 2))) == (
        "expiry_date", "validity_period")
    minor = card(FPR, number="USA110010030701", birth_date=date(2010, 3, 7), issue_date=date(2020, 1, 1),
                 expiry_date=date(2025, 1, 1))
    validate_foreign_permanent_residence(minor, TODAY)
    assert refused(validate_foreign_permanent_residence, card(FPR), date(2028, 4, 3)) == ("expiry_date", "expired")


# --- 护照 -------------------------------------------------------------------------------------------------

PP = DocType.PASSPORT


def specimen(**overrides: object) -> CardData:
    fields: dict[str, object] = {"number": "L898902C3", "name": "ERIKSSON ANNA MARIA", "sex": "F",
                                 "birth_date": date(1974, 8, 12), "expiry_date": date(2012, 4, 15),
                                 "nationality": "UTO", "mrz": SPECIMEN_MRZ}
    fields.update(overrides)
    return card(PP, **fields)


def test_icao_specimen_passport() -> None:
    mrz = validate_passport(specimen(), SPECIMEN_TODAY)
    assert mrz.nationality == "UTO"
    validate_passport(specimen(), date(2012, 4, 15))


def test_icao_specimen_is_expired_after_2012_04_15() -> None:
    assert refused(validate_passport, specimen(), date(2012, 4, 16)) == ("expiry_date", "expired")


def test_passport_card_may_omit_expiry_and_nationality() -> None:
    mrz = validate_passport(specimen(expiry_date=None, nationality=None), SPECIMEN_TODAY)
    assert mrz.expiry_date == date(2012, 4, 15)


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"mrz": None}, ("mrz", "required")),
    ({"number": "L898902C4"}, ("number", "number_mismatch")),
    ({"birth_date": date(1974, 8, 13)}, ("birth_date", "birth_date_mismatch")),
    ({"sex": "M"}, ("sex", "sex_mismatch")),
    ({"expiry_date": date(2012, 4, 16)}, ("expiry_date", "expiry_date_mismatch")),
    ({"nationality": "SWE"}, ("nationality", "nationality_mismatch")),
    ({"issue_date": date(2011, 1, 1)}, ("issue_date", "future_date")),
    ({"mrz": SPECIMEN_MRZ.replace("C36", "C37")}, ("mrz", "check_digit_number")),
])
def test_passport_must_agree_with_mrz(overrides: dict[str, object], expected: tuple[str, str]) -> None:
    assert refused(validate_passport, specimen(**overrides), SPECIMEN_TODAY) == expected


def test_passport_unspecified_sex_accepts_either() -> None:
    validate_passport(card(PP, mrz=td3(sex="<")), TODAY)
    validate_passport(card(PP, mrz=td3(sex="<"), sex="F"), TODAY)
