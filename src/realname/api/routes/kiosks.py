"""Enrolled devices under /v1: kiosks (WebAuthn enrolment, rename, revoke; the request nonce a kiosk signs) and
card readers (enrol a public key, revoke)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from fastapi import APIRouter

from realname.api.kiosk_schemas import (
    EnrolmentIn,
    EnrolmentOut,
    KioskIn,
    KioskOut,
    NonceOut,
    ReaderIn,
    ReaderOut,
    RenameIn,
    RevokeIn,
)
from realname.api.schemas import V1_ERRORS
from realname.api.security import Caller, Svc, secured
from realname.operators import kiosks, readers

router = APIRouter(prefix="/v1", responses=V1_ERRORS, tags=["devices"])


class _Device(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def enrolled_at(self) -> datetime: ...
    @property
    def revoked_at(self) -> datetime | None: ...


class KioskRecord(_Device, Protocol):
    """What a response shows of a kiosk the use case returns."""

    @property
    def outlet_id(self) -> str: ...
    @property
    def credential_id(self) -> str: ...
    @property
    def aaguid(self) -> str: ...
    @property
    def attestation_format(self) -> str: ...
    @property
    def last_used_at(self) -> datetime | None: ...


class ReaderRecord(_Device, Protocol):
    @property
    def reader_id(self) -> str: ...
    @property
    def outlet_id(self) -> str | None: ...


def _kiosk(k: KioskRecord) -> KioskOut:
    return KioskOut(id=k.id, name=k.name, outlet_id=k.outlet_id, credential_id=k.credential_id, aaguid=k.aaguid,
                    attestation_format=k.attestation_format, enrolled_at=k.enrolled_at,
                    last_used_at=k.last_used_at, revoked_at=k.revoked_at)


def _reader(r: ReaderRecord) -> ReaderOut:
    return ReaderOut(id=r.id, reader_id=r.reader_id, name=r.name, outlet_id=r.outlet_id, enrolled_at=r.enrolled_at,
                     revoked_at=r.revoked_at)


@router.post("/kiosk-enrolments", response_model=EnrolmentOut, **secured("kiosks.manage"))
def start_enrolment(body: EnrolmentIn, svc: Svc, actor: Caller) -> EnrolmentOut:
    enrolment_id, options = kiosks.enrolment_options(svc, actor, body.outlet_id, body.name)
    return EnrolmentOut(enrolment_id=enrolment_id, options=options)


@router.post("/kiosks", response_model=KioskOut, status_code=201, **secured("kiosks.manage"))
def enrol_kiosk(body: KioskIn, svc: Svc, actor: Caller) -> KioskOut:
    return _kiosk(kiosks.enrol(svc, actor, body.enrolment_id, body.credential))


@router.get("/kiosks", response_model=list[KioskOut], **secured("kiosks.manage"))
def list_kiosks(svc: Svc, actor: Caller) -> list[KioskOut]:
    return [_kiosk(k) for k in kiosks.list_kiosks(svc, actor)]


@router.patch("/kiosks/{kiosk_id}", response_model=KioskOut, **secured("kiosks.manage"))
def rename_kiosk(kiosk_id: str, body: RenameIn, svc: Svc, actor: Caller) -> KioskOut:
    return _kiosk(kiosks.rename_kiosk(svc, actor, kiosk_id, body.name))


@router.post("/kiosks/{kiosk_id}/revoke", response_model=KioskOut, **secured("kiosks.manage"))
def revoke_kiosk(kiosk_id: str, body: RevokeIn, svc: Svc, actor: Caller) -> KioskOut:
    return _kiosk(kiosks.revoke_kiosk(svc, actor, kiosk_id, body.reason))


@router.post("/kiosk-nonces", response_model=NonceOut, **secured("verifications.capture"))
def request_nonce(svc: Svc, actor: Caller) -> NonceOut:
    return NonceOut(nonce=kiosks.request_nonce(svc, actor), expires_in=svc.settings.kiosk_nonce_seconds,
                    required=kiosks.kiosks_required(svc, actor))


@router.get("/readers", response_model=list[ReaderOut], **secured("kiosks.manage"))
def list_readers(svc: Svc, actor: Caller) -> list[ReaderOut]:
    return [_reader(r) for r in readers.list_readers(svc, actor)]


@router.post("/readers", response_model=ReaderOut, status_code=201, **secured("kiosks.manage"))
def enrol_reader(body: ReaderIn, svc: Svc, actor: Caller) -> ReaderOut:
    return _reader(readers.enrol_reader(svc, actor, body.reader_id, body.name, body.public_key, body.outlet_id))


@router.post("/readers/{reader_row_id}/revoke", response_model=ReaderOut, **secured("kiosks.manage"))
def revoke_reader(reader_row_id: str, body: RevokeIn, svc: Svc, actor: Caller) -> ReaderOut:
    return _reader(readers.revoke_reader(svc, actor, reader_row_id, body.reason))
