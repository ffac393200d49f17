"""Read-only queries over the registry's tables: what the use cases share and what the adapters (api/, cli/) read,
so that neither spells SQL against the tables themselves.

- Scoped time windows: a span of local days as UTC bounds and who is in scope (operator, outlet, agent), with
  the conditions that pick the registrations, verifications and audit events inside one, and a timestamp's
  local calendar day.
- Lookups by code: an operator by its code, an outlet by its code, a user by username (optionally inside one
  operator, so a lookup never reaches past what the caller may see).
- The registration view: a registration with its number and the masked document number, as responses show it.

Every function takes the caller's session, so a use case composes several in one transaction. Nothing here
writes, checks permissions or audits: the callers do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from realname.registry.tables import AuditEvent, Operator, Outlet, Person, PhoneNumber, Registration, User, Verification

# --- scoped time windows -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """UTC bounds of a span of local days in time zone ``tz``, and who is in scope (None: not filtered)."""

    since: datetime
    until: datetime  # exclusive
    tz: str
    operator_id: str | None = None
    outlet_id: str | None = None
    agent_id: str | None = None
    kiosk_id: str | None = None  # an enrolled kiosk: the checks it proved, and the registrations they led to

    @property
    def is_scoped(self) -> bool:
        return bool(self.operator_id or self.outlet_id or self.agent_id or self.kiosk_id)


def scoped(w: Window, table: type[Registration] | type[Verification]) -> list[ColumnElement[bool]]:
    """The window's operator, outlet and agent as conditions on a table that has all three columns."""
    where: list[ColumnElement[bool]] = []
    if w.operator_id:
        where.append(table.operator_id == w.operator_id)
    if w.outlet_id:
        where.append(table.outlet_id == w.outlet_id)
    if w.agent_id:
        where.append(table.agent_id == w.agent_id)
    if w.kiosk_id:
        where.append(Verification.kiosk_id == w.kiosk_id if table is Verification else
                     Registration.verification_id.in_(select(Verification.id).where(
                         Verification.kiosk_id == w.kiosk_id)))
    return where


def registrations_in(w: Window) -> list[ColumnElement[bool]]:
    """Registrations created in the window, in its scope (whatever their status now)."""
    return [Registration.created_at >= w.since, Registration.created_at < w.until, *scoped(w, Registration)]


def verifications_in(w: Window) -> list[ColumnElement[bool]]:
    """Verifications decided in the window, in its scope (expired captures, never decided, are not in it)."""
    return [Verification.decided_at >= w.since, Verification.decided_at < w.until,
            Verification.decision.is_not(None), *scoped(w, Verification)]


def events_in(w: Window, actions: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """Audit events of these actions in the window and the scope. ``at`` is ISO 8601 UTC text, so a time range
    is a range of strings; a cap refusal's subject is its verification, the others' their registration."""
    where = [AuditEvent.action.in_(actions), AuditEvent.at >= w.since.isoformat(timespec="microseconds"),
             AuditEvent.at < w.until.isoformat(timespec="microseconds")]
    if w.is_scoped:
        own_registrations = select(Registration.id).where(*scoped(w, Registration))
        own_verifications = select(Verification.id).where(*scoped(w, Verification))
        where.append(or_(and_(AuditEvent.action == "cap_refused", AuditEvent.subject.in_(own_verifications)),
                         and_(AuditEvent.action != "cap_refused", AuditEvent.subject.in_(own_registrations))))
    return where


def local_day(s: Session, column: Any, w: Window) -> ColumnElement[str]:
    """The local calendar day (the window's time zone) of a timestamp column, as 'YYYY-MM-DD' text."""
    if s.get_bind().dialect.name == "sqlite":
        # Stored as naive UTC text; SQLite knows offsets, not zones: the zone's offset at the window's start.
        offset = w.since.astimezone(ZoneInfo(w.tz)).utcoffset() or timedelta()
        return func.date(column, f"{offset.total_seconds() / 3600:+g} hours", type_=String)
    return func.to_char(func.timezone(w.tz, column), "YYYY-MM-DD", type_=String)


# --- lookups by code ---------------------------------------------------------------------------------------------


class OutletRef(NamedTuple):
    id: str
    operator_id: str


def operator_id_by_code(s: Session, code: str) -> str | None:
    """The id of the operator with this code, or None."""
    return s.execute(select(Operator.id).where(Operator.code == code)).scalar_one_or_none()


def outlet_by_code(s: Session, code: str, *, operator_id: str | None = None) -> OutletRef | None:
    """The outlet with this code (of ``operator_id`` when given) and its operator, or None."""
    q = select(Outlet.id, Outlet.operator_id).where(Outlet.code == code)
    if operator_id is not None:
        q = q.where(Outlet.operator_id == operator_id)
    row = s.execute(q).one_or_none()
    return None if row is None else OutletRef(row[0], row[1])


def user_id_by_name(s: Session, username: str, *, operator_id: str | None = None) -> str | None:
    """The id of the user with this username (of ``operator_id`` when given), or None."""
    q = select(User.id).where(User.username == username)
    if operator_id is not None:
        q = q.where(User.operator_id == operator_id)
    return s.execute(q).scalar_one_or_none()


# --- the registration view ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationView:
    id: str
    msisdn: str
    status: str
    operator_id: str
    outlet_id: str | None
    person_number: str  # masked
    created_at: datetime


def registration_view(s: Session, registration_id: str) -> RegistrationView | None:
    """A registration with its number and its holder's masked document number, or None. No access check: the
    caller has the registration's id from a use case that made that check."""
    row = s.execute(
        select(Registration, PhoneNumber.msisdn, Person.number_masked)
        .join(PhoneNumber, PhoneNumber.id == Registration.number_id)
        .join(Person, Person.id == Registration.person_id)
        .where(Registration.id == registration_id)).one_or_none()
    if row is None:
        return None
    reg, msisdn, masked = row
    return RegistrationView(reg.id, msisdn, reg.status, reg.operator_id, reg.outlet_id, masked, reg.created_at)
