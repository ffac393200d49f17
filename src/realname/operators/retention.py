"""Retention and erasure: what is kept, for how long, and proof that what was due is gone.

``purge`` deletes what is due and records counts in the audit chain; ``erase_biometrics`` deletes one person's
face data on request and returns the audit event that proves it. Verification sessions go after their operator's
``session_retention_days``, and an ended registration after its operator's ``retention_years_after_service``
(both set in the back office over the service's defaults); a registration keeps the evidence summary copied
from its session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import CompoundSelect, and_, delete, false, func, or_, select, union, update

from realname.audit.chain import EventRecord
from realname.audit.log import append
from realname.context import SYSTEM, Actor, Services
from realname.errors import NotFoundError
from realname.operators.admin import settings_in
from realname.registry.db import rowcount
from realname.registry.states import RegistrationStatus, VerificationStatus
from realname.registry.tables import (
    AuthToken,
    Consent,
    FaceTemplate,
    Operator,
    Person,
    Registration,
    Reverification,
    Verification,
)


@dataclass(frozen=True)
class PurgeReport:
    verifications: int
    registrations: int
    persons: int
    face_templates: int
    tokens: int
    event: EventRecord


def purge(svc: Services, actor: Actor = SYSTEM) -> PurgeReport:
    now = svc.now()
    today = now.date()
    with svc.db.write() as s:
        # Each operator's own session retention (set in the back office), over the service's default.
        due_sessions = [and_(Verification.operator_id == op_id,
                             Verification.created_at < now - timedelta(days=settings_in(s, svc, op_id)
                                                                       .session_retention_days))
                        for op_id in s.execute(select(Operator.id)).scalars()]
        old = select(Verification.id).where(or_(false(), *due_sessions))
        s.execute(update(Registration).where(Registration.verification_id.in_(old)).values(verification_id=None))
        s.execute(update(Reverification).where(Reverification.verification_id.in_(old))
                  .values(verification_id=None))
        n_ver = rowcount(s.execute(delete(Verification).where(Verification.id.in_(old))))
        # Portraits of sessions abandoned before a decision: never kept past the challenge.
        s.execute(update(Verification).where(Verification.portrait_enc.is_not(None),
                                             Verification.challenge_expires_at < now - timedelta(
                                                 seconds=svc.settings.capture_seconds))
                  .values(portrait_enc=None, status=VerificationStatus.EXPIRED))
        due = select(Registration.id).where(Registration.status == RegistrationStatus.CANCELLED,
                                            Registration.retain_until < today)
        s.execute(delete(Reverification).where(Reverification.registration_id.in_(due)))
        n_reg = rowcount(s.execute(delete(Registration).where(Registration.id.in_(due))))
        n_tpl = rowcount(s.execute(delete(FaceTemplate).where(FaceTemplate.retain_until < today)))
        # NOT IN over a list holding NULL matches nothing, so the optional columns are filtered.
        referenced: CompoundSelect[Any] = union(
            select(Registration.person_id), select(Verification.person_id), select(FaceTemplate.person_id),
            select(Registration.representative_id).where(Registration.representative_id.is_not(None)),
            select(Verification.representative_id).where(Verification.representative_id.is_not(None)))
        orphans = select(Person.id).where(Person.id.not_in(referenced))
        s.execute(delete(Consent).where(Consent.person_id.in_(orphans)))
        n_per = rowcount(s.execute(delete(Person).where(Person.id.in_(orphans))))
        n_tok = rowcount(s.execute(delete(AuthToken).where(AuthToken.expires_at < now)))
        counts = {"verifications": n_ver, "registrations": n_reg, "persons": n_per, "face_templates": n_tpl,
                  "tokens": n_tok}
        event = append(s, at=now, actor=actor.username, action="purge", subject="retention", payload=counts)
    return PurgeReport(n_ver, n_reg, n_per, n_tpl, n_tok, event)


def erase_biometrics(svc: Services, actor: Actor, person_id: str) -> EventRecord:
    """Delete every piece of face data held for one person; the returned audit event is the proof."""
    now = svc.now()
    with svc.db.write() as s:
        if s.get(Person, person_id) is None:
            raise NotFoundError("no such person")
        templates = rowcount(s.execute(delete(FaceTemplate).where(FaceTemplate.person_id == person_id)))
        portraits = rowcount(s.execute(update(Verification).where(Verification.person_id == person_id,
                                                         Verification.portrait_enc.is_not(None))
                              .values(portrait_enc=None, status=VerificationStatus.EXPIRED)))
        s.execute(update(Consent).where(Consent.person_id == person_id, Consent.kind == "template_retention",
                                        Consent.withdrawn_at.is_(None)).values(withdrawn_at=now))
        left = s.execute(select(func.count()).select_from(FaceTemplate)
                         .where(FaceTemplate.person_id == person_id)).scalar_one()
        return append(s, at=now, actor=actor.username, action="biometric_erased", subject=person_id,
                      payload={"templates_deleted": templates, "portraits_deleted": portraits,
                               "face_data_left": left})


def people_with_face_data(svc: Services) -> int:
    with svc.db.read() as s:
        return int(s.execute(select(func.count(func.distinct(FaceTemplate.person_id)))).scalar_one())


@dataclass(frozen=True)
class FaceDataStatus:
    people: int
    threshold: int

    @property
    def warning(self) -> str | None:
        if self.people < self.threshold:
            return None
        return (f"face data is stored for {self.people} people, at or over the {self.threshold} at which a filing "
                "with the authority is required")


def face_data_status(svc: Services) -> FaceDataStatus:
    return FaceDataStatus(people_with_face_data(svc), svc.settings.face_data_warning)
