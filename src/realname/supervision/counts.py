"""The counts of a period in a scope: what the inspection summary shows and what every report starts from.

Counts are SQL aggregates (``GROUP BY`` in the database), so a period over hundreds of thousands of
registrations costs a few grouped scans, not a loop over rows in Python. The window's conditions come from
:mod:`realname.registry.queries`. No access check and no audit here: the callers (:mod:`.inspection`,
:mod:`.reports`) do both.

What is counted in a period (local days of the configured time zone, both inclusive):

- ``registrations``: registrations created in it (any status now);
- ``verifications``: verifications decided in it (with a decision: expired captures are not counted);
  ``passed`` / ``failed`` by their final decision, so a reviewed one counts as what the supervisor decided;
  ``review``: those that needed a supervisor (still waiting, or settled), so passed + failed + waiting =
  verifications;
- ``cap_refusals``, ``cancellations``, ``suspensions``: audit events ``cap_refused``, ``cancellation`` and
  ``suspended`` in it;
- ``failure_reasons``: the reason codes of the failed verifications.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from realname.audit.chain import ChainReport
from realname.context import Services
from realname.registry.queries import Window, events_in, local_day, registrations_in, verifications_in
from realname.registry.states import VerificationDecision
from realname.registry.tables import AuditEvent, Outlet, Registration, User, Verification
from realname.supervision.period import Period

PASS, FAIL, REVIEW = VerificationDecision.PASS, VerificationDecision.FAIL, VerificationDecision.REVIEW


@dataclass(frozen=True)
class Totals:
    registrations: int
    verifications: int
    passed: int
    failed: int
    review: int
    cap_refusals: int
    cancellations: int
    suspensions: int


@dataclass(frozen=True)
class DayRow:
    day: date
    registrations: int
    verifications: int
    passed: int
    failed: int


@dataclass(frozen=True)
class OutletRow:
    outlet: str | None  # the outlet's code (None: registered by staff without an outlet)
    name: str | None
    registrations: int
    verifications: int
    failed: int


@dataclass(frozen=True)
class AgentRow:
    agent: str  # username
    outlet: str | None  # the agent's outlet's code
    registrations: int
    verifications: int
    failed: int
    reviews: int  # of this agent's verifications, those that needed a supervisor


@dataclass(frozen=True)
class Summary:
    period: Period
    chain: ChainReport
    totals: Totals
    by_day: list[DayRow]
    by_outlet: list[OutletRow]
    by_agent: list[AgentRow]
    failure_reasons: dict[str, int]


def window(svc: Services, p: Period, operator_id: str | None, outlet_id: str | None = None,
           agent_id: str | None = None, kiosk_id: str | None = None) -> Window:
    """The period's window in the configured time zone, for this scope (None: not filtered)."""
    since, until = p.bounds(svc.settings.timezone)
    return Window(since, until, svc.settings.timezone, operator_id, outlet_id, agent_id, kiosk_id)


def summarise(svc: Services, p: Period, w: Window, chain: ChainReport) -> Summary:
    """The counts of period ``p`` in window ``w`` (made from ``p`` by :func:`window`), with the chain's state."""
    with svc.db.read() as s:
        reg_in, ver_in = registrations_in(w), verifications_in(w)
        registrations = s.execute(select(func.count()).select_from(Registration).where(*reg_in)).scalar_one()
        n, passed, failed, review = s.execute(
            select(func.count(), _is(PASS), _is(FAIL), _went_to_review()).where(*ver_in)).one()
        events = _events(s, w)
        totals = Totals(_n(registrations), _n(n), _n(passed), _n(failed), _n(review), events.get("cap_refused", 0),
                        events.get("cancellation", 0), events.get("suspended", 0))

        reg_day, ver_day = local_day(s, Registration.created_at, w), local_day(s, Verification.decided_at, w)
        regs_by_day = dict(s.execute(select(reg_day, func.count()).where(*reg_in).group_by(reg_day)).all())
        vers_by_day = {d: (n, ok, bad) for d, n, ok, bad in s.execute(
            select(ver_day, func.count(), _is(PASS), _is(FAIL)).where(*ver_in).group_by(ver_day)).all()}
        by_day = []
        for day in p.days:
            key = day.isoformat()
            vn, vp, vf = vers_by_day.get(key, (0, 0, 0))
            by_day.append(DayRow(day, _n(regs_by_day.get(key)), _n(vn), _n(vp), _n(vf)))

        by_outlet = _by_outlet(s, reg_in, ver_in)
        by_agent = _by_agent(s, reg_in, ver_in)
        reasons = _failure_reasons(s, w)
    return Summary(p, chain, totals, by_day, by_outlet, by_agent, reasons)


def _n(value: Any) -> int:
    return int(value or 0)


def _is(decision: VerificationDecision) -> Any:
    return func.sum(case((Verification.decision == decision, 1), else_=0))


def _went_to_review() -> Any:
    return func.sum(case((or_(Verification.decision == REVIEW, Verification.reviewed_at.is_not(None)), 1),
                         else_=0))


def _events(s: Session, w: Window) -> dict[str, int]:
    q = select(AuditEvent.action, func.count()).where(
        *events_in(w, ("cap_refused", "cancellation", "suspended"))).group_by(AuditEvent.action)
    return {action: _n(n) for action, n in s.execute(q).all()}


def _failure_reasons(s: Session, w: Window) -> dict[str, int]:
    if s.get_bind().dialect.name == "sqlite":
        reasons = func.json_each(Verification.reasons).table_valued("value")
    else:
        reasons = func.json_array_elements_text(Verification.reasons).table_valued("value").render_derived()
    q = (select(reasons.c.value, func.count()).select_from(Verification).join(reasons, true())
         .where(*verifications_in(w), Verification.decision == FAIL).group_by(reasons.c.value))
    rows = s.execute(q).all()
    return dict(sorted(((str(reason), _n(n)) for reason, n in rows), key=lambda kv: (-kv[1], kv[0])))


def _by_outlet(s: Session, reg_in: list[ColumnElement[bool]], ver_in: list[ColumnElement[bool]]) -> list[OutletRow]:
    regs = dict(s.execute(select(Registration.outlet_id, func.count()).where(*reg_in)
                          .group_by(Registration.outlet_id)).all())
    vers = {o: (n, bad) for o, n, bad in s.execute(
        select(Verification.outlet_id, func.count(), _is(FAIL)).where(*ver_in)
        .group_by(Verification.outlet_id)).all()}
    ids = set(regs) | set(vers)
    outlets = {o.id: o for o in s.execute(select(Outlet).where(Outlet.id.in_([i for i in ids if i]))).scalars()}
    rows = []
    for outlet_id in ids:
        outlet = outlets.get(outlet_id) if outlet_id else None
        vn, vf = vers.get(outlet_id, (0, 0))
        rows.append(OutletRow(outlet.code if outlet else None, outlet.name if outlet else None,
                              _n(regs.get(outlet_id)), _n(vn), _n(vf)))
    return sorted(rows, key=lambda r: (-r.registrations, -r.verifications, r.outlet or ""))


def _by_agent(s: Session, reg_in: list[ColumnElement[bool]], ver_in: list[ColumnElement[bool]]) -> list[AgentRow]:
    regs = dict(s.execute(select(Registration.agent_id, func.count()).where(*reg_in)
                          .group_by(Registration.agent_id)).all())
    vers = {a: (n, bad, rev) for a, n, bad, rev in s.execute(
        select(Verification.agent_id, func.count(), _is(FAIL), _went_to_review()).where(*ver_in)
        .group_by(Verification.agent_id)).all()}
    ids = set(regs) | set(vers)
    people = {u: (name, code) for u, name, code in s.execute(
        select(User.id, User.username, Outlet.code).outerjoin(Outlet, Outlet.id == User.outlet_id)
        .where(User.id.in_(ids))).all()}
    rows = []
    for agent_id in ids:
        username, outlet = people.get(agent_id, (agent_id, None))
        vn, vf, vr = vers.get(agent_id, (0, 0, 0))
        rows.append(AgentRow(username, outlet, _n(regs.get(agent_id)), _n(vn), _n(vf), _n(vr)))
    return sorted(rows, key=lambda r: (-r.registrations, -r.verifications, r.agent))
