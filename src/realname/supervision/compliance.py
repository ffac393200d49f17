"""Compliance evidence in one place: what an operator shows an inspector about how it keeps its promises.

Face data against the filing threshold, retention jobs and what they deleted, key rotation age, the audit chain,
consent coverage (every verification has its face-processing consent; every stored template its own), and the
settings in force with the thresholds file's provenance. Producing it is itself audited.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select

from realname.audit.log import append
from realname.context import Actor, Services
from realname.operators.admin import get_operator_settings
from realname.operators.auth import require
from realname.operators.retention import face_data_status
from realname.registry.tables import AuditEvent, Consent, FaceTemplate, Operator, Verification
from realname.supervision.transparency import status as audit_status


@dataclass(frozen=True)
class ComplianceReport:
    generated_at: str
    face_data: dict[str, Any]
    retention: dict[str, Any]
    keys: dict[str, Any]
    audit_chain: dict[str, Any]
    consent: dict[str, Any]
    settings: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def problems(self) -> list[str]:
        out = []
        if self.face_data["warning"]:
            out.append(self.face_data["warning"])
        if not self.audit_chain["ok"]:
            out.append(f"audit chain broken: {self.audit_chain['detail']}")
        if self.face_data["people"] and not self.face_data["retention_enabled"]:
            out.append("face templates are stored but template retention is switched off: erase them or enable it")
        if self.consent["verifications_without_consent"] or self.consent["templates_without_consent"]:
            out.append("records without their consent")
        off = sorted(code for code, on in self.settings["light_check"].items() if not on)
        if off:
            out.append(f"the screen-light check is off for {', '.join(off)}: their live checks rest on head moves and "
                       "blinks alone, which a photo animated by a model can perform")
        if self.keys["age_days"] is not None and self.keys["age_days"] > 365:
            out.append(f"the active key is {self.keys['age_days']} days old: rotate it (`realname keys rotate`)")
        return out


def _key_date(key_id: str) -> datetime | None:
    m = re.match(r"k(\d{8})", key_id)  # Keyring.new_key_id(): "k" + UTC date + random hex
    return datetime.strptime(m.group(1), "%Y%m%d") if m else None


def compliance(svc: Services, actor: Actor) -> ComplianceReport:
    require(actor, "compliance.read")
    now = svc.now()
    chain = audit_status(svc)  # incremental: from the last verified prefix
    with svc.db.read() as s:
        status = face_data_status(svc)
        purges = s.execute(select(AuditEvent).where(AuditEvent.action == "purge")
                           .order_by(AuditEvent.seq.desc()).limit(5)).scalars().all()
        rotation = s.execute(select(AuditEvent).where(AuditEvent.action == "key_rotation")
                             .order_by(AuditEvent.seq.desc()).limit(1)).scalar_one_or_none()
        total = s.execute(select(func.count()).select_from(Verification)).scalar_one()
        unconsented = s.execute(select(func.count()).select_from(Verification).outerjoin(
            Consent, and_(Consent.id == Verification.consent_id, Consent.kind == "face_processing",
                          Consent.granted.is_(True))).where(Consent.id.is_(None))).scalar_one()
        templates = s.execute(select(func.count()).select_from(FaceTemplate)).scalar_one()
        bare = s.execute(select(func.count()).select_from(FaceTemplate).outerjoin(
            Consent, and_(Consent.id == FaceTemplate.consent_id, Consent.kind == "template_retention",
                          Consent.granted.is_(True), Consent.withdrawn_at.is_(None)))
            .where(Consent.id.is_(None))).scalar_one()
        caps = {code: cap for code, cap in s.execute(select(Operator.code, Operator.cap_per_person))}
        operators = list(s.execute(select(Operator.code, Operator.id)))
    # The screen-light check per operator: off, its live checks rest on the actions, which animated photos pass.
    per_operator = {code: get_operator_settings(svc, op_id) for code, op_id in operators}
    light = {code: o.light_check for code, o in per_operator.items()}
    active = svc.keyring.active
    rotated_at = datetime.fromisoformat(rotation.at) if rotation is not None else None
    created = rotated_at or _key_date(active)
    age = (now.replace(tzinfo=None) - created.replace(tzinfo=None)).days if created else None
    th = svc.faces.thresholds
    cfg = svc.settings
    report = ComplianceReport(
        generated_at=now.isoformat(),
        face_data={"people": status.people, "filing_threshold": status.threshold, "warning": status.warning,
                   "retention_enabled": cfg.retain_templates, "retention_days": cfg.template_retention_days},
        # the service's defaults, and what each operator's purge uses (its administrator's settings over them)
        retention={"registrations_years_after_service": cfg.retention_years_after_service,
                   "verification_sessions_days": cfg.session_retention_days,
                   "per_operator": {code: {"registrations_years_after_service": o.retention_years_after_service,
                                           "verification_sessions_days": o.session_retention_days}
                                    for code, o in per_operator.items()},
                   "runs": [{"seq": e.seq, "at": e.at, "deleted": e.payload} for e in purges],
                   "last_run": purges[0].at if purges else None},
        keys={"active": active, "keys": len(svc.keyring.keys), "last_rotation": rotation.at if rotation else None,
              "age_days": age},
        audit_chain={"ok": chain.ok, "events": chain.count, "last_hash": chain.last_hash, "problem": chain.problem,
                     "detail": chain.detail},
        consent={"verifications": total, "verifications_without_consent": unconsented,
                 "coverage": 1.0 if total == 0 else (total - unconsented) / total,
                 "templates": templates, "templates_without_consent": bare},
        settings={"caps_per_person": caps, "cap_total": cfg.cap_total, "challenge_actions": cfg.challenge_actions,
                  "light_check": light,
                  "enrolled_kiosks_required": {code: o.require_enrolled_kiosks for code, o in per_operator.items()},
                  "card_readers": {code: o.card_readers for code, o in per_operator.items()},
                  "challenge_seconds": cfg.challenge_seconds, "max_failures": cfg.max_failures,
                  "failure_window_minutes": cfg.failure_window_minutes, "engine": cfg.engine,
                  "thresholds_file": str(cfg.thresholds_file or "packaged default"),
                  "thresholds_provenance": th.provenance.model_dump(), "signals": cfg.signals.model_dump()},
    )
    with svc.db.write() as s:
        append(s, at=now, actor=actor.username, action="compliance_report", subject="compliance",
               payload={"chain_ok": chain.ok, "events": chain.count, "problems": len(report.problems)})
    return report
