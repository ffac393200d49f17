"""Supervision reports: what an inspector asks an operator for, for any period, outlet or agent.

A report holds the counts of :func:`counts.summarise` plus the failures by category (liveness action not
done, attack suspected, face mismatch, quality), the review decisions and who made them, cap refusals,
cancellations, re-verifications and suspensions per outlet and per agent. Every report states the audit chain's
status and is itself recorded in the chain (who asked for what). :func:`sample` draws a reproducible sample of
registrations with their evidence summary, for inspection on paper; no biometric data is in either.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from realname.audit.log import append
from realname.context import Actor, Services
from realname.errors import BadInputError, ForbiddenError, NotFoundError
from realname.operators.auth import require
from realname.registry.queries import (
    Window,
    events_in,
    operator_id_by_code,
    outlet_by_code,
    registrations_in,
    scoped,
    user_id_by_name,
    verifications_in,
)
from realname.registry.states import RegistrationStatus, ReverificationStatus, VerificationDecision
from realname.registry.tables import (
    AuditEvent,
    Kiosk,
    Outlet,
    Person,
    PhoneNumber,
    Registration,
    Reverification,
    User,
    Verification,
)
from realname.supervision.counts import Summary, summarise, window
from realname.supervision.period import Period
from realname.supervision.transparency import status as audit_status

# Reason codes (liveness session, matcher, capture) by the category a report counts them under.
CATEGORIES: dict[str, str] = {
    **dict.fromkeys(("action_missing", "turn_further", "not_frontal_between", "action_too_slow", "too_short"),
                    "liveness_action"),
    **dict.fromkeys(("screen_or_photo", "flat_motion", "different_person", "multiple_faces", "cut_in_video",
                     "repeated_frames"), "attack_suspected"),
    **dict.fromkeys(("face_mismatch", "match_uncertain"), "face_mismatch"),
}
CATEGORY_LABELS = {"liveness_action": ("Liveness action not done", "动作未完成"),
                   "attack_suspected": ("Attack suspected", "疑似攻击"),
                   "face_mismatch": ("Face mismatch", "人证不符"),
                   "quality": ("Quality / capture", "采集质量")}


def category(reason: str) -> str:
    return CATEGORIES.get(reason, "quality")


@dataclass(frozen=True)
class Scope:
    operator: str | None = None  # codes and usernames, as the inspector names them
    outlet: str | None = None
    agent: str | None = None
    kiosk: str | None = None  # an enrolled kiosk's id


@dataclass(frozen=True)
class Report:
    title: str
    period: Period
    scope: Scope
    generated_at: datetime
    generated_by: str
    chain: dict[str, Any]
    summary: Summary
    failures_by_category: dict[str, int]
    reviews: list[dict[str, Any]]  # per decider: passed, failed
    reverifications: dict[str, int]
    outlets: list[dict[str, Any]]
    agents: list[dict[str, Any]]
    audit_event: dict[str, Any]  # this report's own place in the chain
    capture_chain: dict[str, Any] = field(default_factory=dict)  # attested vs unattested reads, per kiosk

    def as_dict(self) -> dict[str, Any]:
        s = self.summary
        return {
            "title": self.title, "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
            "scope": asdict(self.scope), "generated_at": self.generated_at.isoformat(),
            "generated_by": self.generated_by, "audit_chain": self.chain, "totals": asdict(s.totals),
            "failures_by_category": self.failures_by_category, "failure_reasons": s.failure_reasons,
            "reviews": self.reviews, "reverifications": self.reverifications,
            "by_day": [{"day": d.day.isoformat(), "registrations": d.registrations,
                        "verifications": d.verifications, "passed": d.passed, "failed": d.failed}
                       for d in s.by_day],
            "by_outlet": self.outlets, "by_agent": self.agents, "capture_chain": self.capture_chain,
            "audit_event": self.audit_event,
        }


def _resolve(s: Session, actor: Actor, scope: Scope) -> tuple[str | None, str | None, str | None, str | None]:
    """Codes to ids, inside what the caller may see (an operator's admin: its own operator only)."""
    operator_id = None
    if scope.operator:
        operator_id = operator_id_by_code(s, scope.operator)
        if operator_id is None:
            raise NotFoundError(f"no operator {scope.operator!r}")
    if actor.role not in ("inspector", "auditor", "system"):
        if operator_id not in (None, actor.operator_id):
            raise ForbiddenError("an operator's staff report on their own operator only")
        operator_id = actor.operator_id
    outlet_id = agent_id = None
    if scope.outlet:
        outlet = outlet_by_code(s, scope.outlet, operator_id=operator_id)
        if outlet is None:
            raise NotFoundError(f"no outlet {scope.outlet!r}")
        outlet_id = outlet.id
    if scope.agent:
        agent_id = user_id_by_name(s, scope.agent, operator_id=operator_id)
        if agent_id is None:
            raise NotFoundError(f"no agent {scope.agent!r}")
    kiosk_id = None
    if scope.kiosk:
        kiosk = s.get(Kiosk, scope.kiosk)
        if kiosk is None or operator_id not in (None, kiosk.operator_id):
            raise NotFoundError(f"no kiosk {scope.kiosk!r}")
        kiosk_id = kiosk.id
    return operator_id, outlet_id, agent_id, kiosk_id


def build_report(svc: Services, actor: Actor, period: Period, scope: Scope | None = None) -> Report:
    require(actor, "reports.read")
    scope = scope or Scope()
    with svc.db.read() as s:
        w = window(svc, period, *_resolve(s, actor, scope))
    chain = audit_status(svc)  # incremental: its time follows the events since the last check, not the log's size
    with svc.db.read() as s:
        in_period = s.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.at >= w.since.isoformat(timespec="microseconds"),
            AuditEvent.at < w.until.isoformat(timespec="microseconds"))).scalar_one()
    summary = summarise(svc, period, w, chain)
    with svc.db.read() as s:
        reviews = _reviews(s, w)
        reverify = _reverifications(s, w)
        outlets, agents = _breakdowns(s, w, summary)
        chain_of_capture = _capture_chain(s, w)
    categories: dict[str, int] = dict.fromkeys(CATEGORY_LABELS, 0)
    for reason, n in summary.failure_reasons.items():
        categories[category(reason)] += n
    now = svc.now()
    chain_doc = {"ok": chain.ok, "events": chain.count, "events_in_period": int(in_period),
                 "last_hash": chain.last_hash, "problem": chain.problem, "detail": chain.detail}
    with svc.db.write() as s:
        event = append(s, at=now, actor=actor.username, action="report", subject="report",
                       payload={"start": period.start.isoformat(), "end": period.end.isoformat(),
                                **{k: v for k, v in asdict(scope).items() if v}, "chain_ok": chain.ok})
    return Report("实名登记核查报告 Real-name registration report", period, scope, now, actor.username, chain_doc,
                  summary, categories, reviews, reverify, outlets, agents,
                  {"seq": event.seq, "hash": event.hash, "at": event.at}, chain_of_capture)


def _capture_chain(s: Session, w: Window) -> dict[str, Any]:
    """Where the period's decided verifications came from: the card reader's attestation (``none``: opened before
    the chain existed), the passport chip's check, and each enrolled kiosk's checks."""
    ver_in = verifications_in(w)

    def counted(column: Any) -> dict[str, int]:
        return {str(k) if k is not None else "none": int(n) for k, n in
                s.execute(select(column, func.count()).where(*ver_in).group_by(column)).all()}

    kiosks = [{"kiosk": kid, "name": name, "outlet": code, "verifications": int(n), "passed": int(p or 0),
               "failed": int(f or 0)} for kid, name, code, n, p, f in s.execute(
        select(Kiosk.id, Kiosk.name, Outlet.code, func.count(),
               func.sum(case((Verification.decision == VerificationDecision.PASS, 1), else_=0)),
               func.sum(case((Verification.decision == VerificationDecision.FAIL, 1), else_=0)))
        .join(Kiosk, Kiosk.id == Verification.kiosk_id).join(Outlet, Outlet.id == Kiosk.outlet_id)
        .where(*ver_in).group_by(Kiosk.id, Kiosk.name, Outlet.code).order_by(Outlet.code, Kiosk.name)).all()]
    return {"reader_attestation": counted(Verification.reader_attestation), "chip_check": counted(
        Verification.chip_check), "by_kiosk": kiosks,
        "without_kiosk": int(s.execute(select(func.count()).where(*ver_in, Verification.kiosk_id.is_(None)))
                             .scalar_one())}


def _reviews(s: Session, w: Window) -> list[dict[str, Any]]:
    rows = s.execute(
        select(User.username, func.sum(case((Verification.decision == VerificationDecision.PASS, 1), else_=0)),
               func.sum(case((Verification.decision == VerificationDecision.FAIL, 1), else_=0)))
        .join(User, User.id == Verification.reviewed_by)
        .where(Verification.reviewed_at >= w.since, Verification.reviewed_at < w.until,
               *scoped(w, Verification))
        .group_by(User.username).order_by(User.username)).all()
    return [{"decided_by": name, "passed": int(p or 0), "failed": int(f or 0)} for name, p, f in rows]


def _reverifications(s: Session, w: Window) -> dict[str, int]:
    own = select(Registration.id).where(*scoped(w, Registration))
    rows = s.execute(select(Reverification.status, func.count())
                     .where(Reverification.created_at >= w.since, Reverification.created_at < w.until,
                            Reverification.registration_id.in_(own))
                     .group_by(Reverification.status)).all()
    counts = {"ordered": 0} | {state.value: 0 for state in ReverificationStatus}
    for status, n in rows:
        counts[str(status)] = int(n)
        counts["ordered"] += int(n)
    return counts


def _breakdowns(s: Session, w: Window, summary: Summary) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per outlet and per agent: the summary's counts plus cancellations, cap refusals and failure categories."""
    cancelled = {(o, a): int(n) for o, a, n in s.execute(
        select(Registration.outlet_id, Registration.agent_id, func.count())
        .where(Registration.ended_at >= w.since, Registration.ended_at < w.until,
               Registration.status == RegistrationStatus.CANCELLED, *scoped(w, Registration))
        .group_by(Registration.outlet_id, Registration.agent_id)).all()}
    refused = {(o, a): int(n) for o, a, n in s.execute(
        select(Verification.outlet_id, Verification.agent_id, func.count())
        .join(AuditEvent, AuditEvent.subject == Verification.id)
        .where(*events_in(w, ("cap_refused",)))
        .group_by(Verification.outlet_id, Verification.agent_id)).all()}
    failed = s.execute(
        select(Verification.outlet_id, Verification.agent_id, Verification.reasons)
        .where(Verification.decided_at >= w.since, Verification.decided_at < w.until,
               Verification.decision == VerificationDecision.FAIL, *scoped(w, Verification))).all()
    codes = dict(s.execute(select(Outlet.id, Outlet.code)).all())
    names = dict(s.execute(select(User.id, User.username)).all())
    per_outlet: dict[str, dict[str, int]] = {}
    per_agent: dict[str, dict[str, int]] = {}
    for key_map, index in ((per_outlet, 0), (per_agent, 1)):
        for k, n in cancelled.items():
            name = codes.get(k[0] or "", "") if index == 0 else names.get(k[1], k[1])
            key_map.setdefault(name, {}).setdefault("cancellations", 0)
            key_map[name]["cancellations"] += n
        for k, n in refused.items():
            name = codes.get(k[0] or "", "") if index == 0 else names.get(k[1], k[1])
            key_map.setdefault(name, {}).setdefault("cap_refusals", 0)
            key_map[name]["cap_refusals"] += n
    for outlet_id, agent_id, reasons in failed:
        cat = category((reasons or ["?"])[0])  # a failure counts once, under its first reason
        for key_map, name in ((per_outlet, codes.get(outlet_id or "", "")), (per_agent, names.get(agent_id, agent_id))):
            key_map.setdefault(name, {}).setdefault(cat, 0)
            key_map[name][cat] += 1
    extra = ("cancellations", "cap_refusals", *CATEGORY_LABELS)
    outlets = [{**asdict(o), **{k: per_outlet.get(o.outlet or "", {}).get(k, 0) for k in extra}}
               for o in summary.by_outlet]
    agents = [{**asdict(a), **{k: per_agent.get(a.agent, {}).get(k, 0) for k in extra}} for a in summary.by_agent]
    return outlets, agents


# --- sampling for inspection ---------------------------------------------------------------------------------------

def sample(svc: Services, actor: Actor, period: Period, size: int, seed: int,
           scope: Scope | None = None) -> list[dict[str, Any]]:
    """``size`` registrations drawn with ``seed`` (the same seed gives the same sample), each with its evidence:
    document type, the checks it passed, model and threshold versions, and the hashes of its audit events."""
    require(actor, "reports.read")
    if not 1 <= size <= 1000:
        raise BadInputError("a sample has 1 to 1000 registrations", code="bad_sample_size")
    scope = scope or Scope()
    with svc.db.read() as s:
        w = window(svc, period, *_resolve(s, actor, scope))
        ids = list(s.execute(select(Registration.id).where(*registrations_in(w)).order_by(Registration.id))
                   .scalars())
        chosen = sorted(random.Random(seed).sample(ids, min(size, len(ids))))
        rows = s.execute(
            select(Registration, PhoneNumber.msisdn, Person.doc_type, Person.number_masked, Outlet.code,
                   User.username)
            .join(PhoneNumber, PhoneNumber.id == Registration.number_id)
            .join(Person, Person.id == Registration.person_id)
            .join(User, User.id == Registration.agent_id)
            .outerjoin(Outlet, Outlet.id == Registration.outlet_id)
            .where(Registration.id.in_(chosen)).order_by(Registration.created_at, Registration.id)).all()
        subjects = [x for r in rows for x in (r[0].id, r[0].verification_id) if x]
        events: dict[str, list[dict[str, Any]]] = {}
        for e in s.execute(select(AuditEvent.subject, AuditEvent.seq, AuditEvent.action, AuditEvent.hash)
                           .where(AuditEvent.subject.in_(subjects)).order_by(AuditEvent.seq)).all():
            events.setdefault(e.subject, []).append({"seq": e.seq, "action": e.action, "hash": e.hash})
    out = []
    for reg, msisdn, doc_type, masked, outlet, agent in rows:
        ev = reg.evidence or {}
        out.append({
            "registration_id": reg.id, "created_at": reg.created_at.isoformat(), "status": reg.status,
            "msisdn": msisdn, "doc_type": doc_type, "person_number": masked, "outlet": outlet, "agent": agent,
            "checks": {"liveness": "passed", "face_match": ev.get("decision"), "reviewed_by": ev.get("reviewed_by"),
                       "challenge": ev.get("challenge")},
            "model_version": ev.get("model_version"), "threshold_version": ev.get("threshold_version"),
            "portrait_sha256": ev.get("portrait_sha256"),
            "audit_events": events.get(reg.id, []) + events.get(reg.verification_id or "", []),
        })
    with svc.db.write() as s:
        append(s, at=svc.now(), actor=actor.username, action="sample", subject="registrations",
               payload={"start": period.start.isoformat(), "end": period.end.isoformat(), "size": size, "seed": seed,
                        **{k: v for k, v in asdict(scope).items() if v}, "drawn": len(out)})
    return out
