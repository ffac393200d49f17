"""The pages and their static files as served by the app (no browser): types, the security headers, no way out of
the static folder, and nothing loaded from another host."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from realname.api.app import create_app
from realname.config import Settings
from realname.web.routes import STATIC


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp = tmp_path_factory.mktemp("routes")
    return TestClient(create_app(Settings(database_url=f"sqlite:///{tmp / 'r.db'}", engine="fake")))


@pytest.mark.parametrize("path", ["/kiosk", "/office"])
def test_pages_are_served_with_a_strict_content_security_policy(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert '<html lang="zh-CN">' in r.text
    assert client.head(path).status_code == 200


def test_root_goes_to_the_kiosk(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/kiosk"


@pytest.mark.parametrize(("name", "kind"), [("kiosk.js", "text/javascript"), ("app.css", "text/css"),
                                            ("favicon.svg", "image/svg+xml"), ("i18n.js", "text/javascript")])
def test_static_files_have_their_types(client: TestClient, name: str, kind: str) -> None:
    r = client.get(f"/static/{name}")
    assert r.status_code == 200 and r.headers["content-type"].startswith(kind)


@pytest.mark.parametrize("path", ["/static/../routes.py", "/static/%2e%2e/routes.py", "/static/..%2Froutes.py",
                                  "/static/nope.js", "/static/", "/static/.hidden.js", "/static/%2Fetc%2Fpasswd"])
def test_nothing_outside_the_static_folder(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404, (path, r.status_code)
    assert "import" not in r.text


def test_every_file_is_served_from_this_app_only() -> None:
    """No CDN, no web font, no external script: the only URLs in the static files are the SVG namespace."""
    files = [p for p in STATIC.iterdir() if p.suffix in (".html", ".js", ".css", ".svg")]
    assert {p.name for p in files} >= {"kiosk.html", "office.html", "app.css", "i18n.js", "api.js", "kiosk.js",
                                       "office.js", "charts.js"}
    for path in files:
        urls = set(re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'`)]*", _code(path)))
        assert urls <= {"http://www.w3.org/2000/svg"}, (path.name, urls)


def _code(path: Path) -> str:
    """The file without comments (which may mention a URL)."""
    text = path.read_text(encoding="utf-8")
    return re.sub(r"^\s*//.*$|/\*.*?\*/|<!--.*?-->", "", text, flags=re.S | re.M)
