"""Logins, tokens and who may do what.

Passwords are argon2 hashes; tokens are random, short-lived and stored only as their SHA-256, so any worker can
check one and a database dump cannot be replayed. ``PERMISSIONS`` is the one table of which role may perform
which operation; the API declares an operation per endpoint and a test checks every endpoint against every role.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from realname.audit.log import append
from realname.errors import AuthError, BadInputError, ForbiddenError
from realname.registry.tables import AuthToken, User
from realname.services.context import Actor, Services

ROLES = ("agent", "supervisor", "operator_admin", "inspector", "auditor")
_OPERATOR_STAFF = frozenset({"agent", "supervisor", "operator_admin"})
_COUNTER = frozenset({"agent", "supervisor"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "faces.check": _OPERATOR_STAFF,  # raw compare / quality with scores: operator staff only, never anonymous
    "verifications.open": _COUNTER,
    "verifications.capture": _COUNTER,
    "verifications.read": _OPERATOR_STAFF,
    "verifications.review": frozenset({"supervisor"}),
    "registrations.create": _COUNTER,
    "registrations.lookup_mine": _COUNTER,
    "registrations.read": _OPERATOR_STAFF | {"inspector", "auditor"},
    "registrations.cancel": _COUNTER,
    "registrations.transfer": _COUNTER,
    "reverifications.order": frozenset({"supervisor", "operator_admin"}),
    "reverifications.complete": _COUNTER,
    "admin.manage": frozenset({"operator_admin"}),
    "numbers.import": frozenset({"operator_admin"}),
    "audit.verify": frozenset({"auditor", "inspector", "operator_admin"}),
    "audit.read": frozenset({"auditor"}),
    "operator.read": _OPERATOR_STAFF,  # the caller's operator and its settings (kiosk and back office)
    # read-only statistics and exports: regulator-side users see every operator, an operator's admin its own
    "inspect.read": frozenset({"inspector", "auditor", "operator_admin"}),
    "reports.read": frozenset({"inspector", "auditor", "operator_admin"}),  # an operator self-inspects
    "compliance.read": frozenset({"inspector", "auditor"}),  # service-wide figures: the regulator's side
}

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise BadInputError("a password needs at least 8 characters", code="weak_password")
    return _hasher.hash(password)


def allowed(role: str, operation: str) -> bool:
    # "system" is the command line on the server itself (jobs, administration), never a login.
    return role == "system" or role in PERMISSIONS[operation]


def require(actor: Actor, operation: str) -> None:
    if not allowed(actor.role, operation):
        raise ForbiddenError(f"the {actor.role} role may not do this ({operation})")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(svc: Services, username: str, password: str) -> tuple[str, datetime, Actor]:
    now = svc.now()
    with svc.db.write() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
        try:
            ok = user is not None and _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
        if user is None or not ok:
            append(s, at=now, actor=username[:64], action="login_failed", subject="user")
            bad = AuthError("wrong username or password", code="bad_credentials")
        elif not user.active or user.blacklisted:
            append(s, at=now, actor=user.username, action="login_refused", subject=user.id,
                   payload={"blacklisted": user.blacklisted})
            bad = AuthError("this account is disabled; ask the operator's administrator", code="account_disabled")
        else:
            token = secrets.token_urlsafe(32)
            expires = now + timedelta(minutes=svc.settings.token_minutes)
            s.execute(delete(AuthToken).where(AuthToken.expires_at < now))
            s.add(AuthToken(token_hash=_digest(token), user_id=user.id, expires_at=expires, created_at=now))
            append(s, at=now, actor=user.username, action="login", subject=user.id, payload={"role": user.role})
            return token, expires, _actor(user)
    raise bad  # after the commit: the failed attempt stays on record


def logout(svc: Services, token: str) -> None:
    with svc.db.write() as s:
        s.execute(delete(AuthToken).where(AuthToken.token_hash == _digest(token)))


def authenticate(svc: Services, token: str | None) -> Actor:
    if not token:
        raise AuthError("log in first: send 'Authorization: Bearer <token>'")
    with svc.db.read() as s:
        row = s.get(AuthToken, _digest(token))
        if row is None or row.expires_at <= svc.now():
            raise AuthError("the login token is unknown or expired; log in again", code="token_expired")
        user = s.get(User, row.user_id)
        if user is None or not user.active or user.blacklisted:
            raise AuthError("this account is disabled", code="account_disabled")
        return _actor(user)


def _actor(user: User) -> Actor:
    return Actor(user.id, user.username, user.role, user.operator_id, user.outlet_id)
