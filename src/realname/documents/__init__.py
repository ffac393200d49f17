"""Identity documents accepted for real-name registration, and the phone numbers they register.

Entry points: :func:`parse_card` (reader output -> :class:`CardData`), :func:`validate_document`
(-> :class:`ValidDocument`), :func:`parse_msisdn` and :class:`NumberSegments`. Every refusal is a
:class:`realname.errors.DocumentError` naming the ``field`` and a stable ``rule``.
"""

from realname.documents.models import CardData, DocType, Sex, ValidDocument
from realname.documents.mrz import Mrz, parse_td3
from realname.documents.phone import NumberSegments, parse_msisdn
from realname.documents.validate import parse_card, validate_document

__all__ = [
    "CardData",
    "DocType",
    "Mrz",
    "NumberSegments",
    "Sex",
    "ValidDocument",
    "parse_card",
    "parse_msisdn",
    "parse_td3",
    "validate_document",
]
