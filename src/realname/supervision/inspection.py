"""Read-only views of the registry for the office pages and the API: the inspection summary and CSV export, the
counter's receipt and the audit chain's state. Nothing here changes a record; an inspection is itself audited.

Inspectors and auditors see every operator; an operator's administrator only its own. The summary's counts are
:func:`realname.supervision.counts.summarise` (what is counted is described there); the CSV is streamed in
keyset-paginated batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, or_, select

from realname.audit.chain import ChainReport
from realname.audit.log import append
from realname.context import Actor, Services
from realname.errors import ForbiddenError, NotFoundError
from realname.operators.auth import require
from realname.registration.people import person_name
from realname.registry.queries import Window, registrations_in
from realname.registry.tables import Operator, Outlet, Person, PhoneNumber, Registration, User
from realname.supervision.counts import Summary, summarise, window
from realname.supervision.csv_files import BOM, csv_text
from realname.supervision.period import EARLIEST, Period, check_day
from realname.supervision.transparency import status as audit_status

DEFAULT_DAYS = 30
CSV_BATCH = 1000
CSV_HEADER = ("登记编号/registration_id", "号码/msisdn", "证件号(脱敏)/person_number", "营业厅/outlet",
              "营业员/agent", "状态/status", "时间/created_at")
_REGULATOR_SIDE = ("inspector", "auditor", "system")


# --- period and scope --------------------------------------------------------------------------------------------

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


# --- the summary -------------------------------------------------------------------------------------------------

def summary(svc: Services, actor: Actor, start: date | None = None, end: date | None = None) -> Summary:
    op = _scope(actor)
    p = period(svc, start, end)
    _audit(svc, actor, "summary", p, op)
    return summarise(svc, p, window(svc, p, op), chain_status(svc, whole=False))


def chain_status(svc: Services, *, whole: bool = True) -> ChainReport:
    """The audit trail checked against itself and the log's tree heads: from its first event (the default: what
    ``audit verify`` and its route are asked for), or incrementally from the last verified prefix (``whole=False``,
    what summaries and reports use). Not audited, and no access check: the callers (``audit verify`` in the CLI,
    the route secured by ``audit.verify``) have one."""
    return audit_status(svc, whole=whole)


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
