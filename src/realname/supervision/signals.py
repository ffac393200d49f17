"""Fraud signals: explainable rules over a period, each with the evidence that made it fire.

Rules (thresholds in ``Settings.signals``):

- ``many_outlets``: one document verified at N or more outlets within a window;
- ``fail_then_pass``: N or more failed verifications of a document, then a pass, within a window;
- ``agent_volume`` / ``agent_night`` / ``agent_reviews``: an agent far above the other agents of the same outlet
  in volume, in registrations at night (local time), or in verifications ending in a supervisor review;
- ``quick_cancel``: a number registered and cancelled within a few hours;
- ``duplicate_face``: where template retention is enabled, the same face behind two documents (1:N over the
  encrypted templates, decrypted in memory only for the comparison).

The database does the filtering (GROUP BY ... HAVING) and Python looks only at the candidates, so a period over
100,000 registrations takes seconds.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from realname.audit.log import append
from realname.context import Actor, Services
from realname.operators.auth import require
from realname.registry.states import TRANSFERRED, RegistrationStatus, VerificationDecision
from realname.registry.tables import FaceTemplate, Kiosk, Outlet, Person, Registration, User, Verification
from realname.supervision.period import Period


@dataclass(frozen=True)
class Signal:
    kind: str
    subject: str  # who or what: an agent's username, a masked document number, a registration id
    summary: str  # one English sentence for the inspector
    evidence: dict[str, Any]
    registrations: list[str] = field(default_factory=list)  # the numbers concerned (for re-verification)


def find_signals(svc: Services, actor: Actor, period: Period, operator_id: str | None = None) -> list[Signal]:
    require(actor, "inspect.read")
    scope = operator_id if operator_id is not None else actor.operator_id
    with svc.db.read() as s:
        found = [*_many_outlets(s, svc, period, scope), *_fail_then_pass(s, svc, period, scope),
                 *_agents(s, svc, period, scope), *_kiosks(s, svc, period, scope),
                 *_quick_cancels(s, svc, period, scope),
                 *_duplicate_faces(s, svc, period, scope)]
    with svc.db.write() as s:
        append(s, at=svc.now(), actor=actor.username, action="signals", subject=scope or "all",
               payload={"start": period.start.isoformat(), "end": period.end.isoformat(),
                        "found": {k: sum(1 for x in found if x.kind == k) for k in sorted({x.kind for x in found})}})
    return found


def _masked(s: Session, person_ids: Iterable[str]) -> dict[str, str]:
    ids = list(set(person_ids))
    return dict(s.execute(select(Person.id, Person.number_masked).where(Person.id.in_(ids))).all()) \
        if ids else {}


def _scoped(q: Any, column: Any, operator_id: str | None) -> Any:
    return q if operator_id is None else q.where(column == operator_id)


def _many_outlets(s: Session, svc: Services, period: Period, op: str | None) -> list[Signal]:
    rule = svc.settings.signals
    lo, hi = period.bounds(svc.settings.timezone)
    window = timedelta(minutes=rule.many_outlets_minutes)
    in_period = (Verification.created_at >= lo, Verification.created_at < hi)
    candidates = _scoped(select(Verification.doc_index).where(*in_period).group_by(Verification.doc_index)
                         .having(func.count(func.distinct(Verification.outlet_id)) >= rule.many_outlets),
                         Verification.operator_id, op)
    rows = s.execute(_scoped(select(Verification.doc_index, Verification.person_id, Verification.outlet_id,
                                    Verification.created_at, Verification.id)
                             .where(*in_period, Verification.doc_index.in_(candidates)), Verification.operator_id, op)
                     .order_by(Verification.doc_index, Verification.created_at)).all()
    by_doc: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        by_doc[r.doc_index].append(r)
    codes = dict(s.execute(select(Outlet.id, Outlet.code)).all())
    masked = _masked(s, (r.person_id for r in rows))
    out = []
    for doc_rows in by_doc.values():
        best: list[Any] = []
        start = 0
        for end in range(len(doc_rows)):  # the widest set of outlets inside any window
            while doc_rows[end].created_at - doc_rows[start].created_at > window:
                start += 1
            span = doc_rows[start:end + 1]
            if len({r.outlet_id for r in span}) > len({r.outlet_id for r in best}):
                best = span
        outlets = sorted({codes.get(r.outlet_id, r.outlet_id or "") for r in best})
        if len(outlets) >= rule.many_outlets:
            person = best[0].person_id
            regs = list(s.execute(select(Registration.id).where(
                Registration.verification_id.in_([r.id for r in best]))).scalars())
            out.append(Signal(
                "many_outlets", masked.get(person, person),
                f"document verified at {len(outlets)} outlets within {rule.many_outlets_minutes:.0f} minutes",
                {"outlets": outlets, "first": best[0].created_at.isoformat(), "last": best[-1].created_at.isoformat(),
                 "verifications": [r.id for r in best], "person": person}, regs))
    return out


def _fail_then_pass(s: Session, svc: Services, period: Period, op: str | None) -> list[Signal]:
    rule = svc.settings.signals
    lo, hi = period.bounds(svc.settings.timezone)
    window = timedelta(minutes=rule.fail_then_pass_minutes)
    in_period = (Verification.created_at >= lo, Verification.created_at < hi)
    candidates = _scoped(select(Verification.doc_index)
                         .where(*in_period, Verification.decision == VerificationDecision.FAIL)
                         .group_by(Verification.doc_index)
                         .having(func.count() >= rule.fail_then_pass_failures), Verification.operator_id, op)
    rows = s.execute(_scoped(select(Verification.doc_index, Verification.person_id, Verification.decision,
                                    Verification.created_at, Verification.id, Verification.reasons)
                             .where(*in_period, Verification.doc_index.in_(candidates)), Verification.operator_id, op)
                     .order_by(Verification.doc_index, Verification.created_at)).all()
    by_doc: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        by_doc[r.doc_index].append(r)
    masked = _masked(s, (r.person_id for r in rows))
    out = []
    for doc_rows in by_doc.values():
        for k, r in enumerate(doc_rows):
            if r.decision != VerificationDecision.PASS:
                continue
            fails = [f for f in doc_rows[:k]
                     if f.decision == VerificationDecision.FAIL and r.created_at - f.created_at <= window]
            if len(fails) >= rule.fail_then_pass_failures:
                regs = list(s.execute(select(Registration.id).where(Registration.verification_id == r.id)).scalars())
                out.append(Signal(
                    "fail_then_pass", masked.get(r.person_id, r.person_id),
                    f"{len(fails)} failed verifications, then a pass, within {rule.fail_then_pass_minutes:.0f} "
                    "minutes",
                    {"failures": [{"id": f.id, "at": f.created_at.isoformat(), "reasons": f.reasons} for f in fails],
                     "pass": r.id, "at": r.created_at.isoformat(), "person": r.person_id}, regs))
                break
    return out


def _agents(s: Session, svc: Services, period: Period, op: str | None) -> list[Signal]:
    rule = svc.settings.signals
    lo, hi = period.bounds(svc.settings.timezone)
    tz = ZoneInfo(svc.settings.timezone)
    regs = s.execute(_scoped(select(Registration.agent_id, Registration.outlet_id, Registration.created_at,
                                    Registration.id)
                             .where(Registration.created_at >= lo, Registration.created_at < hi),
                             Registration.operator_id, op)).all()
    reviews = dict(s.execute(_scoped(
        select(Verification.agent_id, func.count()).where(
            Verification.created_at >= lo, Verification.created_at < hi,
            (Verification.reviewed_by.is_not(None)) | (Verification.decision == VerificationDecision.REVIEW))
        .group_by(Verification.agent_id), Verification.operator_id, op)).all())
    verifs = dict(s.execute(_scoped(
        select(Verification.agent_id, func.count()).where(Verification.created_at >= lo, Verification.created_at < hi)
        .group_by(Verification.agent_id), Verification.operator_id, op)).all())
    per_agent: dict[str, list[Any]] = defaultdict(list)
    outlet_of: dict[str, str | None] = {}
    for r in regs:
        per_agent[r.agent_id].append(r)
        outlet_of[r.agent_id] = r.outlet_id
    by_outlet: dict[str | None, list[str]] = defaultdict(list)
    for agent, outlet in outlet_of.items():
        by_outlet[outlet].append(agent)
    names = dict(s.execute(select(User.id, User.username)).all())
    codes = dict(s.execute(select(Outlet.id, Outlet.code)).all())
    night_hours = _night(rule.night_from_hour, rule.night_to_hour)
    out = []
    for agent, rows in per_agent.items():
        name, outlet = names.get(agent, agent), codes.get(outlet_of[agent] or "", "")
        ids = [r.id for r in rows]
        peers = [len(per_agent[a]) for a in by_outlet[outlet_of[agent]] if a != agent]
        median = statistics.median(peers) if peers else 0.0
        n = len(rows)
        if n >= rule.agent_min_registrations and median > 0 and n >= rule.agent_volume_ratio * median:
            out.append(Signal("agent_volume", name, f"{n} registrations, {n / median:.1f}x the median of the "
                              f"{len(peers)} other agents at outlet {outlet}",
                              {"registrations": n, "outlet_median": median, "outlet": outlet}, ids))
        night = [r for r in rows if r.created_at.astimezone(tz).hour in night_hours]
        if len(night) >= rule.agent_min_events and len(night) / n >= rule.agent_night_share:
            out.append(Signal("agent_night", name, f"{len(night)} of {n} registrations at night "
                              f"({rule.night_from_hour}:00-{rule.night_to_hour}:00 local)",
                              {"night": len(night), "registrations": n, "outlet": outlet,
                               "examples": [r.created_at.isoformat() for r in night[:5]]}, [r.id for r in night]))
        rv, total = reviews.get(agent, 0), verifs.get(agent, 0)
        if rv >= rule.agent_min_events and total and rv / total >= rule.agent_review_rate:
            out.append(Signal("agent_reviews", name, f"{rv} of {total} verifications went to a supervisor review",
                              {"reviews": rv, "verifications": total, "outlet": outlet}, ids))
    return out


def _kiosks(s: Session, svc: Services, period: Period, op: str | None) -> list[Signal]:
    """Enrolled kiosks whose use stands out against the other kiosks of their outlet: volume, night use, failures
    (the agent rules' thresholds, counted in verifications, since a kiosk is where the capture happens)."""
    rule = svc.settings.signals
    lo, hi = period.bounds(svc.settings.timezone)
    tz = ZoneInfo(svc.settings.timezone)
    rows = s.execute(_scoped(select(Verification.kiosk_id, Verification.created_at, Verification.decision,
                                    Verification.id)
                             .where(Verification.created_at >= lo, Verification.created_at < hi,
                                    Verification.kiosk_id.is_not(None)), Verification.operator_id, op)).all()
    per_kiosk: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        per_kiosk[r.kiosk_id].append(r)
    kiosks = {k.id: k for k in s.execute(select(Kiosk).where(Kiosk.id.in_(list(per_kiosk)))).scalars()}
    codes = dict(s.execute(select(Outlet.id, Outlet.code)).all())
    regs = defaultdict(list)
    for reg_id, kiosk_id in s.execute(select(Registration.id, Verification.kiosk_id).join(
            Verification, Verification.id == Registration.verification_id).where(
            Verification.kiosk_id.in_(list(per_kiosk)), Registration.created_at >= lo, Registration.created_at < hi)):
        regs[kiosk_id].append(reg_id)
    night_hours = _night(rule.night_from_hour, rule.night_to_hour)
    out = []
    for kiosk_id, found in per_kiosk.items():
        kiosk = kiosks[kiosk_id]
        subject, outlet, n = f"{kiosk.name} ({kiosk_id[:8]})", codes.get(kiosk.outlet_id, ""), len(found)
        peers = [len(v) for k, v in per_kiosk.items() if k != kiosk_id and kiosks[k].outlet_id == kiosk.outlet_id]
        median = statistics.median(peers) if peers else 0.0
        base = {"kiosk": kiosk_id, "outlet": outlet, "verifications": n}
        if n >= rule.agent_min_registrations and median > 0 and n >= rule.agent_volume_ratio * median:
            out.append(Signal("kiosk_volume", subject, f"{n} verifications, {n / median:.1f}x the median of the "
                              f"{len(peers)} other kiosks at outlet {outlet}", base | {"outlet_median": median},
                              regs[kiosk_id]))
        night = [r for r in found if r.created_at.astimezone(tz).hour in night_hours]
        if len(night) >= rule.agent_min_events and len(night) / n >= rule.agent_night_share:
            out.append(Signal("kiosk_night", subject, f"{len(night)} of {n} verifications at night "
                              f"({rule.night_from_hour}:00-{rule.night_to_hour}:00 local)",
                              base | {"night": len(night)}, regs[kiosk_id]))
        failed = sum(1 for r in found if r.decision == VerificationDecision.FAIL)
        if failed >= rule.agent_min_events and failed / n >= rule.kiosk_failure_rate:
            out.append(Signal("kiosk_failures", subject, f"{failed} of {n} verifications failed",
                              base | {"failed": failed}, regs[kiosk_id]))
    return out


def _night(start: int, end: int) -> set[int]:
    return set(range(start, 24)) | set(range(0, end)) if start > end else set(range(start, end))


def _quick_cancels(s: Session, svc: Services, period: Period, op: str | None) -> list[Signal]:
    rule = svc.settings.signals
    lo, hi = period.bounds(svc.settings.timezone)
    rows = s.execute(_scoped(select(Registration.id, Registration.created_at, Registration.ended_at,
                                    Registration.agent_id, Registration.person_id)
                             .where(Registration.created_at >= lo, Registration.created_at < hi,
                                    Registration.status == RegistrationStatus.CANCELLED,
                                    Registration.end_reason != TRANSFERRED),
                             Registration.operator_id, op)).all()
    names = dict(s.execute(select(User.id, User.username)).all())
    limit = timedelta(hours=rule.quick_cancel_hours)
    return [Signal("quick_cancel", r.id, f"registered and cancelled after {(r.ended_at - r.created_at)} "
                   f"(agent {names.get(r.agent_id, r.agent_id)})",
                   {"registered": r.created_at.isoformat(), "cancelled": r.ended_at.isoformat(),
                    "agent": names.get(r.agent_id, r.agent_id), "person": r.person_id}, [r.id])
            for r in rows if r.ended_at is not None and r.ended_at - r.created_at <= limit]


def _duplicate_faces(s: Session, svc: Services, period: Period, op: str | None, block: int = 2048) -> list[Signal]:
    """Templates created in the period against every stored template, decrypted in memory only."""
    rule = svc.settings.signals
    lo, hi = period.bounds(svc.settings.timezone)
    q = select(FaceTemplate.id, FaceTemplate.person_id, FaceTemplate.template_enc, FaceTemplate.created_at)
    if op is not None:
        q = q.where(FaceTemplate.person_id.in_(select(Registration.person_id).where(Registration.operator_id == op)))
    rows = s.execute(q).all()
    if len(rows) < 2:
        return []
    vectors = np.stack([np.frombuffer(svc.cipher.decrypt_bytes(r.template_enc, context="face.template"),
                                      np.float32) for r in rows])
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    persons = np.array([r.person_id for r in rows])
    recent = np.flatnonzero([lo <= r.created_at < hi for r in rows])
    pairs: set[tuple[int, int]] = set()
    for k in range(0, len(recent), block):
        idx = recent[k:k + block]
        sims = vectors[idx] @ vectors.T
        for a, b in zip(*np.nonzero(sims >= rule.duplicate_face_cosine), strict=True):
            i, j = int(idx[a]), int(b)
            if persons[i] != persons[j]:
                pairs.add((min(i, j), max(i, j)))
    del vectors  # the decrypted templates go as soon as the comparison is done
    masked = _masked(s, persons.tolist())
    out = []
    for i, j in sorted(pairs):
        a, b = str(persons[i]), str(persons[j])
        regs = list(s.execute(_scoped(select(Registration.id).where(Registration.person_id.in_([a, b]),
                                                                    Registration.status == RegistrationStatus.ACTIVE),
                                      Registration.operator_id, op)).scalars())
        out.append(Signal("duplicate_face", f"{masked.get(a, a)} / {masked.get(b, b)}",
                          "the same face is registered under two different documents",
                          {"persons": [a, b], "templates": [rows[i].id, rows[j].id],
                           "threshold": rule.duplicate_face_cosine}, regs))
    return out


def reverify_for(svc: Services, actor: Actor, signal: Signal) -> list[str]:
    """Open re-verification orders for the active numbers a signal concerns; returns the order ids."""
    from realname.errors import ConflictError
    from realname.registration.registrations import order_reverification

    orders = []
    for rid in signal.registrations:
        try:
            orders.append(order_reverification(svc, actor, rid, f"signal {signal.kind}: {signal.summary}").id)
        except ConflictError:
            continue  # cancelled meanwhile
    return orders

