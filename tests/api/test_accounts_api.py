"""Accounts over HTTP, on SQLite and PostgreSQL: login throttling per username and per client address (429
``too_many_logins`` with Retry-After, audited with the address), lifting a blacklist with a reason, and a common
password refused when an administrator adds a user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.registry_support import Clock, seeded

from realname.api.app import create_app
from realname.context import Services
from realname.operators.demo import DEMO_PASSWORD
from realname.registry.tables import AuditEvent


@contextmanager
def app_for(db_url: str, **settings: Any) -> Iterator[tuple[FastAPI, Services, Any]]:
    svc, demo = seeded(db_url, **settings)
    yield create_app(svc.settings, services=svc), svc, demo


def log_in(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> httpx.Response:
    r: httpx.Response = client.post("/v1/auth/login", json={"username": username, "password": password})
    return r


def auth(client: TestClient, username: str) -> dict[str, str]:
    r = log_in(client, username)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


def events(svc: Services, action: str) -> list[AuditEvent]:
    with svc.db.read() as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
                    .scalars())


def test_logins_are_throttled_per_username_and_per_client(db_url: str) -> None:
    clock = Clock()
    with app_for(db_url, clock=clock, login_max_failures=3, login_client_max_failures=4) as (app, svc, _), \
            TestClient(app, client=("10.0.0.7", 40000)) as kiosk, TestClient(app, client=("10.0.0.8", 40000)) as other:
        for _ in range(3):
            r = log_in(kiosk, "agent1", "not-the-password")
            assert r.status_code == 401 and code(r) == "bad_credentials"
        r = log_in(kiosk, "agent1")  # the right password, during the lock
        assert r.status_code == 429 and code(r) == "too_many_logins", r.text
        assert r.headers["retry-after"] == "60" and "try again" in r.json()["error"]["message"]
        assert log_in(other, "agent1").status_code == 429  # the username is locked from everywhere
        assert log_in(kiosk, "super1").status_code == 200  # other usernames from this address: not yet

        r = log_in(kiosk, "nobody", "guess-guess")  # the address's fourth failure locks the address
        assert r.status_code == 401
        assert log_in(kiosk, "admin1").status_code == 429
        assert log_in(other, "admin1").status_code == 200

        clock.advance(minutes=1)
        assert log_in(kiosk, "agent1").status_code == 200
        locks = [(e.actor, e.payload) for e in events(svc, "login_locked")]
        assert locks == [("agent1", {"scope": "user", "minutes": 1.0, "client": "10.0.0.7"}),
                         ("nobody", {"scope": "client", "minutes": 1.0, "client": "10.0.0.7"})]
        assert [e.payload["client"] for e in events(svc, "login_throttled")] == ["10.0.0.7", "10.0.0.8", "10.0.0.7"]


def test_an_admin_lifts_a_blacklist_with_a_reason(db_url: str) -> None:
    with app_for(db_url) as (app, svc, demo), TestClient(app) as client:
        admin = auth(client, "admin1")
        agent1 = demo.users["agent1"]
        r = client.post(f"/v1/admin/users/{agent1}/blacklist", headers=admin, json={"reason": "fraud"})
        assert r.status_code == 200, r.text
        assert code(log_in(client, "agent1")) == "account_disabled"

        r = client.post(f"/v1/admin/users/{agent1}/unblacklist", headers=admin, json={"reason": ""})
        assert r.status_code == 422
        r = client.post(f"/v1/admin/users/{agent1}/unblacklist", headers=auth(client, "super1"),
                        json={"reason": "not mine to lift"})
        assert r.status_code == 403
        r = client.post(f"/v1/admin/users/{agent1}/unblacklist", headers=admin, json={"reason": "cleared by HR"})
        assert r.status_code == 200 and r.json() == {"id": agent1}, r.text
        assert log_in(client, "agent1").status_code == 200
        row = next(u for u in client.get("/v1/admin/users", headers=admin).json() if u["id"] == agent1)
        assert (row["blacklisted"], row["blacklist_reason"], row["active"]) == (False, None, True)
        [lifted] = events(svc, "agent_blacklist_lifted")
        assert lifted.actor == "admin1" and lifted.payload["reason"] == "cleared by HR"
        r = client.post(f"/v1/admin/users/{agent1}/unblacklist", headers=admin, json={"reason": "twice"})
        assert r.status_code == 409 and code(r) == "not_blacklisted"


def test_an_admin_cannot_give_a_new_user_a_common_password(db_url: str) -> None:
    with app_for(db_url) as (app, _, demo), TestClient(app) as client:
        admin = auth(client, "admin1")
        body = {"username": "agent5", "role": "agent", "outlet_id": demo.outlet_id}
        for weak in ("password123", "12345678", "agent5-2024"):
            r = client.post("/v1/admin/users", headers=admin, json=body | {"password": weak})
            assert r.status_code == 422 and code(r) == "weak_password", (weak, r.text)
        r = client.post("/v1/admin/users", headers=admin, json=body | {"password": "lamp-river-agent"})
        assert r.status_code == 201, r.text
