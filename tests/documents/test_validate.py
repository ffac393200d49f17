"""Reader output -> CardData -> ValidDocument: parsing errors, name normalisation, dispatch, general date rules."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError
from tests.documents.builders import SPECIMEN_MRZ, SPECIMEN_TODAY, TODAY, card, resident_number

from realname.documents import CardData, DocType, Sex, ValidDocument, parse_card, validate_document
from realname.errors import DocumentError

RAW: dict[str, Any] = {"doc_type": "prc_id", "name": "张三", "sex": "M", "birth_date": "1990-03-07",
                       "number": resident_number(), "issue_date": "2015-05-20", "expiry_date": "2025-05-20"}


def parse_refused(**changes: Any) -> tuple[str, str]:
    data = {**RAW, **changes}
    data = {k: v for k, v in data.items() if v is not ...}
    with pytest.raises(DocumentError) as info:
        parse_card(data)
    assert info.value.message and info.value.message_zh
    return info.value.field, info.value.rule


def test_parse_card() -> None:
    c = parse_card(RAW)
    assert c.doc_type is DocType.PRC_ID and c.sex is Sex.M and c.birth_date == date(1990, 3, 7)


@pytest.mark.parametrize("doc_type", ["visa", "PRC_ID", "", None, 3, ["prc_id"], ...])
def test_unknown_type(doc_type: object) -> None:
    assert parse_refused(doc_type=doc_type) == ("doc_type", "unknown_type")


@pytest.mark.parametrize(("changes", "field"), [
    ({"birth_date": "1990-13-01"}, "birth_date"),
    ({"sex": "X"}, "sex"),
    ({"name": ""}, "name"),
    ({"name": "张" * 65}, "name"),
    ({"address": "路" * 129}, "address"),
    ({"nationality": "US"}, "nationality"),
    ({"number": 110101}, "number"),
    ({"portrait": b"jpeg"}, "portrait"),
])
def test_format_names_the_first_bad_field(changes: dict[str, Any], field: str) -> None:
    assert parse_refused(**changes) == (field, "format")


def test_missing_field_is_required() -> None:
    assert parse_refused(birth_date=...) == ("birth_date", "required")


@pytest.mark.parametrize(("raw", "name"), [
    ("阿依古丽·买买提", "阿依古丽·买买提"),
    ("阿依古丽•买买提", "阿依古丽·买买提"),
    ("阿依古丽・买买提", "阿依古丽·买买提"),
    ("阿依古丽.买买提", "阿依古丽·买买提"),
    ("阿依古丽 · 买买提", "阿依古丽·买买提"),
    ("  张三  ", "张三"),
    ("ANNA  MARIA", "ANNA MARIA"),
    ("J. SMITH", "J. SMITH"),
])
def test_name_normalisation(raw: str, name: str) -> None:
    assert parse_card({**RAW, "name": raw}).name == name


@pytest.mark.parametrize("name", ["张三1", "张三\u0663", "张\x00三", "张\n三", "张\u200b三"])
def test_name_refuses_digits_and_control_characters(name: str) -> None:
    assert parse_refused(name=name) == ("name", "format")
    with pytest.raises(DocumentError):
        card(name=name)


def test_sex_in_chinese_and_lower_case() -> None:
    assert parse_card({**RAW, "sex": "男"}).sex is Sex.M
    assert parse_card({**RAW, "sex": "f"}).sex is Sex.F


def test_valid_document() -> None:
    doc = validate_document(card(number=resident_number().lower(), address="北京市东城区"), TODAY)
    assert isinstance(doc, ValidDocument)
    assert doc.number == resident_number() and doc.region_code == "110101"
    assert doc.display_number == "110" + "*" * 11 + doc.number[-4:]
    with pytest.raises(ValidationError):
        doc.number = "x"  # type: ignore[misc]


@pytest.mark.parametrize("doc_type", list(DocType))
def test_every_type_dispatches(doc_type: DocType) -> None:
    doc = validate_document(card(doc_type), TODAY)
    assert doc.doc_type is doc_type
    assert (doc.region_code is not None) == (doc_type in (DocType.PRC_ID, DocType.HMT_RESIDENCE_PERMIT))


def test_passport_takes_nationality_and_expiry_from_mrz() -> None:
    c = card(DocType.PASSPORT, number="L898902C3", sex="F", birth_date=date(1974, 8, 12), mrz=SPECIMEN_MRZ,
             expiry_date=None, nationality=None)
    doc = validate_document(c, SPECIMEN_TODAY)
    assert (doc.nationality, doc.expiry_date) == ("UTO", date(2012, 4, 15))


def test_birth_date_in_future() -> None:
    with pytest.raises(DocumentError) as info:
        validate_document(card(birth_date=date(2024, 6, 2)), TODAY)
    assert (info.value.field, info.value.rule) == ("birth_date", "future_date")


def test_expiry_before_issue() -> None:
    with pytest.raises(DocumentError) as info:
        validate_document(card(expiry_date=date(2015, 5, 19)), TODAY)
    assert (info.value.field, info.value.rule) == ("expiry_date", "expiry_before_issue")


@pytest.mark.parametrize(("number", "shown"), [("H12345678", "H12**5678"), ("1234567", "1*****7"), ("AB", "**")])
def test_display_number(number: str, shown: str) -> None:
    doc = ValidDocument(doc_type=DocType.HK_MACAU_PERMIT, number=number, name="x", sex=Sex.M,
                        birth_date=date(2000, 1, 1), issue_date=None, expiry_date=None)
    assert doc.display_number == shown


def test_card_data_forbids_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        CardData(**{**RAW, "portrait": b""})
