"""Operator administration on real databases: an operator keeps one active administrator (also when two remove
each other at the same moment), a blacklist is lifted only with a reason and only by the user's own operator, and a
new user's password may not be built from the username or the operator's name."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy import func, select
from tests.registry_support import seeded

from realname.context import SYSTEM, Actor, Services
from realname.errors import AuthError, BadInputError, ConflictError, ForbiddenError, NotFoundError
from realname.operators import admin
from realname.operators.auth import authenticate, login
from realname.operators.demo import DEMO_PASSWORD
from realname.registry.tables import AuditEvent, User


def actor(svc: Services, username: str) -> Actor:
    token, _, _ = login(svc, username, DEMO_PASSWORD)
    return authenticate(svc, token)


def active_admins(svc: Services, operator_id: str) -> int:
    with svc.db.read() as s:
        return int(s.execute(select(func.count()).select_from(User).where(
            User.operator_id == operator_id, User.role == "operator_admin", User.active.is_(True),
            User.blacklisted.is_(False))).scalar_one())


def test_the_last_active_admin_can_be_neither_disabled_nor_blacklisted(db_url: str) -> None:
    svc, demo = seeded(db_url)
    admin1 = demo.users["admin1"]
    with pytest.raises(ConflictError) as disabling:
        admin.set_user_state(svc, SYSTEM, admin1, active=False)
    with pytest.raises(ConflictError) as blacklisting:
        admin.set_user_state(svc, SYSTEM, admin1, blacklisted=True, reason="test")
    assert disabling.value.code == blacklisting.value.code == "last_admin"
    assert active_admins(svc, demo.operator_id) == 1

    admin2 = admin.create_user(svc, SYSTEM, "admin2", DEMO_PASSWORD, "operator_admin", operator_id=demo.operator_id)
    admin.set_user_state(svc, actor(svc, "admin2"), admin1, blacklisted=True, reason="left the company")
    with pytest.raises(ConflictError) as last:
        admin.set_user_state(svc, SYSTEM, admin2.id, active=False)
    assert last.value.code == "last_admin"
    admin.set_user_state(svc, SYSTEM, demo.users["agent1"], active=False)  # other roles: as before
    admin.lift_blacklist(svc, SYSTEM, admin1, "came back")
    admin.set_user_state(svc, SYSTEM, admin2.id, active=False)  # two again: one may go
    assert active_admins(svc, demo.operator_id) == 1


def test_two_admins_removing_each_other_at_once_leave_one(db_url: str) -> None:
    svc, demo = seeded(db_url)
    admin.create_user(svc, SYSTEM, "admin2", DEMO_PASSWORD, "operator_admin", operator_id=demo.operator_id)
    admins = {"admin1": actor(svc, "admin1"), "admin2": actor(svc, "admin2")}
    for _ in range(3):
        start = Barrier(2)

        def remove(me: str, other: str, start: Barrier = start) -> str:
            start.wait()
            try:
                admin.set_user_state(svc, admins[me], admins[other].user_id or "", blacklisted=True, reason="race")
            except ConflictError as exc:
                return exc.code
            return "done"

        with ThreadPoolExecutor(2) as pool:
            results = sorted(pool.map(remove, ("admin1", "admin2"), ("admin2", "admin1")))
        assert results == ["done", "last_admin"]
        assert active_admins(svc, demo.operator_id) == 1
        with svc.db.read() as s:
            gone = s.execute(select(User).where(User.operator_id == demo.operator_id,
                                                User.blacklisted.is_(True))).scalar_one()
        admin.lift_blacklist(svc, SYSTEM, gone.id, "the race is over")


def test_lifting_a_blacklist_needs_a_reason_and_the_users_own_operator(db_url: str) -> None:
    svc, demo = seeded(db_url)
    agent1 = demo.users["agent1"]
    admin1 = actor(svc, "admin1")
    admin.set_user_state(svc, admin1, agent1, blacklisted=True, reason="borrowed a customer's card")
    with pytest.raises(AuthError, match="disabled"):
        login(svc, "agent1", DEMO_PASSWORD)

    with pytest.raises(BadInputError) as no_reason:
        admin.lift_blacklist(svc, admin1, agent1, "  ")
    assert no_reason.value.code == "reason_required"
    with pytest.raises(ForbiddenError):
        admin.lift_blacklist(svc, actor(svc, "super1"), agent1, "a supervisor may not")
    other = admin.create_operator(svc, SYSTEM, "OTHER", "Other Telecom")
    admin.create_user(svc, SYSTEM, "otheradmin", DEMO_PASSWORD, "operator_admin", operator_id=other.id)
    with pytest.raises(NotFoundError):
        admin.lift_blacklist(svc, actor(svc, "otheradmin"), agent1, "another operator may not")
    with pytest.raises(BadInputError):  # the old way round the reason
        admin.set_user_state(svc, admin1, agent1, blacklisted=False)

    lifted = admin.lift_blacklist(svc, admin1, agent1, " checked: the card was the customer's own ")
    assert not lifted.blacklisted and lifted.blacklist_reason is None and lifted.active
    login(svc, "agent1", DEMO_PASSWORD)
    with svc.db.read() as s:
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "agent_blacklist_lifted")).scalar_one()
    assert (event.actor, event.subject) == ("admin1", agent1)
    assert event.payload == {"reason": "checked: the card was the customer's own",
                             "blacklist_reason": "borrowed a customer's card", "active": True}
    with pytest.raises(ConflictError) as again:
        admin.lift_blacklist(svc, admin1, agent1, "again")
    assert again.value.code == "not_blacklisted"

    # A disabled account stays disabled when its blacklist is lifted.
    admin.set_user_state(svc, admin1, agent1, active=False)
    admin.set_user_state(svc, admin1, agent1, blacklisted=True, reason="again")
    assert not admin.lift_blacklist(svc, SYSTEM, agent1, "cleared").active


def test_a_new_users_password_is_not_the_username_or_the_operators_name(db_url: str) -> None:
    svc, _ = seeded(db_url)
    op = admin.create_operator(svc, SYSTEM, "HZLINK", "Hangzhou Link 杭州")
    for username, password in (("wangfang", "wangfang2024"), ("agent7", "hzlink-1234"), ("agent8", "Hangzhou@2024"),
                               ("agent9", "password1!")):
        with pytest.raises(BadInputError) as weak:
            admin.create_user(svc, SYSTEM, username, password, "operator_admin", operator_id=op.id)
        assert weak.value.code == "weak_password", password
    admin.create_user(svc, SYSTEM, "wangfang", "counter-seven-lamp", "operator_admin", operator_id=op.id)
