"""A method a path does not have is answered 405 in the JSON error format, with an ``Allow`` header that lists
exactly the methods of every route at that path (RFC 9110 15.5.6): none it lacks, none it has left out. OPTIONS is
one such method: the pages are same-origin and there is no CORS, so nothing needs a pre-flight answer.

The paths and their methods are read from the app itself, so a new route is covered without editing this file."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from realname.api.app import create_app
from realname.config import Settings
from realname.registry.migrate import upgrade

ROUTE_APP = create_app(Settings(database_url="sqlite://", test_mode=True))  # for collection only: never started
UNUSED = ("OPTIONS", "DELETE", "PATCH", "PUT", "POST", "TRACE")


def methods_by_path() -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for ctx in iter_route_contexts(ROUTE_APP.routes):
        if ctx.path and ctx.methods:
            found[ctx.path] |= set(ctx.methods)
    return dict(found)


PATHS = methods_by_path()


def url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    db = f"sqlite:///{tmp_path_factory.mktemp('methods') / 'r.db'}"
    upgrade(db)
    return TestClient(create_app(Settings(database_url=db, engine="fake", test_mode=True)),
                      raise_server_exceptions=False, follow_redirects=False)


def test_the_paths_are_found() -> None:
    assert {"/v1/reports", "/v1/admin/users", "/static/{name:path}", "/kiosk"} <= set(PATHS)
    assert PATHS["/v1/admin/users"] == {"GET", "POST"}  # two routes at one path


@pytest.mark.parametrize("path", sorted(PATHS))
def test_a_method_the_path_lacks_is_405_with_its_methods_in_allow(client: TestClient, path: str) -> None:
    allowed = PATHS[path]
    for method in (m for m in UNUSED if m not in allowed):
        r = client.request(method, url(path))
        assert r.status_code == 405, (method, path, r.status_code, r.text)
        assert r.headers["allow"] == ", ".join(sorted(allowed)), (method, path, r.headers["allow"])
        assert r.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("path", sorted(PATHS))
def test_every_method_in_allow_is_served(client: TestClient, path: str) -> None:
    """Allow names a method only where true: each answers something other than 405 (401, 422, 404 for the
    dummy id... are all fine here)."""
    for method in sorted(PATHS[path]):
        r = client.request(method, url(path))
        # /readyz answers 503 by design here: this app has no keyring.
        assert r.status_code != 405 and (r.status_code < 500 or path == "/readyz"), (method, path, r.status_code,
                                                                                    r.text)


def test_head_of_a_get_only_api_route_names_get_alone(client: TestClient) -> None:
    r = client.head("/v1/me")
    assert r.status_code == 405 and r.headers["allow"] == "GET"


