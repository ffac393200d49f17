"""A card reader's signed statement of what it read: the card fields, the sha256 of the chip portrait, the
reader's id and the time, signed with the Ed25519 key the operator enrolled for that reader.

The signed bytes are one canonical JSON text (sorted keys, no spaces, UTF-8, strings only in the card), so a
reader bridge in any language produces the same bytes for the same read. Changing any field, the portrait, the
reader id or the time breaks the signature; a statement older than ``max_age`` is refused so a captured one
cannot be replayed days later. What a reader sends:

    {"doc_type": ..., "name": ..., ... the card fields ...,
     "portrait": "<base64>",                                  (or sent separately, as the kiosk does today)
     "attestation": {"v": 1, "reader_id": "R-01", "signed_at": "2026-12-07T02:30:00Z",
                     "portrait_sha256": "<hex>", "signature": "<base64 Ed25519>"}}
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from realname.errors import AttestationError, BadInputError

VERSION = 1
NOT_SIGNED = frozenset({"attestation", "portrait", "chip"})  # not card fields (a chip read proves itself)
CLOCK_SKEW = timedelta(seconds=60)


@dataclass(frozen=True)
class ReaderStatement:
    reader_id: str
    signed_at: datetime
    portrait_sha256: str


def card_fields(reader_json: Mapping[str, Any]) -> dict[str, str | None]:
    """The card fields of a reader's output, checked to be what a reader signs: text or null, nothing nested."""
    fields: dict[str, str | None] = {}
    for key, value in reader_json.items():
        if key in NOT_SIGNED:
            continue
        if value is not None and not isinstance(value, str):
            raise BadInputError(f"card field {key!r} must be text to be attested", code="attestation_malformed")
        fields[str(key)] = value
    return fields


def signed_bytes(card: Mapping[str, str | None], portrait_sha256: str, reader_id: str, signed_at: str) -> bytes:
    statement = {"v": VERSION, "card": dict(card), "portrait_sha256": portrait_sha256, "reader_id": reader_id,
                 "signed_at": signed_at}
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _utc_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(key: Ed25519PrivateKey, reader_json: Mapping[str, Any], portrait: bytes, *, reader_id: str,
         at: datetime) -> dict[str, Any]:
    """What a signing reader sends (the simulator uses this): its JSON with an ``attestation`` added."""
    card, reader_id = card_fields(reader_json), checked_reader_id(reader_id, "reader_id")
    digest, when = hashlib.sha256(portrait).hexdigest(), _utc_text(at)
    signature = key.sign(signed_bytes(card, digest, reader_id, when))
    return {**card, "attestation": {"v": VERSION, "reader_id": reader_id, "signed_at": when,
                                    "portrait_sha256": digest,
                                    "signature": base64.b64encode(signature).decode("ascii")}}


def statement_of(reader_json: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``attestation`` object of a reader's output, or None when the reader did not sign."""
    found = reader_json.get("attestation")
    if found is None:
        return None
    if not isinstance(found, Mapping):
        raise BadInputError("attestation must be an object", code="attestation_malformed")
    return found


# A reader's id is a key: one spelling only (ASCII letters, digits, '.', '_', '-'), so a full-width or padded
# look-alike cannot name another reader or slip past a revoked one.
READER_ID = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)


def checked_reader_id(reader_id: object, field: str = "attestation.reader_id") -> str:
    if not isinstance(reader_id, str) or not READER_ID.fullmatch(reader_id):
        raise BadInputError(f"{field} is 1-64 ASCII letters, digits, '.', '_' or '-'", code="bad_reader_id")
    return reader_id


def reader_id_of(attestation: Mapping[str, Any]) -> str:
    return checked_reader_id(attestation.get("reader_id"))


def verify(public_key: bytes, reader_json: Mapping[str, Any], portrait: bytes, *, now: datetime,
           max_age: timedelta) -> ReaderStatement:
    """Check a reader's signature over these card fields and this portrait; :class:`AttestationError` when the
    signature, the portrait's hash or the time does not hold, whatever was changed."""
    attestation = statement_of(reader_json)
    if attestation is None:
        raise AttestationError("the card data is not signed by a reader", code="reader_unsigned")
    reader_id = reader_id_of(attestation)
    when, digest, signature = (attestation.get(k) for k in ("signed_at", "portrait_sha256", "signature"))
    if attestation.get("v") != VERSION or not all(isinstance(x, str) for x in (when, digest, signature)):
        raise BadInputError("attestation needs v=1, signed_at, portrait_sha256 and signature",
                            code="attestation_malformed")
    assert isinstance(when, str) and isinstance(digest, str) and isinstance(signature, str)
    try:
        signed_at = datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        raw_signature = base64.b64decode(signature, validate=True)
    except (ValueError, binascii.Error):
        raise BadInputError("attestation.signed_at or signature is malformed", code="attestation_malformed") from None
    if digest != hashlib.sha256(portrait).hexdigest():
        raise AttestationError("the portrait is not the one the reader read", code="reader_portrait_mismatch")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            raw_signature, signed_bytes(card_fields(reader_json), digest, reader_id, when))
    except (InvalidSignature, ValueError):
        raise AttestationError("the reader's signature does not match the card data",
                               code="reader_signature_invalid") from None
    if signed_at > now + CLOCK_SKEW or now - signed_at > max_age:
        raise AttestationError(f"the reader signed at {when}, outside the accepted {max_age} window",
                               code="reader_statement_stale")
    return ReaderStatement(reader_id, signed_at, digest)
