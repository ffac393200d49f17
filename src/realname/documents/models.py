"""What a card reader hands us (:class:`CardData`) and what passes the checks (:class:`ValidDocument`)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from realname.documents.numbers import canonical_number, is_canonical
from realname.errors import DocumentError


class DocType(StrEnum):
    PRC_ID = "prc_id"
    HK_MACAU_PERMIT = "hk_macau_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit"
    FOREIGN_PERMANENT_RESIDENCE = "foreign_permanent_residence"
    PASSPORT = "passport"

    @property
    def label_zh(self) -> str:
        return _LABELS_ZH[self]


_LABELS_ZH = {
    DocType.PRC_ID: "居民身份证",
    DocType.HK_MACAU_PERMIT: "港澳居民来往内地通行证",
    DocType.TAIWAN_PERMIT: "台湾居民来往大陆通行证",
    DocType.HMT_RESIDENCE_PERMIT: "港澳台居民居住证",
    DocType.FOREIGN_PERMANENT_RESIDENCE: "外国人永久居留身份证",
    DocType.PASSPORT: "护照",
}


class Sex(StrEnum):
    M = "M"
    F = "F"


MIDDLE_DOT = "·"  # U+00B7, the separator in minority and transliterated foreign names
_DOT_LOOKALIKES = re.compile("[\u2022\u30fb\uff65\u2027\u2219\u22c5]")
_CJK = r"\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_DOT_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s*[.\uff0e]\s*(?=[{_CJK}])")
_SPACES_AROUND_DOT = re.compile(r"\s*·\s*")


def normalize_name(raw: str) -> str:
    """Readers and keyboards write the middle dot several ways; store one, so names compare equal."""
    name = unicodedata.normalize("NFC", raw)
    for ch in name:
        category = unicodedata.category(ch)
        if category.startswith("C") or category in ("Zl", "Zp"):
            raise DocumentError("Name contains a control character", field="name", rule="format",
                                message_zh="姓名含有控制字符")
        if category == "Nd":
            raise DocumentError("Name must not contain digits", field="name", rule="format",
                                message_zh="姓名不能含有数字")
    name = _DOT_LOOKALIKES.sub(MIDDLE_DOT, name)
    name = _DOT_BETWEEN_CJK.sub(MIDDLE_DOT, name)
    name = _SPACES_AROUND_DOT.sub(MIDDLE_DOT, name)
    return " ".join(name.split())


class CardData(BaseModel):
    """Fields as an ID-card reader produces them. ``expiry_date`` None means long-term (长期).

    The portrait is not here: it travels separately as bytes.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    doc_type: DocType
    name: str = Field(min_length=1, max_length=64)
    sex: Sex
    birth_date: date
    number: str = Field(min_length=1, max_length=32)
    issue_date: date | None = None
    expiry_date: date | None = None
    address: str | None = Field(default=None, max_length=128)
    nationality: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    issuing_authority: str | None = Field(default=None, max_length=64)
    mrz: str | None = Field(default=None, max_length=100)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return normalize_name(value)

    @field_validator("number")
    @classmethod
    def _number(cls, value: str) -> str:
        """One canonical ASCII form before any rule, storage or index (spaces, full-width, 'x', other scripts)."""
        return canonical_number(value)

    @field_validator("sex", mode="before")
    @classmethod
    def _sex(cls, value: Any) -> Any:
        """Chinese readers print 男/女."""
        if isinstance(value, str):
            return {"男": "M", "女": "F"}.get(value.strip(), value.strip().upper())
        return value

    @field_validator("nationality", mode="before")
    @classmethod
    def _nationality(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value


class ValidDocument(BaseModel):
    """A document that passed every rule; ``number`` is normalised (upper-case, no spaces)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    doc_type: DocType
    number: str
    name: str
    sex: Sex
    birth_date: date
    issue_date: date | None
    expiry_date: date | None
    nationality: str | None = None
    address: str | None = None
    region_code: str | None = None

    @field_validator("number")
    @classmethod
    def _canonical(cls, value: str) -> str:
        if not is_canonical(value):  # only CardData's canonical number may become a person's key
            raise ValueError("a valid document's number must be in canonical form")
        return value

    @property
    def display_number(self) -> str:
        """Number for screens and receipts: first 3 and last 4 kept (first and last 1 if shorter than 8)."""
        n = self.number
        head, tail = (3, 4) if len(n) >= 8 else (1, 1)
        if len(n) <= head + tail:
            return "*" * len(n)
        return n[:head] + "*" * (len(n) - head - tail) + n[-tail:]
