"""Registrations under /v1: register a number after a passed verification, read it, the counter's receipt, cancel,
transfer, re-verification orders, and the numbers a verified customer holds."""

from __future__ import annotations

from fastapi import APIRouter

from realname.api.registry_schemas import (
    HeldNumberOut,
    ReasonIn,
    ReceiptOut,
    RegisterIn,
    RegistrationOut,
    ReverificationOut,
    VerificationRef,
)
from realname.api.schemas import V1_ERRORS
from realname.api.security import Caller, Svc, secured
from realname.context import Services
from realname.registration import registrations
from realname.registry.queries import registration_view
from realname.supervision import inspection

router = APIRouter(prefix="/v1", responses=V1_ERRORS, tags=["registration"])


def _registration_out(svc: Services, registration_id: str) -> RegistrationOut:
    with svc.db.read() as s:
        view = registration_view(s, registration_id)
    assert view is not None  # the use case has just returned it, and registrations are never deleted
    return RegistrationOut(id=view.id, msisdn=view.msisdn, status=view.status, operator_id=view.operator_id,
                           outlet_id=view.outlet_id, person_number=view.person_number, created_at=view.created_at)


@router.post("/registrations", response_model=RegistrationOut, status_code=201,
             **secured("registrations.create", kiosk=True))
def register(body: RegisterIn, svc: Svc, actor: Caller) -> RegistrationOut:
    reg = registrations.register(svc, actor, body.verification_id, body.msisdn)
    return _registration_out(svc, reg.id)


@router.get("/registrations/{registration_id}", response_model=RegistrationOut, **secured("registrations.read"))
def get_registration(registration_id: str, svc: Svc, actor: Caller) -> RegistrationOut:
    reg = registrations.get_registration(svc, actor, registration_id)
    return _registration_out(svc, reg.id)


@router.get("/registrations/{registration_id}/receipt", response_model=ReceiptOut,
            **secured("registrations.create"))
def receipt(registration_id: str, svc: Svc, actor: Caller) -> ReceiptOut:
    """What the counter prints for the customer: name and document number masked, no biometric data."""
    r = inspection.receipt(svc, actor, registration_id)
    return ReceiptOut(registration_id=r.registration_id, msisdn=r.msisdn, operator_name=r.operator_name,
                      outlet_name=r.outlet_name, agent=r.agent, person_number=r.person_number,
                      name_masked=r.name_masked, doc_type=r.doc_type, created_at=r.created_at, status=r.status)


@router.post("/registrations/{registration_id}/cancel", response_model=RegistrationOut,
             **secured("registrations.cancel"))
def cancel(registration_id: str, body: ReasonIn, svc: Svc, actor: Caller) -> RegistrationOut:
    reg = registrations.cancel(svc, actor, registration_id, body.reason)
    return _registration_out(svc, reg.id)


@router.post("/registrations/{registration_id}/transfer", response_model=RegistrationOut,
             **secured("registrations.transfer"))
def transfer(registration_id: str, body: VerificationRef, svc: Svc, actor: Caller) -> RegistrationOut:
    reg = registrations.transfer(svc, actor, registration_id, body.verification_id)
    return _registration_out(svc, reg.id)


@router.post("/registrations/{registration_id}/reverifications", response_model=ReverificationOut,
             status_code=201, **secured("reverifications.order"))
def order_reverification(registration_id: str, body: ReasonIn, svc: Svc, actor: Caller) -> ReverificationOut:
    o = registrations.order_reverification(svc, actor, registration_id, body.reason)
    return ReverificationOut(id=o.id, registration_id=o.registration_id, status=o.status, deadline=o.deadline)


@router.post("/reverifications/{order_id}/complete", response_model=ReverificationOut,
             **secured("reverifications.complete"))
def complete_reverification(order_id: str, body: VerificationRef, svc: Svc, actor: Caller) -> ReverificationOut:
    o = registrations.complete_reverification(svc, actor, order_id, body.verification_id)
    return ReverificationOut(id=o.id, registration_id=o.registration_id, status=o.status, deadline=o.deadline)


@router.post("/numbers/mine", response_model=list[HeldNumberOut], **secured("registrations.lookup_mine"))
def numbers_mine(body: VerificationRef, svc: Svc, actor: Caller) -> list[HeldNumberOut]:
    held = registrations.numbers_of(svc, actor, body.verification_id)
    return [HeldNumberOut(msisdn=h.msisdn, operator=h.operator, status=h.status, since=h.since) for h in held]
