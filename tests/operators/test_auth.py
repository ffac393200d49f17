"""Logins and passwords: the common and trivial passwords refused, login throttling per username and per client
(locks that grow, the right password refused while locked, a success resetting the username), parallel guesses
held to the limit, and an unknown username costing as much time as a known one."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import pytest
from sqlalchemy import select
from tests.registry_support import Clock, seeded

from realname.context import Services
from realname.errors import AuthError, BadInputError, LoginThrottledError, RealnameError
from realname.evaluation.synthetic import PASSWORD as SYNTHETIC_PASSWORD
from realname.operators.auth import common_passwords, hash_password, login, name_words, password_problem
from realname.operators.demo import DEMO_PASSWORD
from realname.registry.migrate import upgrade
from realname.registry.tables import AuditEvent, LoginThrottle

# --- passwords -------------------------------------------------------------------------------------------------------

WEAK = ["password", "Password1", "P@ssw0rd!", "12345678", "87654321", "1234567890", "abcdefgh", "qwertyui",
        "asdfghjkl", "1qaz2wsx", "aaaaaaaa", "zzzzzzzzzzzz", "abababab", "11112222", "iloveyou", "woaini1314",
        "monkey2024", "2024monkey!", "dragon-123", "admin123", "qwerty123456", "realname", "Realname2024",
        "chinamobile"]


@pytest.mark.parametrize("password", WEAK)
def test_common_and_trivial_passwords_are_refused(password: str) -> None:
    with pytest.raises(BadInputError) as refused:
        hash_password(password)
    assert refused.value.code == "weak_password" and refused.value.message


def test_the_username_and_the_operators_name_are_refused_with_a_few_characters_added() -> None:
    names = name_words("HZLINK", "Hangzhou Link 杭州")
    for password in ("chenxiaoming", "chenxiaoming2024", "2024chenxiaoming!", "ChenXiaoming-123", "hzlink1111",
                     "Hangzhou@2024"):
        problem = password_problem(password, username="chenxiaoming", names=names)
        assert problem is not None and "username" in problem, password
    assert password_problem("short", username="x") == "a password needs at least 8 characters"


@pytest.mark.parametrize("password", [DEMO_PASSWORD, SYNTHETIC_PASSWORD, "agent9-pass-123", "pw-123456",
                                      "correct horse battery", "Kiosk-Blue-Tea-7", "chenxiaoming-likes-tea"])
def test_ordinary_passwords_are_accepted(password: str) -> None:
    names = name_words("DEMO", "演示电信 Demo Telecom")
    assert password_problem(password, username="chenxiaoming", names=names) is None


def test_the_list_ships_inside_the_package() -> None:
    listed = common_passwords()
    assert len(listed) > 300 and "password" in listed and "123456789" in listed
    assert all(w == w.lower() and not w.startswith("#") for w in listed)


# --- throttling ------------------------------------------------------------------------------------------------------

def refused(call: Callable[[], object]) -> RealnameError:
    with pytest.raises(RealnameError) as caught:
        call()
    return caught.value


def actions(svc: Services, *names: str) -> list[str]:
    with svc.db.read() as s:
        return list(s.execute(select(AuditEvent.action).where(AuditEvent.action.in_(names))
                              .order_by(AuditEvent.seq)).scalars())


def test_a_username_locks_after_failures_for_longer_each_time_until_a_success(db_url: str) -> None:
    clock = Clock()
    svc, _ = seeded(db_url, clock=clock, login_max_failures=2, login_lock_minutes=1, login_lock_max_minutes=3)

    def wrong() -> RealnameError:
        return refused(lambda: login(svc, "agent1", "not the password"))

    for lock_seconds in (60, 120, 180):  # 1 minute, doubled, then capped at 3
        assert [wrong().code for _ in range(2)] == ["bad_credentials"] * 2
        locked = refused(lambda: login(svc, "agent1", DEMO_PASSWORD))  # even the right password
        assert isinstance(locked, LoginThrottledError) and locked.http_status == 429
        assert locked.code == "too_many_logins" and locked.retry_after == lock_seconds
        clock.advance(seconds=lock_seconds - 1)
        assert isinstance(refused(lambda: login(svc, "agent1", DEMO_PASSWORD)), LoginThrottledError)
        clock.advance(seconds=1)
    login(svc, "super1", DEMO_PASSWORD)  # another username is not affected
    login(svc, "agent1", DEMO_PASSWORD)  # the lock is over; a success starts the username afresh
    assert [wrong().code for _ in range(2)] == ["bad_credentials"] * 2
    locked = refused(lambda: login(svc, "agent1", DEMO_PASSWORD))
    assert isinstance(locked, LoginThrottledError) and locked.retry_after == 60
    assert actions(svc, "login_locked", "login_throttled").count("login_locked") == 4
    assert actions(svc, "login_locked", "login_throttled").count("login_throttled") == 7


def test_unknown_usernames_and_clients_are_throttled_too(db_url: str) -> None:
    svc, _ = seeded(db_url, login_max_failures=2, login_client_max_failures=3)
    for _ in range(2):
        assert refused(lambda: login(svc, "nobody", "guess-guess-1")).code == "bad_credentials"
    assert refused(lambda: login(svc, "nobody", "guess-guess-2")).code == "too_many_logins"  # as a known one

    # One address guessing at many usernames: a right password in between does not reset the address.
    here = "10.1.2.3"
    assert refused(lambda: login(svc, "agent1", "wrong-one", client=here)).code == "bad_credentials"
    login(svc, "super1", DEMO_PASSWORD, client=here)
    assert refused(lambda: login(svc, "ghost", "wrong-two", client=here)).code == "bad_credentials"
    assert refused(lambda: login(svc, "admin1", "wrong-three", client=here)).code == "bad_credentials"
    assert refused(lambda: login(svc, "super1", DEMO_PASSWORD, client=here)).code == "too_many_logins"
    login(svc, "super1", DEMO_PASSWORD, client="10.9.9.9")  # another address, the same user: fine
    with svc.db.read() as s:
        lock = s.execute(select(AuditEvent).where(AuditEvent.action == "login_locked")
                         .order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
    assert lock.payload == {"scope": "client", "minutes": 1.0, "client": here}


def test_failures_are_forgotten_after_a_quiet_day(db_url: str) -> None:
    clock = Clock()
    svc, _ = seeded(db_url, clock=clock, login_max_failures=2, login_forget_hours=24)
    assert refused(lambda: login(svc, "agent1", "wrong-monday")).code == "bad_credentials"
    clock.advance(hours=24, seconds=1)
    assert refused(lambda: login(svc, "agent1", "wrong-tuesday")).code == "bad_credentials"  # the first again
    with svc.db.read() as s:
        assert [row.failures for row in s.execute(select(LoginThrottle)).scalars()] == [1]
    assert refused(lambda: login(svc, "agent1", "wrong-tuesday-2")).code == "bad_credentials"
    assert refused(lambda: login(svc, "agent1", DEMO_PASSWORD)).code == "too_many_logins"


def test_parallel_guesses_cannot_outrun_the_limit(db_url: str) -> None:
    svc, _ = seeded(db_url, login_max_failures=3)
    start = Barrier(8)

    def guess(i: int) -> str:
        start.wait()
        try:
            login(svc, "agent1", f"parallel-guess-{i}")
        except (AuthError, LoginThrottledError) as exc:
            return exc.code
        return "logged_in"

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(guess, range(8)))
    assert codes == ["bad_credentials"] * 3 + ["too_many_logins"] * 5
    assert isinstance(refused(lambda: login(svc, "agent1", DEMO_PASSWORD)), LoginThrottledError)


def test_one_user_logging_in_from_many_kiosks_at_once_never_deadlocks(db_url: str) -> None:
    """Right passwords in parallel, one username and one client address (kiosks behind one gateway at the start of
    a shift): each login succeeds. The throttle rows are locked in one order everywhere; before, a success's refund
    (the username's row, then the client's) could meet another login's check (both rows, in key order) the other
    way round, and PostgreSQL ended one of them with a deadlock error."""
    svc, _ = seeded(db_url)
    start = Barrier(8)

    def log_in(i: int) -> str:
        start.wait()
        outcomes = []
        for _ in range(4):
            try:
                login(svc, "agent1", DEMO_PASSWORD, client="10.0.0.1")
                outcomes.append("ok")
            except LoginThrottledError as exc:  # a parallel attempt still being checked: told to retry
                outcomes.append(exc.code)
        return ",".join(outcomes)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(log_in, range(8)))
    assert all(set(r.split(",")) <= {"ok", "too_many_logins"} for r in results), results
    assert sum(r.count("ok") for r in results) >= 8


# --- timing ----------------------------------------------------------------------------------------------------------

def test_an_unknown_username_takes_as_long_as_a_wrong_password(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'timing.db'}"
    upgrade(url)
    svc, _ = seeded(url, login_max_failures=1000)

    def median_seconds(username: str) -> float:
        times = []
        for i in range(6):
            began = time.perf_counter()
            with pytest.raises(AuthError):
                login(svc, username, f"wrong-password-{i}")
            times.append(time.perf_counter() - began)
        return statistics.median(times[1:])  # the first call of each warms caches

    unknown, known = median_seconds("nobody-here"), median_seconds("agent1")
    assert max(unknown, known) < 2 * min(unknown, known), (unknown, known)
