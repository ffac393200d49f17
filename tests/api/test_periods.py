"""Dates in the query of every period route (/v1/reports, /v1/reports/sample, /v1/signals, /v1/inspect/*): only
strict YYYY-MM-DD days in the range a report covers are taken; anything else, however far off or oddly written,
is a 422 with a stable code (``bad_date``, or ``bad_period`` for a backwards or too long period), never a 5xx,
and a refused request leaves nothing in the audit chain."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from tests.api.test_roles import login
from tests.registry_support import seeded

from realname.api.app import create_app
from realname.context import Services
from realname.registry.migrate import upgrade
from realname.registry.tables import AuditEvent
from realname.supervision.period import EARLIEST

ROUTES = ("/v1/reports", "/v1/reports/sample", "/v1/signals", "/v1/inspect/summary", "/v1/inspect/registrations.csv")
OPTIONAL = ("/v1/inspect/summary",)  # start and end default to the last 30 days
TODAY = datetime.now(UTC).date()


@dataclass
class Env:
    client: TestClient
    svc: Services
    headers: dict[str, str]

    def get(self, path: str, query: dict[str, str]) -> httpx.Response:
        r: httpx.Response = self.client.get(path, params=query, headers=self.headers)
        return r

    def events(self) -> int:
        with self.svc.db.read() as s:
            return int(s.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    url = f"sqlite:///{tmp_path_factory.mktemp('periods') / 'registry.db'}"
    upgrade(url)
    svc, _ = seeded(url, timezone="Asia/Shanghai")  # a zone east of UTC: day bounds cross midnight UTC
    with TestClient(create_app(svc.settings, services=svc), raise_server_exceptions=False) as client:
        yield Env(client, svc, {"Authorization": f"Bearer {login(client, 'inspector1')}"})


def code(r: httpx.Response) -> str | None:
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else None
    return str(body["error"]["code"]) if isinstance(body, dict) and "error" in body else None


BAD_DAYS = ["0001-01-01", "0001-01-05", "9999-12-31", "1999-12-31", (TODAY + timedelta(days=400)).isoformat(),
            "0", "1700000000", "-1", "20240101", "2024-W01-1", "2024-01-01T00:00", "2024-01-01 ", " 2024-01-01",
            "2024-02-30", "2024-1-1", "２０２４-０１-０１", "", "x", "2024-01-01\n", "1e9", "99999-01-01"]


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("bad", BAD_DAYS)
def test_a_bad_day_is_refused_as_bad_date(env: Env, path: str, bad: str) -> None:
    good = (TODAY - timedelta(days=1)).isoformat()
    before = env.events()
    for query in ({"start": bad, "end": bad}, {"start": bad, "end": good}, {"start": good, "end": bad}):
        r = env.get(path, query)
        assert (r.status_code, code(r)) == (422, "bad_date"), (query, r.status_code, r.text)
        assert "YYYY-MM-DD" in r.json()["error"]["message"] or str(EARLIEST) in r.json()["error"]["message"]
    assert env.events() == before  # refused before anything is done or audited


@pytest.mark.parametrize("path", OPTIONAL)
@pytest.mark.parametrize("bad", ["0", "0001-01-05", "9999-12-31"])
def test_a_bad_day_alone_is_refused_too(env: Env, path: str, bad: str) -> None:
    for query in ({"end": bad}, {"start": bad}):
        r = env.get(path, query)
        assert (r.status_code, code(r)) == (422, "bad_date"), (query, r.text)


def test_the_range_is_stated(env: Env) -> None:
    message = env.get("/v1/reports", {"start": "9999-12-31", "end": "9999-12-31"}).json()["error"]["message"]
    assert message.startswith("query.start:") and str(EARLIEST) in message


@pytest.mark.parametrize("path", ROUTES)
def test_backwards_or_too_long_periods_are_bad_period(env: Env, path: str) -> None:
    for start, end in ((TODAY, TODAY - timedelta(days=1)), (TODAY - timedelta(days=400), TODAY)):
        r = env.get(path, {"start": start.isoformat(), "end": end.isoformat()})
        assert (r.status_code, code(r)) == (422, "bad_period"), r.text


@pytest.mark.parametrize("path", ROUTES)
def test_the_range_edges_are_taken(env: Env, path: str) -> None:
    last = TODAY + timedelta(days=366)
    for start, end in ((EARLIEST, EARLIEST + timedelta(days=1)), (last - timedelta(days=1), last)):
        r = env.get(path, {"start": start.isoformat(), "end": end.isoformat()})
        assert r.status_code == 200, r.text


@pytest.mark.parametrize("path", OPTIONAL)
def test_the_default_start_stays_in_range(env: Env, path: str) -> None:
    r = env.get(path, {"end": (EARLIEST + timedelta(days=3)).isoformat()})
    assert r.status_code == 200 and r.json()["period"]["start"] == EARLIEST.isoformat(), r.text


days = st.one_of(st.dates().map(date.isoformat), st.text(max_size=12),
                 st.integers(min_value=-10**12, max_value=10**12).map(str))


@pytest.mark.parametrize("path", ROUTES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=days, end=days)
def test_no_date_gives_a_server_error(env: Env, path: str, start: str, end: str) -> None:
    r = env.get(path, {"start": start, "end": end})
    assert r.status_code == 200 or (r.status_code == 422 and code(r) in ("bad_date", "bad_period")), (
        start, end, r.status_code, r.text)
