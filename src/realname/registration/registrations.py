"""Numbers: assign within the caps, list a person's numbers, cancel, transfer, re-verify.

The caps are enforced inside the transaction that assigns the number, after locking the person's row
(``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers): two concurrent requests for
the same person are serialised at that lock, so the second one counts the first one's number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from realname.audit.log import append
from realname.context import SYSTEM, Actor, Services
from realname.errors import BadInputError, CapExceededError, ConflictError, NotFoundError
from realname.operations import metrics
from realname.operators.admin import settings_in
from realname.operators.auth import require
from realname.registration.verifications import consume_pass
from realname.registry.states import HELD, TRANSFERRED, NumberStatus, RegistrationStatus, ReverificationStatus
from realname.registry.tables import Operator, Person, PhoneNumber, Registration, Reverification, Verification


def _check_caps(s: Session, svc: Services, person: Person, operator: Operator) -> None:
    held = s.execute(select(func.count()).select_from(Registration).where(
        Registration.person_id == person.id, Registration.operator_id == operator.id,
        Registration.status.in_(HELD))).scalar_one()
    if held >= operator.cap_per_person:
        raise CapExceededError(f"this person already holds {held} numbers at {operator.name}; the cap per person "
                               f"per operator is {operator.cap_per_person}", cap="per_operator",
                               limit=operator.cap_per_person)
    total_cap = svc.settings.cap_total
    if total_cap is not None:
        total = s.execute(select(func.count()).select_from(Registration).where(
            Registration.person_id == person.id, Registration.status.in_(HELD))).scalar_one()
        if total >= total_cap:
            raise CapExceededError(f"this person already holds {total} numbers across all operators; the total cap "
                                   f"is {total_cap}", cap="total", limit=total_cap)


def _pick_number(s: Session, svc: Services, operator_id: str, msisdn: str | None) -> PhoneNumber:
    q = select(PhoneNumber).where(PhoneNumber.operator_id == operator_id, PhoneNumber.status == NumberStatus.AVAILABLE)
    if msisdn:
        from realname.documents.phone import parse_msisdn
        number = s.execute(q.where(PhoneNumber.msisdn == parse_msisdn(msisdn, svc.settings.country))
                           .with_for_update()).scalar_one_or_none()
        if number is None:
            raise ConflictError(f"{msisdn} is not an available number of this operator", code="number_unavailable")
        return number
    # SKIP LOCKED: concurrent registrations of different people take different free numbers without waiting.
    number = s.execute(q.order_by(PhoneNumber.msisdn).limit(1).with_for_update(skip_locked=True)).scalar_one_or_none()
    if number is None:
        raise ConflictError("no numbers left in stock: import a new block", code="out_of_numbers")
    return number


def _end(s: Session, svc: Services, reg: Registration, at: datetime, reason: str) -> None:
    """A registration ends (cancelled or transferred) and is kept for its operator's retention period after it."""
    reg.status, reg.ended_at, reg.end_reason = RegistrationStatus.CANCELLED, at, reason[:64]
    years = settings_in(s, svc, reg.operator_id).retention_years_after_service
    reg.retain_until = (at + timedelta(days=365 * years)).date()


def register(svc: Services, actor: Actor, verification_id: str, msisdn: str | None = None) -> Registration:
    require(actor, "registrations.create")
    try:
        with svc.db.write() as s:
            v, person = consume_pass(s, svc, actor, verification_id, "register")
            return _assign(s, svc, actor, v, person, msisdn)
    except CapExceededError as refused:
        with svc.db.write() as s:  # the refusal is on record even though nothing was assigned
            append(s, at=svc.now(), actor=actor.username, action="cap_refused", subject=verification_id,
                   payload={"cap": refused.cap, "limit": refused.limit, "operator": actor.operator_id})
        metrics.count_cap_refusal(refused.cap)
        raise


def _assign(s: Session, svc: Services, actor: Actor, v: Verification, person: Person,
            msisdn: str | None) -> Registration:
    operator = s.get(Operator, v.operator_id)
    assert operator is not None
    _check_caps(s, svc, person, operator)
    number = _pick_number(s, svc, operator.id, msisdn)
    now = svc.now()
    number.status, number.updated_at = NumberStatus.ACTIVE, now
    reg = Registration(person_id=person.id, representative_id=v.representative_id, number_id=number.id,
                       operator_id=operator.id, outlet_id=v.outlet_id, agent_id=actor.user_id or v.agent_id,
                       verification_id=v.id, status=RegistrationStatus.ACTIVE, created_at=now,
                       evidence={"decision": v.decision, "reviewed_by": v.reviewed_by, "reasons": v.reasons,
                                 "model_version": v.model_version, "threshold_version": v.threshold_version,
                                 "portrait_sha256": v.portrait_sha256, "challenge": v.challenge_actions})
    s.add(reg)
    s.flush()
    append(s, at=now, actor=actor.username, action="number_assigned", subject=reg.id,
           payload={"msisdn": number.msisdn, "person": person.id, "verification": v.id,
                    "representative": v.representative_id, "operator": operator.id, "outlet": v.outlet_id,
                    "kiosk": actor.kiosk_id})
    return reg


@dataclass(frozen=True)
class HeldNumber:
    registration_id: str
    msisdn: str
    operator: str
    status: RegistrationStatus
    since: datetime


def numbers_of(svc: Services, actor: Actor, verification_id: str) -> list[HeldNumber]:
    """"Numbers registered under my name", after the person has verified again (a 'lookup' verification)."""
    require(actor, "registrations.lookup_mine")
    with svc.db.write() as s:
        _v, person = consume_pass(s, svc, actor, verification_id, "lookup")
        rows = s.execute(
            select(Registration, PhoneNumber.msisdn, Operator.name).select_from(Registration)
            .join(PhoneNumber, PhoneNumber.id == Registration.number_id)
            .join(Operator, Operator.id == Registration.operator_id)
            .where(Registration.person_id == person.id, Registration.status.in_(HELD))
            .order_by(Registration.created_at)).all()
        append(s, at=svc.now(), actor=actor.username, action="numbers_listed", subject=person.id,
               payload={"count": len(rows)})
        return [HeldNumber(r.id, m, op, r.status, r.created_at) for r, m, op in rows]


def _registration(s: Session, actor: Actor, registration_id: str, *, lock: bool = True) -> Registration:
    """The registration, locked for the change about to be made; another operator's does not exist for this caller
    (regulator-side users, without an operator, see every operator's)."""
    q = select(Registration).where(Registration.id == registration_id)
    reg = s.execute(q.with_for_update() if lock else q).scalar_one_or_none()
    if reg is None or (actor.operator_id is not None and reg.operator_id != actor.operator_id):
        raise NotFoundError("no such registration")
    return reg


def get_registration(svc: Services, actor: Actor, registration_id: str) -> Registration:
    require(actor, "registrations.read")
    with svc.db.read() as s:
        return _registration(s, actor, registration_id, lock=False)


def cancel(svc: Services, actor: Actor, registration_id: str, reason: str) -> Registration:
    require(actor, "registrations.cancel")
    if not reason.strip():
        raise BadInputError("a cancellation needs a reason", code="reason_required")
    now = svc.now()
    with svc.db.write() as s:
        reg = _registration(s, actor, registration_id)
        if reg.status == RegistrationStatus.CANCELLED:
            raise ConflictError("this registration is already cancelled", code="already_cancelled")
        number = s.get(PhoneNumber, reg.number_id)
        assert number is not None
        _end(s, svc, reg, now, reason.strip())
        number.status, number.updated_at = NumberStatus.CANCELLED, now
        append(s, at=now, actor=actor.username, action="cancellation", subject=reg.id,
               payload={"msisdn": number.msisdn, "reason": reason.strip()})
    return reg


def transfer(svc: Services, actor: Actor, registration_id: str, verification_id: str) -> Registration:
    """The number moves to another person: the old registration ends and a new one, for the person who just
    verified, is created in the same transaction (the new holder's caps apply)."""
    require(actor, "registrations.transfer")
    now = svc.now()
    with svc.db.write() as s:
        old = _registration(s, actor, registration_id)
        if old.status != RegistrationStatus.ACTIVE:
            raise ConflictError("only an active number can be transferred", code="not_active")
        v, person = consume_pass(s, svc, actor, verification_id, "register")
        if person.id == old.person_id:
            raise ConflictError("the number already belongs to this person", code="same_holder")
        number = s.get(PhoneNumber, old.number_id)
        assert number is not None
        _end(s, svc, old, now, TRANSFERRED)
        number.status = NumberStatus.AVAILABLE
        s.flush()
        new = _assign(s, svc, actor, v, person, number.msisdn)
        append(s, at=now, actor=actor.username, action="transfer", subject=old.id,
               payload={"to_registration": new.id, "msisdn": number.msisdn})
    return new


def order_reverification(svc: Services, actor: Actor, registration_id: str, reason: str) -> Reverification:
    require(actor, "reverifications.order")
    if not reason.strip():
        raise BadInputError("a re-verification order needs a reason", code="reason_required")
    now = svc.now()
    with svc.db.write() as s:
        reg = _registration(s, actor, registration_id)
        if reg.status == RegistrationStatus.CANCELLED:
            raise ConflictError("the registration is cancelled", code="not_active")
        order = Reverification(registration_id=reg.id, reason=reason.strip(),
                               status=ReverificationStatus.OPEN, created_at=now,
                               deadline=now + timedelta(hours=svc.settings.reverify_hours),
                               ordered_by=actor.user_id)
        s.add(order)
        s.flush()
        append(s, at=now, actor=actor.username, action="reverification_ordered", subject=reg.id,
               payload={"order": order.id, "deadline": order.deadline.isoformat(), "reason": order.reason})
    return order


def complete_reverification(svc: Services, actor: Actor, order_id: str, verification_id: str) -> Reverification:
    require(actor, "reverifications.complete")
    now = svc.now()
    with svc.db.write() as s:
        order = s.get(Reverification, order_id)
        if order is None:
            raise NotFoundError("no such re-verification order")
        reg = _registration(s, actor, order.registration_id)
        if order.status == ReverificationStatus.DONE:
            raise ConflictError("this order is already done", code="already_done")
        v, person = consume_pass(s, svc, actor, verification_id, "reverify")
        if person.id != reg.person_id:
            raise ConflictError("the person who verified is not the number's holder", code="wrong_person")
        order.status, order.closed_at, order.verification_id = ReverificationStatus.DONE, now, v.id
        if reg.status == RegistrationStatus.SUSPENDED:
            reg.status = RegistrationStatus.ACTIVE
            number = s.get(PhoneNumber, reg.number_id)
            assert number is not None
            number.status = NumberStatus.ACTIVE
        append(s, at=now, actor=actor.username, action="reverified", subject=reg.id, payload={"order": order.id})
    return order


def suspend_overdue(svc: Services) -> int:
    """Numbers whose re-verification deadline passed are suspended. Returns how many numbers were suspended."""
    now = svc.now()
    suspended = 0
    with svc.db.write() as s:
        due = s.execute(select(Reverification).where(Reverification.status == ReverificationStatus.OPEN,
                                                     Reverification.deadline < now)).scalars().all()
        for order in due:
            order.status, order.closed_at = ReverificationStatus.LAPSED, now
            reg = s.get(Registration, order.registration_id)
            assert reg is not None
            if reg.status == RegistrationStatus.ACTIVE:
                suspended += 1
                reg.status = RegistrationStatus.SUSPENDED
                number = s.get(PhoneNumber, reg.number_id)
                assert number is not None
                number.status = NumberStatus.SUSPENDED
                append(s, at=now, actor=SYSTEM.username, action="suspended", subject=reg.id,
                       payload={"order": order.id, "msisdn": number.msisdn})
    return suspended

