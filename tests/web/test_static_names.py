"""Odd names under /static/ are a plain 404 ``not_found``, never a 5xx: a NUL byte, names too long for the file
system, backslashes, odd unicode, dot-files and ways out of the folder. The real files are still served."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realname.api.app import create_app
from realname.config import Settings
from realname.web.routes import STATIC


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp: Path = tmp_path_factory.mktemp("static")
    return TestClient(create_app(Settings(database_url=f"sqlite:///{tmp / 'r.db'}", engine="fake")),
                      raise_server_exceptions=False)


ODD = ["x%00.png", "app.css%00.png", "%00", "app.css%00", "a" * 300 + ".png", "a/" * 3000 + "x.png",
       "%2F" * 200 + "x.png", "..\\routes.py", "a\\b.png", "%5C..%5Crouteѕ.py", "%C0%AE%C0%AE/routes.py",
       "%ff.png", "é.png", "app.css%E2%80%8B", "ａｐｐ.ｃｓｓ", "app.CSS", "%0Aapp.css", "app.css/", "~",
       "%252e%252e/routes.py", "static/app.css", "/etc/passwd",
       "app.css:stream", "app.css::$DATA", "%F0%9F%98%80.js", "%E2%80%AE.png", "con.png", "%20app.css"]


@pytest.mark.parametrize("name", ODD)
def test_odd_names_are_not_found(client: TestClient, name: str) -> None:
    for method in ("GET", "HEAD"):
        r = client.request(method, f"/static/{name}")
        assert r.status_code == 404, (method, name, r.status_code, r.text[:200])
        if method == "GET":
            assert r.json()["error"]["code"] == "not_found"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_no_name_gives_a_server_error(client: TestClient, name: str) -> None:
    r = client.get("/static/" + "".join(f"%{b:02X}" for b in name.encode("utf-8", "surrogatepass")))
    assert r.status_code in (200, 404), (name, r.status_code, r.text[:200])


def test_the_real_files_are_still_served(client: TestClient) -> None:
    names = [p.name for p in STATIC.iterdir() if p.is_file() and not p.name.startswith(".")]
    assert len(names) >= 10
    for name in names:
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and r.content == (STATIC / name).read_bytes(), name
