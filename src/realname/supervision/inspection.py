"""Read-only views of the registry for the web pages: the inspection summary and CSV export, the counter's receipt
and the supervisor's review queue. Nothing here changes a record; an inspection is itself audited.

Inspectors and auditors see every operator; an operator's administrator only its own. Counts are SQL
aggregates (``GROUP BY`` in the database), so a period over hundreds of thousands of registrations costs a few
grouped scans, not a loop over rows in Python; the CSV is streamed in keyset-paginated batches.

What is counted in a period (UTC dates, both inclusive):

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

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, and_, case, func, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from realname.audit.chain import ChainReport
from realname.audit.log import append, verify_chain
from realname.context import Actor, Services
from realname.errors import ForbiddenError, NotFoundError
from realname.operators.auth import require
from realname.registration.people import person_name
from realname.registry.tables import (
    AuditEvent,
    Operator,
    Outlet,
    Person,
    PhoneNumber,
    Registration,
    User,
    Verification,
)
from realname.supervision.csv_files import BOM, csv_text
from realname.supervision.period import EARLIEST, Period, check_day

DEFAULT_DAYS = 30
CSV_BATCH = 1000
CSV_HEADER = ("登记编号/registration_id", "号码/msisdn", "证件号(脱敏)/person_number", "营业厅/outlet",
              "营业员/agent", "状态/status", "时间/created_at")
_REGULATOR_SIDE = ("inspector", "auditor", "system")


# --- period and scope --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    """A period as UTC bounds in the operator's time zone, and who is in scope (None: not filtered)."""

    period: Period
    since: datetime
    until: datetime  # exclusive
    tz: str
    operator_id: str | None = None
    outlet_id: str | None = None
    agent_id: str | None = None


def window(svc: Services, p: Period, operator_id: str | None, outlet_id: str | None = None,
           agent_id: str | None = None) -> Window:
    since, until = p.bounds(svc.settings.timezone)
    return Window(p, since, until, svc.settings.timezone, operator_id, outlet_id, agent_id)


def period(svc: Services, start: date | None = None, end: date | None = None) -> Period:
    """The period asked for: ``end`` defaults to today (local), ``start`` to ``DEFAULT_DAYS - 1`` days before
    ``end`` (so by default the last 30 days, today included, but not before ``EARLIEST``)."""
    end = check_day(end, "the period's end") if end else svc.now().astimezone(ZoneInfo(svc.settings.timezone)).date()
    start = start or max(EARLIEST, end - timedelta(days=DEFAULT_DAYS - 1))  # end is in range: no overflow here
    return Period(start, end)  # refuses a day out of range (bad_date), a backwards or too long period (bad_period)


def _scope(actor: Actor) -> str | None:
    """The operator the caller may inspect, or None for every operator (regulator-side users)."""
    if actor.role == "system":
        return None
    require(actor, "inspect.read")
    if actor.role in _REGULATOR_SIDE:
        return None
    if actor.operator_id is None:
        raise ForbiddenError("only an operator's administrator or the regulator's staff may inspect")
    return actor.operator_id


def _audit(svc: Services, actor: Actor, what: str, p: Period, operator: str | None) -> None:
    with svc.db.write() as s:
        append(s, at=svc.now(), actor=actor.username, action="inspection", subject=what,
               payload={"what": what, "start": p.start.isoformat(), "end": p.end.isoformat(), "operator": operator})


def _n(value: Any) -> int:
    return int(value or 0)


# --- the summary -------------------------------------------------------------------------------------------------

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


def scoped(w: Window, table: type[Registration] | type[Verification]) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if w.operator_id:
        where.append(table.operator_id == w.operator_id)
    if w.outlet_id:
        where.append(table.outlet_id == w.outlet_id)
    if w.agent_id:
        where.append(table.agent_id == w.agent_id)
    return where


def registrations_in(w: Window) -> list[ColumnElement[bool]]:
    return [Registration.created_at >= w.since, Registration.created_at < w.until, *scoped(w, Registration)]


def verifications_in(w: Window) -> list[ColumnElement[bool]]:
    return [Verification.decided_at >= w.since, Verification.decided_at < w.until,
            Verification.decision.is_not(None), *scoped(w, Verification)]


def _is(decision: str) -> Any:
    return func.sum(case((Verification.decision == decision, 1), else_=0))


def _went_to_review() -> Any:
    return func.sum(case((or_(Verification.decision == "review", Verification.reviewed_at.is_not(None)), 1),
                         else_=0))


def _day(s: Session, column: Any, w: Window) -> ColumnElement[str]:
    """The local calendar day of a timestamp column, as 'YYYY-MM-DD' text."""
    if s.get_bind().dialect.name == "sqlite":
        # Stored as naive UTC text; SQLite knows offsets, not zones: the zone's offset at the period's start.
        offset = w.since.astimezone(ZoneInfo(w.tz)).utcoffset() or timedelta()
        return func.date(column, f"{offset.total_seconds() / 3600:+g} hours", type_=String)
    return func.to_char(func.timezone(w.tz, column), "YYYY-MM-DD", type_=String)


def events_in(w: Window, actions: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """Audit events of these actions in the window and the scope. ``at`` is ISO 8601 UTC text, so a time range
    is a range of strings; a cap refusal's subject is its verification, the others' their registration."""
    where = [AuditEvent.action.in_(actions), AuditEvent.at >= w.since.isoformat(timespec="microseconds"),
             AuditEvent.at < w.until.isoformat(timespec="microseconds")]
    if w.operator_id or w.outlet_id or w.agent_id:
        own_registrations = select(Registration.id).where(*scoped(w, Registration))
        own_verifications = select(Verification.id).where(*scoped(w, Verification))
        where.append(or_(and_(AuditEvent.action == "cap_refused", AuditEvent.subject.in_(own_verifications)),
                         and_(AuditEvent.action != "cap_refused", AuditEvent.subject.in_(own_registrations))))
    return where


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
         .where(*verifications_in(w), Verification.decision == "fail").group_by(reasons.c.value))
    rows = s.execute(q).all()
    return dict(sorted(((str(reason), _n(n)) for reason, n in rows), key=lambda kv: (-kv[1], kv[0])))


def summary(svc: Services, actor: Actor, start: date | None = None, end: date | None = None) -> Summary:
    op = _scope(actor)
    p = period(svc, start, end)
    _audit(svc, actor, "summary", p, op)
    with svc.db.read() as s:
        chain = verify_chain(s)
    return summarise(svc, window(svc, p, op), chain)


def summarise(svc: Services, w: Window, chain: ChainReport) -> Summary:
    """The counts for a window (no access check, no audit: the caller has done both)."""
    p = w.period
    with svc.db.read() as s:
        reg_in, ver_in = registrations_in(w), verifications_in(w)
        registrations = s.execute(select(func.count()).select_from(Registration).where(*reg_in)).scalar_one()
        n, passed, failed, review = s.execute(
            select(func.count(), _is("pass"), _is("fail"), _went_to_review()).where(*ver_in)).one()
        events = _events(s, w)
        totals = Totals(_n(registrations), _n(n), _n(passed), _n(failed), _n(review), events.get("cap_refused", 0),
                        events.get("cancellation", 0), events.get("suspended", 0))

        reg_day, ver_day = _day(s, Registration.created_at, w), _day(s, Verification.decided_at, w)
        regs_by_day = dict(s.execute(select(reg_day, func.count()).where(*reg_in).group_by(reg_day)).all())
        vers_by_day = {d: (n, ok, bad) for d, n, ok, bad in s.execute(
            select(ver_day, func.count(), _is("pass"), _is("fail")).where(*ver_in).group_by(ver_day)).all()}
        by_day = []
        for day in p.days:
            key = day.isoformat()
            vn, vp, vf = vers_by_day.get(key, (0, 0, 0))
            by_day.append(DayRow(day, _n(regs_by_day.get(key)), _n(vn), _n(vp), _n(vf)))

        by_outlet = _by_outlet(s, reg_in, ver_in)
        by_agent = _by_agent(s, reg_in, ver_in)
        reasons = _failure_reasons(s, w)
    return Summary(p, chain, totals, by_day, by_outlet, by_agent, reasons)


def _by_outlet(s: Session, reg_in: list[ColumnElement[bool]], ver_in: list[ColumnElement[bool]]) -> list[OutletRow]:
    regs = dict(s.execute(select(Registration.outlet_id, func.count()).where(*reg_in)
                          .group_by(Registration.outlet_id)).all())
    vers = {o: (n, bad) for o, n, bad in s.execute(
        select(Verification.outlet_id, func.count(), _is("fail")).where(*ver_in)
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
        select(Verification.agent_id, func.count(), _is("fail"), _went_to_review()).where(*ver_in)
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


# --- the CSV export ----------------------------------------------------------------------------------------------

def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def registrations_csv(svc: Services, actor: Actor, start: date | None = None, end: date | None = None,
                      batch: int = CSV_BATCH) -> tuple[Period, Iterator[str]]:
    """The registrations created in the period, masked (no names, document numbers masked), as CSV text chunks:
    a UTF-8 BOM (so spreadsheets read the Chinese header), the header row, then rows in creation order. The
    request is audited before the first chunk."""
    op = _scope(actor)
    p = period(svc, start, end)
    _audit(svc, actor, "registrations.csv", p, op)
    return p, _csv_chunks(svc, window(svc, p, op), batch)


def _csv_query(w: Window) -> Select[str, datetime, str, str, str, str, str]:
    return (select(Registration.id, Registration.created_at, Registration.status, PhoneNumber.msisdn,
                   Person.number_masked, Outlet.code, User.username)
            .join(PhoneNumber, PhoneNumber.id == Registration.number_id)
            .join(Person, Person.id == Registration.person_id)
            .join(User, User.id == Registration.agent_id)
            .outerjoin(Outlet, Outlet.id == Registration.outlet_id)
            .where(*registrations_in(w)))


def _csv_chunks(svc: Services, w: Window, batch: int) -> Iterator[str]:
    yield BOM + csv_text([CSV_HEADER])
    after: tuple[datetime, str] | None = None
    while True:
        q = _csv_query(w)
        if after is not None:  # keyset pagination: each batch is a short read, whatever the export's size
            q = q.where(or_(Registration.created_at > after[0],
                            and_(Registration.created_at == after[0], Registration.id > after[1])))
        with svc.db.read() as s:
            rows = s.execute(q.order_by(Registration.created_at, Registration.id).limit(batch)).all()
        if not rows:
            return
        yield csv_text([(r.id, r.msisdn, r.number_masked, r.code, r.username, r.status, _utc_text(r.created_at))
                        for r in rows])
        if len(rows) < batch:
            return
        after = (rows[-1].created_at, rows[-1].id)


# --- the counter's receipt ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Receipt:
    registration_id: str
    msisdn: str
    operator_name: str
    outlet_name: str | None
    agent: str
    person_number: str  # masked
    name_masked: str
    doc_type: str
    created_at: datetime
    status: str


def mask_name(name: str) -> str:
    """The first character, then one '*' per other character (at least one): 张三 -> 张*."""
    name = name.strip()
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def receipt(svc: Services, actor: Actor, registration_id: str) -> Receipt:
    """What the counter prints for the customer: no biometric data, the name and document number masked."""
    require(actor, "registrations.create")
    with svc.db.read() as s:
        row = s.execute(
            select(Registration, PhoneNumber.msisdn, Operator.name, Outlet.name, User.username, Person)
            .join(PhoneNumber, PhoneNumber.id == Registration.number_id)
            .join(Operator, Operator.id == Registration.operator_id)
            .join(User, User.id == Registration.agent_id)
            .join(Person, Person.id == Registration.person_id)
            .outerjoin(Outlet, Outlet.id == Registration.outlet_id)
            .where(Registration.id == registration_id)).one_or_none()
    if row is None or row[0].operator_id != actor.operator_id:
        raise NotFoundError("no such registration")
    reg, msisdn, operator_name, outlet_name, agent, person = row
    return Receipt(reg.id, msisdn, operator_name, outlet_name, agent, person.number_masked,
                   mask_name(person_name(svc, person)), person.doc_type, reg.created_at, reg.status)
