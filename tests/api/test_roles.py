"""Every secured route against every role, read from the app itself (not a hand-written list).

A route is secured when it is declared with ``**secured("operation")``, which puts ``x-operation`` in its
``openapi_extra``; the roles allowed come from ``services.auth.PERMISSIONS``. For each such route and each role in
``services.auth.ROLES`` the route is called with a minimal valid body (made from the route's OpenAPI request schema)
and dummy path ids: a role not in the table gets 403 ``forbidden``, an allowed role gets past the check (neither 401
nor 403: typically 404 for the dummy id, or 422 from the service), and no token or a bad token gets 401. SQLite only:
this is about the access table, not the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from tests.registry_support import Clock, seeded

from realname.api.app import create_app
from realname.config import Settings
from realname.context import Services
from realname.operators.auth import PERMISSIONS, ROLES
from realname.operators.demo import DEMO_PASSWORD, DEMO_USERS
from realname.registry.migrate import upgrade

PUBLIC = {("POST", "/v1/auth/login")}
ANY_LOGGED_IN = {("POST", "/v1/auth/logout"), ("GET", "/v1/me")}  # no operation: any logged-in user
USER_OF_ROLE = {role: username for username, role in DEMO_USERS}
DUMMY_ID = "no-such-id-0000"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as declared, with {params}
    route: APIRoute

    @property
    def operation(self) -> str | None:
        op = (self.route.openapi_extra or {}).get("x-operation")
        return str(op) if op is not None else None

    @property
    def url(self) -> str:
        return re.sub(r"\{[^}]+\}", DUMMY_ID, self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every HTTP endpoint the app serves, with its full path (``iter_route_contexts`` walks included routers)."""
    found = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, APIRoute) and ctx.path:
            found += [Endpoint(m, ctx.path, route) for m in sorted(ctx.methods or ()) if m != "HEAD"]
    return found


def secured_endpoints(app: FastAPI) -> list[Endpoint]:
    return [e for e in endpoints(app) if e.operation is not None]


# --- minimal bodies from the OpenAPI request schema ----------------------------------------------------------------

def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def example(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """The smallest value the schema accepts: required properties only, shortest strings, lowest numbers."""
    schema = _resolve(schema, components)
    if "anyOf" in schema:
        return example(next(s for s in schema["anyOf"] if s.get("type") != "null"), components)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        required = set(schema.get("required", ()))
        return {k: example(v, components) for k, v in schema.get("properties", {}).items() if k in required}
    if kind == "string":
        return "x" * max(1, int(schema.get("minLength", 1)))
    if kind == "integer":
        return int(schema.get("minimum", 1))  # OpenAPI writes the bound as 1.0
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if kind == "array":
        return [example(schema.get("items", {"type": "string"}), components)] * int(schema.get("minItems", 0))
    raise AssertionError(f"no example for schema {schema}")


def request_body(app: FastAPI, endpoint: Endpoint) -> tuple[str | None, dict[str, Any] | None]:
    """(media type, JSON schema) of the endpoint's request body, or (None, None) when it takes none."""
    spec = app.openapi()
    operation = spec["paths"][endpoint.path][endpoint.method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    for media, body in content.items():
        return media, _resolve(body["schema"], spec["components"]["schemas"])
    return None, None


def minimal_body(app: FastAPI, endpoint: Endpoint, svc: Services) -> dict[str, Any] | None:
    """A minimal valid JSON body, or None for routes without a JSON body (multipart uploads are sent empty).
    A ``challenge`` is a real signed token (a made-up one is refused with 403 before the verification is looked
    up, which would hide whether the role got through)."""
    media, schema = request_body(app, endpoint)
    if media != "application/json" or schema is None:
        return None
    body = example(schema, app.openapi()["components"]["schemas"])
    assert isinstance(body, dict)
    if "challenge" in body:
        body["challenge"] = svc.signer.issue(now=svc.now().timestamp())
    return body


# --- the app under test ----------------------------------------------------------------------------------------------

ROUTE_APP = create_app(Settings(database_url="sqlite://", test_mode=True))  # for collection only: never started
SECURED = secured_endpoints(ROUTE_APP)


@dataclass
class Env:
    app: FastAPI
    client: TestClient
    svc: Services
    clock: Clock
    tokens: dict[str, str]  # role -> token

    def call(self, endpoint: Endpoint, token: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        body = minimal_body(self.app, endpoint, self.svc)
        r: httpx.Response = self.client.request(endpoint.method, endpoint.url, headers=headers, json=body)
        return r


def error_code(r: httpx.Response) -> str | None:
    body = r.json() if r.content else None
    return str(body["error"]["code"]) if isinstance(body, dict) and "error" in body else None


def login(client: TestClient, username: str) -> str:
    r = client.post("/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    url = f"sqlite:///{tmp_path_factory.mktemp('roles') / 'registry.db'}"
    upgrade(url)
    clock = Clock()
    svc, _ = seeded(url, clock=clock)
    app = create_app(svc.settings, services=svc)
    with TestClient(app) as client:
        yield Env(app, client, svc, clock, {role: login(client, USER_OF_ROLE[role]) for role in ROLES})


# --- the route table -------------------------------------------------------------------------------------------------

def test_secured_routes_are_found_and_publish_their_roles() -> None:
    assert SECURED, "no route declares x-operation: the enumeration found nothing to check"
    assert {r for _, r in DEMO_USERS} == set(ROLES), "the demo has one user per role"
    spec = ROUTE_APP.openapi()
    for e in SECURED:
        assert e.operation in PERMISSIONS, f"{e}: unknown operation {e.operation}"
        published = spec["paths"][e.path][e.method.lower()]
        assert published["x-operation"] == e.operation
        assert published["x-roles"] == sorted(PERMISSIONS[e.operation]), f"{e}: x-roles differ from PERMISSIONS"


# The route modules of the registry API (what was once one module, registry_routes).
REGISTRY_MODULES = {f"realname.api.routes.{name}"
                    for name in ("auth", "verifications", "registrations", "admin", "audit", "inspection")}


def test_every_registry_route_is_secured_or_listed() -> None:
    registry = [e for e in endpoints(ROUTE_APP) if e.route.endpoint.__module__ in REGISTRY_MODULES]
    assert {e.route.endpoint.__module__ for e in registry} == REGISTRY_MODULES, "a registry route module was renamed"
    assert registry and all(e.path.startswith("/v1/") for e in registry)
    unsecured = {(e.method, e.path) for e in registry if e.operation is None}
    assert unsecured == PUBLIC | ANY_LOGGED_IN, "a registry route without **secured(...) must be listed here"


def test_every_v1_route_is_secured_or_listed() -> None:
    unsecured = {(e.method, e.path) for e in endpoints(ROUTE_APP)
                 if e.path.startswith("/v1/") and e.operation is None}
    assert unsecured == PUBLIC | ANY_LOGGED_IN


# --- each secured route, each role -----------------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint", SECURED, ids=str)
def test_route_admits_exactly_the_roles_in_the_table(env: Env, endpoint: Endpoint) -> None:
    assert endpoint.operation is not None
    allowed = PERMISSIONS[endpoint.operation]
    wrong = []
    for role in ROLES:
        r = env.call(endpoint, env.tokens[role])
        code = error_code(r)
        if role in allowed and r.status_code in (401, 403):
            wrong.append(f"{role} is allowed but got {r.status_code} {r.text}")
        if role not in allowed and (r.status_code, code) != (403, "forbidden"):
            wrong.append(f"{role} is not allowed but got {r.status_code} {r.text}")
    assert not wrong, f"{endpoint} ({endpoint.operation}):\n" + "\n".join(wrong)

    anonymous = env.call(endpoint, None)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "not_authenticated", anonymous.text
    assert anonymous.headers["www-authenticate"] == "Bearer"
    for bad in ("not-a-token", env.tokens["agent"] + "x"):
        forged = env.call(endpoint, bad)
        assert forged.status_code == 401, forged.text


@pytest.mark.parametrize(("method", "path"), sorted(ANY_LOGGED_IN))
def test_any_logged_in_user_routes(env: Env, method: str, path: str) -> None:
    for role in ROLES:
        token = login(env.client, USER_OF_ROLE[role])  # a fresh one: logout ends it
        r = env.client.request(method, path, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code in (200, 204), f"{role}: {r.status_code} {r.text}"
        if path == "/v1/me":
            assert r.json()["role"] == role and r.json()["username"] == USER_OF_ROLE[role]
    r = env.client.request(method, path)
    assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated"


def test_logout_ends_the_token(env: Env) -> None:
    token = login(env.client, "agent1")
    auth = {"Authorization": f"Bearer {token}"}
    assert env.client.get("/v1/me", headers=auth).status_code == 200
    assert env.client.post("/v1/auth/logout", headers=auth).status_code == 204
    r = env.client.get("/v1/me", headers=auth)
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_expired"


def test_expired_token_and_disabled_account(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'own.db'}"  # its own database: this test moves the clock and blacklists
    upgrade(url)
    clock = Clock()
    svc, demo = seeded(url, clock=clock)
    with TestClient(create_app(svc.settings, services=svc)) as client:
        agent, admin = login(client, "agent1"), login(client, "admin1")
        r = client.post(f"/v1/admin/users/{demo.users['agent1']}/blacklist", json={"reason": "fraud"},
                        headers={"Authorization": f"Bearer {admin}"})
        assert r.status_code == 200, r.text
        r = client.get("/v1/me", headers={"Authorization": f"Bearer {agent}"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "account_disabled"
        r = client.post("/v1/auth/login", json={"username": "agent1", "password": DEMO_PASSWORD})
        assert r.status_code == 401 and r.json()["error"]["code"] == "account_disabled"
        clock.advance(minutes=svc.settings.token_minutes + 1)
        r = client.get("/v1/me", headers={"Authorization": f"Bearer {admin}"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "token_expired"
