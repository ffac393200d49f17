"""Card readers that sign what they read, and passport chips: what the operator trusts about a document read.

An operator's administrator enrols a reader's Ed25519 public key under the id the reader puts in its statements
(see :mod:`realname.documents.attestation`). Per operator, ``card_readers`` says what a verification needs:

* ``required``: card data without a valid statement from an enrolled, active reader is refused;
* ``optional``: a statement that is present must be valid; card data without one is accepted and recorded as
  ``unattested`` (the reports count both);
* ``off``: statements are not checked; the record says ``not_checked``.

A passport read from its chip (data groups and the SOD) is checked by passive authentication against the
configured CSCA trust list (``csca_trust_list``): the chip's MRZ must be the one sent and the portrait must be the
chip's DG2 face. Without a chip read, the record says ``mrz_only``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from realname.audit.log import append
from realname.context import Actor, Services
from realname.documents import attestation, emrtd
from realname.errors import AttestationError, BadInputError, ConfigError, ConflictError, NotFoundError
from realname.operators.admin import settings_in
from realname.operators.auth import require
from realname.registry.states import ChipCheck, ReaderAttestation
from realname.registry.tables import CardReader, Outlet

MAX_CHIP_BYTES = 256 * 1024  # DG2 with a JPEG2000 face is 15-40 KB


@dataclass(frozen=True)
class DocumentTrust:
    """What a verification records about where its card data came from."""

    reader_attestation: ReaderAttestation
    reader_id: str | None  # the enrolled reader's row id
    chip_check: ChipCheck | None  # passports only
    chip_signer: str | None = None


def public_key_bytes(text: str) -> bytes:
    """A reader's Ed25519 public key, given as base64 of the 32 raw bytes or as a PEM block."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = load_pem_public_key(text.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError
            return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        raw = base64.b64decode(text, validate=True)
        Ed25519PublicKey.from_public_bytes(raw)
        return raw
    except (ValueError, binascii.Error):
        raise BadInputError("a reader's public key is an Ed25519 key: base64 of 32 bytes or PEM",
                            code="bad_reader_key") from None


def enrol_reader(svc: Services, actor: Actor, reader_id: str, name: str, public_key: str,
                 outlet_id: str | None = None) -> CardReader:
    require(actor, "kiosks.manage")
    key = public_key_bytes(public_key)
    reader_id, name = attestation.checked_reader_id(reader_id, "reader_id"), name.strip()
    if not 1 <= len(name) <= 80:
        raise BadInputError("a reader's name is 1-80 characters", code="bad_reader")
    with svc.db.write() as s:
        if outlet_id is not None:
            outlet = s.get(Outlet, outlet_id)
            if outlet is None or outlet.operator_id != actor.operator_id:
                raise NotFoundError("no such outlet at this operator")
        if s.execute(select(CardReader).where(CardReader.operator_id == actor.operator_id,
                                              CardReader.reader_id == reader_id)).scalar_one_or_none():
            raise ConflictError(f"reader {reader_id!r} is already enrolled", code="duplicate")
        reader = CardReader(operator_id=actor.operator_id, outlet_id=outlet_id, reader_id=reader_id, name=name,
                            public_key=key, enrolled_by=actor.user_id, enrolled_at=svc.now())
        s.add(reader)
        s.flush()
        append(s, at=svc.now(), actor=actor.username, action="reader_enrolled", subject=reader.id,
               payload={"reader_id": reader_id, "name": name, "outlet": outlet_id})
    return reader


def list_readers(svc: Services, actor: Actor) -> list[CardReader]:
    require(actor, "kiosks.manage")
    with svc.db.read() as s:
        return list(s.execute(select(CardReader).where(CardReader.operator_id == actor.operator_id)
                              .order_by(CardReader.reader_id)).scalars())


def revoke_reader(svc: Services, actor: Actor, reader_row_id: str, reason: str) -> CardReader:
    require(actor, "kiosks.manage")
    if not reason.strip():
        raise BadInputError("say why the reader is revoked", code="reason_required")
    with svc.db.write() as s:
        reader = s.get(CardReader, reader_row_id, with_for_update=True)
        if reader is None or reader.operator_id != actor.operator_id:
            raise NotFoundError("no such reader at this operator")
        if reader.revoked_at is not None:
            raise ConflictError("this reader is already revoked", code="already_revoked")
        reader.revoked_at, reader.revoked_by = svc.now(), actor.user_id
        append(s, at=svc.now(), actor=actor.username, action="reader_revoked", subject=reader.id,
               payload={"reason": reason.strip()})
    return reader


@cache
def _trust_list(path: Path, stamp: float) -> tuple[x509.Certificate, ...]:
    try:
        return tuple(x509.load_pem_x509_certificates(path.read_bytes()))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"the CSCA trust list {path} cannot be read: {exc}") from None


def trust_list(svc: Services) -> tuple[x509.Certificate, ...]:
    path = svc.settings.csca_trust_list
    if path is None:
        return ()
    try:
        stamp = path.stat().st_mtime
    except OSError as exc:
        raise ConfigError(f"the CSCA trust list {path} cannot be read: {exc}") from None
    return _trust_list(path, stamp)


def _b64(value: object, field: str) -> bytes:
    if not isinstance(value, str) or len(value) > MAX_CHIP_BYTES * 4 // 3 + 4:
        raise BadInputError(f"chip.{field} must be base64 text under {MAX_CHIP_BYTES // 1024} KB",
                            code="chip_malformed")
    try:
        return base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raise BadInputError(f"chip.{field} is not base64", code="chip_malformed") from None


def _chip(svc: Services, chip: Mapping[str, Any], mrz: str | None, portrait: bytes) -> emrtd.ChipRead:
    sod = _b64(chip.get("sod"), "sod")
    groups = {n: _b64(chip[f"dg{n}"], f"dg{n}") for n in (1, 2) if chip.get(f"dg{n}") is not None}
    read = emrtd.passive_authentication(sod, groups, trust_list(svc), at=svc.now())
    if mrz is None or read.mrz.replace("\n", "") != mrz.replace("\n", ""):
        raise AttestationError("the MRZ sent is not the chip's", code="chip_mrz_mismatch")
    if 2 not in groups or portrait not in groups[2]:
        raise AttestationError("the portrait sent is not the chip's DG2 face", code="chip_portrait_mismatch")
    return read


def check_document(s: Session, svc: Services, actor: Actor, card: Mapping[str, Any], portrait: bytes, *,
                   doc_type: str, mrz: str | None) -> DocumentTrust:
    """Inside the verification's opening transaction: the reader's statement and the passport chip, per the
    operator's ``card_readers`` setting. Raises :class:`AttestationError` when they do not hold."""
    assert actor.operator_id is not None
    policy = settings_in(s, svc, actor.operator_id).card_readers
    statement = attestation.statement_of(card)
    reader_row: str | None = None
    outcome = ReaderAttestation.NOT_CHECKED
    if policy != "off":
        if statement is None:
            if policy == "required":
                raise AttestationError("this operator requires card data signed by an enrolled reader",
                                       code="reader_unsigned")
            outcome = ReaderAttestation.UNATTESTED
        else:
            reader = s.execute(select(CardReader).where(
                CardReader.operator_id == actor.operator_id,
                CardReader.reader_id == attestation.reader_id_of(statement))).scalar_one_or_none()
            if reader is None:
                raise AttestationError("the card data is signed by a reader this operator has not enrolled",
                                       code="reader_unknown")
            if reader.revoked_at is not None:
                raise AttestationError("the card reader was revoked", code="reader_revoked")
            if reader.outlet_id is not None and reader.outlet_id != actor.outlet_id:
                raise AttestationError("the card reader belongs to another outlet", code="reader_other_outlet")
            attestation.verify(reader.public_key, card, portrait, now=svc.now(),
                               max_age=timedelta(minutes=svc.settings.reader_statement_minutes))
            outcome, reader_row = ReaderAttestation.ATTESTED, reader.id
    chip_check: ChipCheck | None = None
    signer = None
    if doc_type == "passport":
        chip = card.get("chip")
        if chip is None:
            chip_check = ChipCheck.MRZ_ONLY
        elif not isinstance(chip, Mapping):
            raise BadInputError("chip must be an object with sod, dg1 and dg2", code="chip_malformed")
        else:
            signer = _chip(svc, chip, mrz, portrait).signer
            chip_check = ChipCheck.PASSIVE_AUTH
    return DocumentTrust(outcome, reader_row, chip_check, signer)
