"""One entry point: raw reader output -> :class:`CardData` -> :class:`ValidDocument`, or a :class:`DocumentError`
naming the field and the rule, worded for the clerk in English and Chinese."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from pydantic import ValidationError

from realname.documents.models import CardData, DocType, ValidDocument
from realname.documents.permits import (
    validate_foreign_permanent_residence,
    validate_hk_macau_permit,
    validate_hmt_residence_permit,
    validate_passport,
    validate_taiwan_permit,
)
from realname.documents.prc_id import validate_resident_id
from realname.errors import DocumentError

_VALIDATORS: dict[DocType, Callable[[CardData, date], None]] = {
    DocType.PRC_ID: validate_resident_id,
    DocType.HK_MACAU_PERMIT: validate_hk_macau_permit,
    DocType.TAIWAN_PERMIT: validate_taiwan_permit,
    DocType.HMT_RESIDENCE_PERMIT: validate_hmt_residence_permit,
    DocType.FOREIGN_PERMANENT_RESIDENCE: validate_foreign_permanent_residence,
}

FIELD_LABELS: dict[str, tuple[str, str]] = {
    "doc_type": ("Document type", "证件类型"),
    "name": ("Name", "姓名"),
    "sex": ("Sex", "性别"),
    "birth_date": ("Date of birth", "出生日期"),
    "number": ("Document number", "证件号码"),
    "issue_date": ("Issue date", "签发日期"),
    "expiry_date": ("Expiry date", "有效期截止日期"),
    "address": ("Address", "住址"),
    "nationality": ("Nationality", "国籍"),
    "issuing_authority": ("Issuing authority", "签发机关"),
    "mrz": ("Passport MRZ", "护照机读区"),
}


def parse_card(data: Mapping[str, Any]) -> CardData:
    """Reader output -> :class:`CardData`; the first bad field becomes a :class:`DocumentError` (rule
    ``unknown_type`` for the document type, ``required`` for a missing field, ``format`` otherwise)."""
    doc_type = data.get("doc_type")
    if not isinstance(doc_type, str) or doc_type not in DocType._value2member_map_:
        known = ", ".join(DocType)
        raise DocumentError(f"Unknown document type {doc_type!r}; known: {known}", field="doc_type",
                            rule="unknown_type", message_zh=f"不支持的证件类型：{doc_type}")
    try:
        return CardData.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "card"
        label, label_zh = FIELD_LABELS.get(field, (field, field))
        if first["type"] == "missing":
            raise DocumentError(f"{label} is missing", field=field, rule="required",
                                message_zh=f"缺少{label_zh}") from None
        if first["type"] == "extra_forbidden":
            raise DocumentError(f"Unexpected field {field}", field=field, rule="format",
                                message_zh=f"多余的字段：{field}") from None
        raise DocumentError(f"{label} is not valid: {first['msg']}", field=field, rule="format",
                            message_zh=f"{label_zh}格式错误") from None


def _check_dates(card: CardData, today: date) -> None:
    if card.birth_date > today:
        raise DocumentError("Date of birth is in the future", field="birth_date", rule="future_date",
                            message_zh="出生日期晚于今天")
    if card.issue_date is not None and card.expiry_date is not None and card.expiry_date < card.issue_date:
        raise DocumentError("Expiry date is before the issue date", field="expiry_date", rule="expiry_before_issue",
                            message_zh="有效期截止日期早于签发日期")


def validate_document(card: CardData, today: date) -> ValidDocument:
    """Check every rule of the card's type; ``today`` is passed in so results do not depend on the clock."""
    _check_dates(card, today)
    nationality, expiry = card.nationality, card.expiry_date
    if card.doc_type is DocType.PASSPORT:
        mrz = validate_passport(card, today)
        nationality, expiry = mrz.nationality, mrz.expiry_date
    else:
        _VALIDATORS[card.doc_type](card, today)
    region = card.number[:6] if card.doc_type in (DocType.PRC_ID, DocType.HMT_RESIDENCE_PERMIT) else None
    return ValidDocument(doc_type=card.doc_type, number=card.number, name=card.name, sex=card.sex,
                         birth_date=card.birth_date, issue_date=card.issue_date, expiry_date=expiry,
                         nationality=nationality, address=card.address, region_code=region)
