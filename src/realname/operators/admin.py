"""Operator administration: operators, outlets, users, number stock, caps, blacklisting, operator settings.
Every change audited. An operator always keeps one active administrator: disabling or blacklisting the last one
is refused, and a blacklist is lifted only with a reason."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from realname.audit.log import append
from realname.config import Settings
from realname.context import SYSTEM, Actor, Services
from realname.documents.phone import parse_msisdn
from realname.errors import BadInputError, ConfigError, ConflictError, DocumentError, ForbiddenError, NotFoundError
from realname.operators.auth import ROLES, hash_password, name_words, require
from realname.registry.states import NumberStatus
from realname.registry.tables import Operator, Outlet, PhoneNumber, User


def _operator_scope(actor: Actor, operator_id: str | None) -> str:
    """An operator admin manages only their own operator; the system (CLI) any."""
    if actor is SYSTEM or actor.role == "system":
        if operator_id is None:
            raise BadInputError("name the operator", code="operator_required")
        return operator_id
    require(actor, "admin.manage")
    if operator_id is not None and operator_id != actor.operator_id:
        raise ForbiddenError("an operator's administrator manages only that operator")
    assert actor.operator_id is not None
    return actor.operator_id


def create_operator(svc: Services, actor: Actor, code: str, name: str, kind: str = "basic",
                    cap_per_person: int = 5, settings: Mapping[str, Any] | None = None) -> Operator:
    """A new operator; ``settings``: overrides of the defaults from the start (checked like later changes)."""
    chosen = _checked_settings(svc.settings, dict(settings or {}))
    if actor.role != "system":
        raise ForbiddenError("operators are created by the service's own administration (CLI)")
    if kind not in ("basic", "mvno"):
        raise BadInputError("kind is 'basic' (basic telecom operator) or 'mvno'", code="bad_operator_kind")
    if not 1 <= cap_per_person <= 100:
        raise BadInputError("cap_per_person must be between 1 and 100", code="bad_cap")
    with svc.db.write() as s:
        if s.execute(select(Operator).where(Operator.code == code)).scalar_one_or_none():
            raise ConflictError(f"operator {code!r} exists", code="duplicate")
        op = Operator(code=code, name=name, kind=kind, cap_per_person=cap_per_person, created_at=svc.now(),
                      settings=chosen)
        s.add(op)
        s.flush()
        append(s, at=svc.now(), actor=actor.username, action="operator_created", subject=op.id,
               payload={"code": code, "kind": kind, "cap_per_person": cap_per_person, **(
                   {"settings": chosen} if chosen else {})})
    return op


def set_cap(svc: Services, actor: Actor, cap_per_person: int, operator_id: str | None = None) -> Operator:
    op_id = _operator_scope(actor, operator_id)
    if not 1 <= cap_per_person <= 100:
        raise BadInputError("cap_per_person must be between 1 and 100", code="bad_cap")
    with svc.db.write() as s:
        op = s.get(Operator, op_id)
        if op is None:
            raise NotFoundError("no such operator")
        before, op.cap_per_person = op.cap_per_person, cap_per_person
        append(s, at=svc.now(), actor=actor.username, action="cap_changed", subject=op.id,
               payload={"from": before, "to": cap_per_person})
    return op


def create_outlet(svc: Services, actor: Actor, code: str, name: str, region: str | None = None,
                  operator_id: str | None = None) -> Outlet:
    op_id = _operator_scope(actor, operator_id)
    with svc.db.write() as s:
        if s.execute(select(Outlet).where(Outlet.code == code)).scalar_one_or_none():
            raise ConflictError(f"outlet {code!r} exists", code="duplicate")
        outlet = Outlet(operator_id=op_id, code=code, name=name, region=region, active=True)
        s.add(outlet)
        s.flush()
        append(s, at=svc.now(), actor=actor.username, action="outlet_created", subject=outlet.id,
               payload={"code": code, "operator": op_id})
    return outlet


def create_user(svc: Services, actor: Actor, username: str, password: str, role: str, *,
                operator_id: str | None = None, outlet_id: str | None = None) -> User:
    if role not in ROLES:
        raise BadInputError(f"role must be one of {', '.join(ROLES)}", code="bad_role")
    regulator_side = role in ("inspector", "auditor")
    if regulator_side and actor.role != "system":
        raise ForbiddenError("inspectors and auditors are created by the service's administration (CLI)")
    op_id = None if regulator_side else _operator_scope(actor, operator_id)
    if role == "agent" and outlet_id is None:
        raise BadInputError("an agent works at an outlet: give outlet_id", code="outlet_required")
    with svc.db.read() as s:  # the operator's code and name are what a guesser tries first
        op = s.get(Operator, op_id) if op_id is not None else None
    hashed = hash_password(password, username=username, names=name_words(op.code, op.name) if op else ())
    with svc.db.write() as s:
        if outlet_id is not None:
            outlet = s.get(Outlet, outlet_id)
            if outlet is None or outlet.operator_id != op_id:
                raise NotFoundError("no such outlet at this operator")
        if s.execute(select(User).where(User.username == username)).scalar_one_or_none():
            raise ConflictError(f"user {username!r} exists", code="duplicate")
        user = User(username=username, password_hash=hashed, role=role, operator_id=op_id, outlet_id=outlet_id,
                    active=True, blacklisted=False, created_at=svc.now())
        s.add(user)
        s.flush()
        append(s, at=svc.now(), actor=actor.username, action="user_created", subject=user.id,
               payload={"username": username, "role": role, "outlet": outlet_id})
    return user


def list_outlets(svc: Services, actor: Actor, operator_id: str | None = None) -> list[Outlet]:
    op_id = _operator_scope(actor, operator_id)
    with svc.db.read() as s:
        return list(s.execute(select(Outlet).where(Outlet.operator_id == op_id).order_by(Outlet.code)).scalars())


def list_users(svc: Services, actor: Actor, operator_id: str | None = None) -> list[User]:
    """The operator's own staff (never the regulator-side inspectors and auditors, who belong to no operator)."""
    op_id = _operator_scope(actor, operator_id)
    with svc.db.read() as s:
        return list(s.execute(select(User).where(User.operator_id == op_id).order_by(User.username)).scalars())


def _user_in_scope(s: Session, actor: Actor, user_id: str) -> User:
    user = s.get(User, user_id)
    if user is None or (actor.role != "system" and user.operator_id != actor.operator_id):
        raise NotFoundError("no such user")
    return user


def _keep_an_admin(s: Session, user: User) -> None:
    """Refuse to disable or blacklist the operator's last active administrator. The operator's row is locked first
    (PostgreSQL; SQLite's write transaction is exclusive already) and the user re-read, so two administrators
    removing each other at the same moment are counted one after the other and the second is refused."""
    if user.role != "operator_admin" or user.operator_id is None:
        return
    s.execute(select(Operator.id).where(Operator.id == user.operator_id).with_for_update())
    s.refresh(user)
    if not user.active or user.blacklisted:
        return
    others = s.execute(select(func.count()).select_from(User).where(
        User.operator_id == user.operator_id, User.role == "operator_admin", User.active.is_(True),
        User.blacklisted.is_(False), User.id != user.id)).scalar_one()
    if not others:
        raise ConflictError("this is the operator's last active administrator: add or enable another one first",
                            code="last_admin")


def set_user_state(svc: Services, actor: Actor, user_id: str, *, active: bool | None = None,
                   blacklisted: bool | None = None, reason: str | None = None) -> User:
    if actor.role != "system":
        require(actor, "admin.manage")
    if blacklisted is False:
        raise BadInputError("a blacklist is lifted with lift_blacklist, which records why", code="reason_required")
    if blacklisted and not (reason or "").strip():
        raise BadInputError("blacklisting an agent needs a reason", code="reason_required")
    if actor.user_id is not None and actor.user_id == user_id and (active is False or blacklisted):
        raise ConflictError("an administrator cannot disable or blacklist their own account", code="own_account")
    with svc.db.write() as s:
        user = _user_in_scope(s, actor, user_id)
        if active is False or blacklisted:
            _keep_an_admin(s, user)
        if active is not None:
            user.active = active
        if blacklisted is not None:
            user.blacklisted, user.blacklist_reason = blacklisted, (reason or "").strip() or None
        append(s, at=svc.now(), actor=actor.username,
               action="agent_blacklisted" if blacklisted else "user_changed", subject=user.id,
               payload={"active": user.active, "blacklisted": user.blacklisted, "reason": user.blacklist_reason})
    return user


def lift_blacklist(svc: Services, actor: Actor, user_id: str, reason: str) -> User:
    """Lift a user's blacklist: an administrator of the user's operator, or the system (CLI). The reason is
    required and recorded (``agent_blacklist_lifted``, with the blacklist's own reason); whether the account is
    active is left as it was."""
    if actor.role != "system":
        require(actor, "admin.manage")
    why = (reason or "").strip()
    if not why:
        raise BadInputError("lifting a blacklist needs a reason", code="reason_required")
    if len(why) > 256:
        raise BadInputError("the reason is at most 256 characters", code="reason_too_long")
    with svc.db.write() as s:
        user = _user_in_scope(s, actor, user_id)
        if not user.blacklisted:
            raise ConflictError("this user is not blacklisted", code="not_blacklisted")
        was = user.blacklist_reason
        user.blacklisted, user.blacklist_reason = False, None
        append(s, at=svc.now(), actor=actor.username, action="agent_blacklist_lifted", subject=user.id,
               payload={"reason": why, "blacklist_reason": was, "active": user.active})
    return user


def find_user(svc: Services, username: str) -> User:
    """A user by username (the CLI names users; the API uses ids)."""
    with svc.db.read() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFoundError(f"no user {username!r}")
    return user


@dataclass(frozen=True)
class ImportResult:
    added: int
    skipped_existing: int


def import_numbers(svc: Services, actor: Actor, csv_text: str, operator_id: str | None = None) -> ImportResult:
    """A CSV with a ``msisdn`` column (and optionally ``status``: available or reserved). All or nothing: one bad
    row refuses the whole file and names the row."""
    if actor.role != "system":
        require(actor, "numbers.import")
    op_id = _operator_scope(actor, operator_id)
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    if reader.fieldnames is None or "msisdn" not in reader.fieldnames:
        raise BadInputError("the number file needs a header row with an 'msisdn' column", code="bad_csv")
    wanted: dict[str, NumberStatus] = {}
    for line, row in enumerate(reader, start=2):
        try:
            e164 = parse_msisdn(row.get("msisdn") or "", svc.settings.country)
        except DocumentError as exc:
            raise BadInputError(f"line {line}: {exc.message}", code="bad_csv") from None
        status = (row.get("status") or NumberStatus.AVAILABLE).strip()
        if status not in (NumberStatus.AVAILABLE, NumberStatus.RESERVED):  # the states a number enters the stock in
            raise BadInputError(f"line {line}: status must be available or reserved", code="bad_csv")
        wanted[e164] = NumberStatus(status)
    if not wanted:
        raise BadInputError("the number file has no rows", code="bad_csv")
    now = svc.now()
    with svc.db.write() as s:
        existing = set(s.execute(select(PhoneNumber.msisdn).where(PhoneNumber.msisdn.in_(wanted))).scalars())
        for msisdn, status in wanted.items():
            if msisdn not in existing:
                s.add(PhoneNumber(msisdn=msisdn, operator_id=op_id, status=status, updated_at=now))
        result = ImportResult(len(wanted) - len(existing), len(existing))
        append(s, at=now, actor=actor.username, action="numbers_imported", subject=op_id,
               payload={"added": result.added, "skipped_existing": result.skipped_existing})
    return result


def stock(svc: Services, operator_id: str) -> dict[str, int]:
    with svc.db.read() as s:
        rows = s.execute(select(PhoneNumber.status, func.count()).where(PhoneNumber.operator_id == operator_id)
                         .group_by(PhoneNumber.status)).all()
    return {status: int(n) for status, n in rows}


# --- operator settings -------------------------------------------------------------------------------------------

DEFAULT_MANUAL_PATH = "请到柜台办理人工核验 / Please ask the clerk for manual verification at the counter"


def _global_default(name: str) -> Any:
    return Settings.model_fields[name].default


class OperatorSettings(BaseModel):
    """What an operator's administrator may set for that operator. The defaults shown are the service's built-in
    ones; :func:`get_operator_settings` uses the running service's settings (``REALNAME_*``) as the defaults."""

    model_config = ConfigDict(extra="forbid")

    challenge_actions: int = Field(_global_default("challenge_actions"), ge=2, le=4,
                                   description="actions per liveness challenge")
    light_check: bool = Field(_global_default("light_check"), description="the kiosk lights the face with a random "
                              "colour sequence and the live check requires the face to reflect it (screen-light "
                              "challenge); off: actions only, which animated photos can pass")
    manual_path: str = Field(DEFAULT_MANUAL_PATH, min_length=1, max_length=500,
                             description="what the kiosk tells a customer who cannot or will not use face checks")
    retention_years_after_service: int = Field(_global_default("retention_years_after_service"), ge=0, le=10)
    session_retention_days: int = Field(_global_default("session_retention_days"), ge=1, le=3650)
    require_enrolled_kiosks: bool = Field(True, description="every request of a verification must carry a WebAuthn "
                                          "assertion from a kiosk enrolled at the agent's outlet; off: an agent's "
                                          "login is enough (operators created before kiosks could be enrolled)")
    card_readers: Literal["required", "optional", "off"] = Field(
        "optional", description="card data signed by an enrolled reader: required (unsigned is refused), optional "
        "(unsigned is recorded as unattested), off (not checked)")


SETTING_NAMES = tuple(OperatorSettings.model_fields)


def _defaults(settings: Settings) -> dict[str, Any]:
    return {"challenge_actions": settings.challenge_actions, "light_check": settings.light_check,
            "manual_path": DEFAULT_MANUAL_PATH,
            "retention_years_after_service": settings.retention_years_after_service,
            "session_retention_days": settings.session_retention_days,
            "require_enrolled_kiosks": True, "card_readers": "optional"}


def _merged(settings: Settings, stored: Mapping[str, Any] | None) -> OperatorSettings:
    values = _defaults(settings) | {k: v for k, v in (stored or {}).items() if k in SETTING_NAMES}
    try:
        return OperatorSettings.model_validate(values)
    except ValidationError as exc:  # stored values are validated on write: this is a global default out of range
        raise ConfigError(f"an operator setting is out of its range: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return f"{'.'.join(str(p) for p in first.get('loc', ()))}: {first.get('msg', '')}"


def _refuse_unknown(changes: Mapping[str, Any]) -> None:
    unknown = sorted(set(changes) - set(SETTING_NAMES))
    if unknown:
        raise BadInputError(f"unknown setting {unknown[0]!r}: the settings are {', '.join(SETTING_NAMES)}",
                            code="bad_setting")


def _validated(base: Mapping[str, Any], changes: Mapping[str, Any]) -> OperatorSettings:
    try:
        return OperatorSettings.model_validate(dict(base) | dict(changes))
    except ValidationError as exc:
        raise BadInputError(f"bad setting: {_first_error(exc)}", code="bad_setting") from None


def _checked_settings(settings: Settings, changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` to a new operator's settings, checked and in their stored form (what the model made of them)."""
    _refuse_unknown(changes)
    return _validated(_defaults(settings), changes).model_dump(include=set(changes))


def get_operator_settings(svc: Services, operator_id: str) -> OperatorSettings:
    """The operator's settings: what its administrator set, over the service's defaults."""
    with svc.db.read() as s:
        op = s.get(Operator, operator_id)
        if op is None:
            raise NotFoundError("no such operator")
        return _merged(svc.settings, op.settings)


def settings_in(s: Session, svc: Services, operator_id: str) -> OperatorSettings:
    """The operator's settings read inside the caller's transaction (a registration that ends, a purge)."""
    op = s.get(Operator, operator_id)
    return _merged(svc.settings, op.settings if op is not None else None)


def operator_view(svc: Services, actor: Actor) -> tuple[Operator, OperatorSettings]:
    """The caller's operator and its settings, for the kiosk and the back office (operator staff)."""
    require(actor, "operator.read")
    if actor.operator_id is None:
        raise ForbiddenError("only an operator's staff have operator settings")
    with svc.db.read() as s:
        op = s.get(Operator, actor.operator_id)
        if op is None:
            raise NotFoundError("no such operator")
    return op, _merged(svc.settings, op.settings)


def update_operator_settings(svc: Services, actor: Actor, changes: Mapping[str, Any],
                             operator_id: str | None = None) -> OperatorSettings:
    """Change some of the operator's settings (operator_admin; the CLI names the operator). Only the values given
    are stored as overrides; the change is audited as ``settings_changed`` with the values before and after."""
    op_id = _operator_scope(actor, operator_id)
    _refuse_unknown(changes)
    with svc.db.write() as s:
        op = s.get(Operator, op_id)
        if op is None:
            raise NotFoundError("no such operator")
        before = _merged(svc.settings, op.settings)
        after = _validated(before.model_dump(), changes)
        if changes:
            stored = {k: v for k, v in (op.settings or {}).items() if k in SETTING_NAMES}
            op.settings = stored | after.model_dump(include=set(changes))  # a new dict: the JSON column sees it
            append(s, at=svc.now(), actor=actor.username, action="settings_changed", subject=op.id,
                   payload={"from": before.model_dump(include=set(changes)),
                            "to": after.model_dump(include=set(changes))})
    return after


def workplace(svc: Services, actor: Actor) -> dict[str, str | None]:
    """The caller's operator name and outlet code and name, for display."""
    with svc.db.read() as s:
        op = s.get(Operator, actor.operator_id) if actor.operator_id else None
        outlet = s.get(Outlet, actor.outlet_id) if actor.outlet_id else None
    return {"operator_name": op.name if op else None, "outlet_code": outlet.code if outlet else None,
            "outlet_name": outlet.name if outlet else None}
