"""Logins, tokens and who may do what.

Passwords are argon2 hashes; tokens are random, short-lived and stored only as their SHA-256, so any worker can
check one and a database dump cannot be replayed. ``PERMISSIONS`` is the one table of which role may perform
which operation; the API declares an operation per endpoint and a test checks every endpoint against every role.

Logins are throttled per username and per client address, in the database so every worker counts the same: an
attempt is counted before its password is checked and the count is given back when it was right, so parallel
guesses cannot outrun the limit. After ``login_max_failures`` the username (``login_client_max_failures``: the
address) is locked, for ``login_lock_minutes`` doubling with each further lock up to ``login_lock_max_minutes``;
while locked even the right password is refused. Unknown usernames are counted and locked the same way, and an
unknown username costs one argon2 check like a known one, so neither time nor answers tell which usernames exist.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import string
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from realname.audit.log import append
from realname.context import Actor, Services
from realname.errors import AuthError, BadInputError, ForbiddenError, LoginThrottledError
from realname.registry.tables import AuthToken, LoginThrottle, User

ROLES = ("agent", "supervisor", "operator_admin", "inspector", "auditor")
_OPERATOR_STAFF = frozenset({"agent", "supervisor", "operator_admin"})
_COUNTER = frozenset({"agent", "supervisor"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "faces.check": _OPERATOR_STAFF,  # raw compare / quality: operator staff only, never anonymous
    "faces.scores": frozenset({"operator_admin"}),  # a compare's score and thresholds: never the counter's roles
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
    "kiosks.manage": frozenset({"operator_admin"}),  # enrol, rename, revoke kiosks and card readers
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


# --- passwords ---------------------------------------------------------------------------------------------------

# Runs along the alphabet, the digits (wrapping: 7890123) and the keyboard rows; a password inside one, forwards or
# backwards, is a run.
_RUNS = ("01234567890123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm",
         "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "qazwsxedcrfvtgbyhnujmikolp", "!@#$%^&*()")
_LEET = str.maketrans("013457@$!", "oieastasi")  # p@ssw0rd is password
_DECORATION = string.digits + string.punctuation + string.whitespace


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list (operators/data/common_passwords.txt), lower case."""
    text = files("realname.operators").joinpath("data/common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(w for w in (line.strip().lower() for line in text.splitlines()) if w and not w.startswith("#"))


def _plain(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch not in string.punctuation and not ch.isspace())


def _trivial(text: str) -> bool:
    """Guessed at once: under 4 distinct characters, a run, or a common password (ignoring symbols and spaces)."""
    plain = _plain(text)
    if len(set(plain)) < 4 or plain in common_passwords() or plain.translate(_LEET) in common_passwords():
        return True
    return any(plain in run or plain in run[::-1] for run in _RUNS)


def password_problem(password: str, *, username: str = "", names: Iterable[str] = ()) -> str | None:
    """Why ``password`` is refused, or None. ``names`` are words a guesser would try besides the username (the
    operator's code and name); the service's own name always counts."""
    if len(password) < 8:
        return "a password needs at least 8 characters"
    low = password.lower()
    if _trivial(low) or low.translate(_LEET) in common_passwords():
        return "this password is too easy to guess: a common password, a run like 12345678 or qwertyui, or a few " \
               "repeated characters; choose a longer, unusual one"
    words = {w for w in (username.lower(), "realname", *(n.lower() for n in names)) if len(w) >= 3}
    for word in words:
        if word in low and _trivial(low.replace(word, "")):
            return "a password cannot be the username, the service's or the operator's name with a few characters " \
                   "added"
    core = low.strip(_DECORATION)  # password2024!, 123monkey: a common word with a trivial prefix or suffix
    if core != low and core.translate(_LEET) in common_passwords():
        start = low.index(core)
        if _trivial(low[:start] + low[start + len(core):]):
            return "this password is a common password with a few characters added; choose a longer, unusual one"
    return None


def hash_password(password: str, *, username: str = "", names: Iterable[str] = ()) -> str:
    problem = password_problem(password, username=username, names=names)
    if problem is not None:
        raise BadInputError(problem, code="weak_password")
    return _hasher.hash(password)


def name_words(*names: str) -> list[str]:
    """The words of names (an operator's code and name) for :func:`password_problem`."""
    return [w for name in names for w in re.split(r"[\W_]+", name) if w]


def allowed(role: str, operation: str) -> bool:
    # "system" is the command line on the server itself (jobs, administration), never a login.
    return role == "system" or role in PERMISSIONS[operation]


def require(actor: Actor, operation: str) -> None:
    if not allowed(actor.role, operation):
        raise ForbiddenError(f"the {actor.role} role may not do this ({operation})")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- logins ------------------------------------------------------------------------------------------------------

_IN_FLIGHT = timedelta(minutes=1)  # far longer than an argon2 check: a count left by a crashed worker is not waited on


@cache
def _dummy_hash() -> str:
    """What an unknown username's password is checked against: a hash with the hasher's own parameters, so both
    paths cost the same (made on first use: nothing is computed at import)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored if stored is not None else _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def _throttle_keys(username: str, client: str | None) -> list[tuple[str, str]]:
    keys = [(hashlib.sha256(f"user:{username}".encode()).hexdigest(), "user")]
    if client:
        keys.append((hashlib.sha256(f"client:{client}".encode()).hexdigest(), "client"))
    return keys


def _limit(svc: Services, scope: str) -> int:
    return svc.settings.login_max_failures if scope == "user" else svc.settings.login_client_max_failures


def _throttles(s: Session, keys: list[tuple[str, str]], now: datetime) -> dict[str, LoginThrottle]:
    """The keys' rows, created when missing and locked (FOR UPDATE on PostgreSQL; SQLite's write transaction is
    exclusive). Created first, then locked: a lock taken on a row that does not exist yet would hold nothing, and
    parallel first attempts would all pass. Every lock on these rows is taken in key order (here and in
    :func:`_refund`), so two logins never wait on each other's rows the other way round (a deadlock)."""
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    for _ in range(10):
        for key, scope in sorted(keys):
            s.execute(insert(LoginThrottle).values(key=key, scope=scope, failures=0, locks=0, updated_at=now)
                      .on_conflict_do_nothing(index_elements=[LoginThrottle.key]))
        rows = {row.key: row for row in s.execute(_locked(keys)).scalars()}
        if len(rows) == len(keys):
            return rows
        # A row that existed when inserted was purged (quiet for a day) before the lock: create it again.
    raise RuntimeError("login throttle rows keep disappearing")  # pragma: no cover - ten races in a row


def _locked(keys: list[tuple[str, str]]) -> Select[LoginThrottle]:
    return (select(LoginThrottle).where(LoginThrottle.key.in_([k for k, _ in keys]))
            .order_by(LoginThrottle.key).with_for_update())


def _charge(svc: Services, s: Session, keys: list[tuple[str, str]], now: datetime) -> int | None:
    """Count this attempt against its username and client, or return the seconds to wait when either is locked
    (or has another attempt, the one that reaches the limit, still being checked)."""
    # Forget quiet rows, a few at a time; rows another login holds are skipped (two purges waiting on each other's
    # rows would deadlock on PostgreSQL).
    forget = now - timedelta(hours=svc.settings.login_forget_hours)
    unlocked = or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now)
    quiet = (select(LoginThrottle.key).where(LoginThrottle.updated_at < forget, unlocked)
             .limit(100).with_for_update(skip_locked=True))
    s.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(quiet)))
    rows = _throttles(s, keys, now)
    waits = []
    for key, scope in keys:
        row = rows[key]
        if row.locked_until is not None and row.locked_until > now:
            waits.append(math.ceil((row.locked_until - now).total_seconds()))
        elif row.failures >= _limit(svc, scope) and row.updated_at > now - _IN_FLIGHT:
            waits.append(1)
    if waits:
        return max(waits)
    for row in rows.values():
        row.failures, row.updated_at = row.failures + 1, now
    return None


def _refund(s: Session, keys: list[tuple[str, str]]) -> None:
    """The password was right: the username starts afresh; the client only gets this attempt back (one good
    account must not reset an address that guesses at others).

    The username's row is reset, not deleted: a row deleted here is inserted again by a parallel login, and an
    insert locks its new row outside the key order every other lock follows (PostgreSQL found such deadlocks).
    Quiet rows are purged later, a day after their last use."""
    s.execute(_locked(keys))  # in key order, as every other login takes them
    for key, scope in keys:
        if scope == "user":
            s.execute(update(LoginThrottle).where(LoginThrottle.key == key)
                      .values(failures=0, locks=0, locked_until=None))
        else:
            s.execute(update(LoginThrottle).where(and_(LoginThrottle.key == key, LoginThrottle.failures > 0))
                      .values(failures=LoginThrottle.failures - 1))


def _lock_if_due(svc: Services, s: Session, keys: list[tuple[str, str]], now: datetime) -> list[tuple[str, float]]:
    """After a wrong password: lock each key that reached its limit. Returns (scope, minutes) of the new locks."""
    rows = _throttles(s, keys, now)
    locked = []
    for key, scope in keys:
        row = rows[key]
        row.updated_at = now
        if row.failures >= _limit(svc, scope):
            minutes = min(svc.settings.login_lock_minutes * 2 ** min(row.locks, 30),
                          svc.settings.login_lock_max_minutes)
            row.locked_until, row.locks, row.failures = now + timedelta(minutes=minutes), row.locks + 1, 0
            locked.append((scope, minutes))
    return locked


def _wait_text(seconds: int) -> str:
    return f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"


def login(svc: Services, username: str, password: str, *, client: str | None = None
          ) -> tuple[str, datetime, Actor]:
    """A token for the right password. ``client`` is the caller's address (the API passes the peer's: behind a
    reverse proxy that is the proxy's, so its per-client limit then covers everyone behind it)."""
    now = svc.now()
    actor = username[:64]
    keys = _throttle_keys(username, client)
    with svc.db.write() as s:
        wait = _charge(svc, s, keys, now)
        if wait is not None:
            append(s, at=now, actor=actor, action="login_throttled", subject="user",
                   payload={"client": client, "retry_after": wait})
        stored = s.execute(select(User.password_hash).where(User.username == username)).scalar_one_or_none()
    if wait is not None:
        raise LoginThrottledError(f"too many failed logins: try again in {_wait_text(wait)}", retry_after=wait)
    # Checked outside any transaction: argon2 takes tens of milliseconds that no write lock should be held for.
    ok = _verify(stored, password)
    now = svc.now()
    with svc.db.write() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if not ok or user is None or user.password_hash != stored:
            for scope, minutes in _lock_if_due(svc, s, keys, now):
                append(s, at=now, actor=actor, action="login_locked", subject="user",
                       payload={"scope": scope, "minutes": minutes, "client": client})
            append(s, at=now, actor=actor, action="login_failed", subject="user", payload={"client": client})
            bad = AuthError("wrong username or password", code="bad_credentials")
        elif not user.active or user.blacklisted:
            _refund(s, keys)
            append(s, at=now, actor=user.username, action="login_refused", subject=user.id,
                   payload={"blacklisted": user.blacklisted})
            bad = AuthError("this account is disabled; ask the operator's administrator", code="account_disabled")
        else:
            _refund(s, keys)
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
