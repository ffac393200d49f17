"""/metrics of real servers (`realname serve`), two worker processes sharing PROMETHEUS_MULTIPROC_DIR as a
multi-worker deployment does: after a whole registration, a cap refusal and face comparisons, a scrape of either
worker shows the request counters and latency histograms by route template, decisions by outcome, comparison and
live-check timings, failures to acquire, cap refusals, the audit log's size and head age, and the pool gauges,
adding up both workers. Without the metrics token the route is refused; without a configured token it is absent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from tests.operations.flow import Counter, counter
from tests.operations.scrape import samples, value
from tests.operations.scrape import scrape as scrape_url
from tests.support import jpeg_bytes

TOKEN = "metrics-token-for-tests"
NAMES = {
    "realname_http_requests": "counter", "realname_http_request_duration_seconds": "histogram",
    "realname_decisions": "counter", "realname_decision_reasons": "counter", "realname_compare_seconds": "histogram",
    "realname_live_check_seconds": "histogram", "realname_failures_to_acquire": "counter",
    "realname_cap_refusals": "counter", "realname_audit_events": "gauge", "realname_audit_head_age_seconds": "gauge",
    "realname_audit_unbatched_events": "gauge", "realname_audit_tree_head_size": "gauge",
    "realname_audit_tree_head_age_seconds": "gauge",
    "realname_db_pool_connections_in_use": "gauge", "realname_db_pool_connections_open": "gauge",
}


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Counter, Counter]]:
    tmp = tmp_path_factory.mktemp("metrics")
    shared = tmp / "prometheus"
    shared.mkdir()
    # A tree head every second, so the scrape after the flow finds a signed one.
    env = {"REALNAME_METRICS_TOKEN": TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(shared), "REALNAME_LOG_HEAD_SECONDS": "1"}
    # Worker b's live checks fail (face_mismatch): decisions of both outcomes, with a reason code.
    with counter(tmp, "w1", **env) as a, counter(tmp, "w2", **env, REALNAME_FIXED_LIVE_CHECK="fail") as b:
        yield a, b


def scrape(server: Counter, token: str | None = TOKEN) -> httpx.Response:
    return scrape_url(server.url, token)


def test_the_metrics_after_a_whole_registration(workers: tuple[Counter, Counter]) -> None:
    a, b = workers
    agent, admin = a.login("agent1"), a.login("admin1")
    assert httpx.put(a.url + "/v1/admin/cap", headers=admin, json={"cap_per_person": 1}, timeout=30).status_code == 200
    card = a.card()
    first = a.register(agent, card)
    assert first.status_code == 201, first.text
    refused = a.register(agent, card)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "cap_exceeded", refused.text
    registration = httpx.get(f"{b.url}/v1/registrations/{first.json()['id']}", headers=b.login("inspector1"),
                             timeout=30)
    assert registration.status_code == 200, registration.text
    failed = b.verify(b.login("agent1"), b.card())
    assert failed["decision"] == "fail" and failed["reasons"] == ["face_mismatch"], failed
    rng = np.random.default_rng(3)
    face = jpeg_bytes(cv2.GaussianBlur(rng.integers(0, 255, (120, 100, 3), dtype=np.uint8), (5, 5), 0))
    flat = jpeg_bytes(np.full((120, 100, 3), 128, np.uint8))
    for live in (face, flat):  # a match, then no face to compare (a failure to acquire)
        r = httpx.post(b.url + "/v1/faces/compare", headers=b.login("admin1"), timeout=30,
                       files={"document": ("d.jpg", face, "image/jpeg"), "live": ("l.jpg", live, "image/jpeg")})
        assert r.status_code in (200, 422), r.text

    for worker in (a, b):  # either worker answers with both workers' counts
        r = scrape(worker)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain"), r.text
        types, values = samples(r.text)
        assert {name: types.get(name) for name in NAMES} == NAMES
        assert value(values, "realname_http_requests_total", method="POST", route="/v1/registrations",
                     status="201") == 1
        assert value(values, "realname_http_requests_total", method="POST", route="/v1/registrations",
                     status="409") == 1
        assert value(values, "realname_http_requests_total", method="GET",
                     route="/v1/registrations/{registration_id}", status="200") == 1  # served by worker b
        assert value(values, "realname_http_requests_total", method="POST", route="/v1/faces/compare",
                     status="200") == 1  # served by worker b
        assert value(values, "realname_http_request_duration_seconds_count", method="POST",
                     route="/v1/verifications/{verification_id}/capture") == 3
        assert value(values, "realname_decisions_total", outcome="pass") == 2
        assert value(values, "realname_decisions_total", outcome="fail") == 1
        assert value(values, "realname_decision_reasons_total", outcome="fail", reason="face_mismatch") == 1
        assert value(values, "realname_live_check_seconds_count") == 3
        assert value(values, "realname_compare_seconds_count") >= 1
        assert value(values, "realname_failures_to_acquire_total", stage="compare") == 1  # the flat live image
        assert value(values, "realname_cap_refusals_total", cap="per_operator") == 1
        assert value(values, "realname_audit_events") > 10
        assert 0 <= value(values, "realname_audit_head_age_seconds") < 600
        assert value(values, "realname_audit_unbatched_events") >= 0
        assert 0 < value(values, "realname_audit_tree_head_size") <= value(values, "realname_audit_events")
        assert 0 <= value(values, "realname_audit_tree_head_age_seconds") < 600
        assert value(values, "realname_db_pool_connections_open") >= 1
        assert first.json()["id"] not in r.text  # route templates, never a path with an id


def test_the_route_needs_the_token(workers: tuple[Counter, Counter]) -> None:
    a, _ = workers
    for token in (None, "wrong", TOKEN + "x"):
        r = scrape(a, token)
        assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated", r.text
        assert "realname_" not in r.text


def test_without_a_token_there_is_no_route(tmp_path: Path) -> None:
    with counter(tmp_path) as c:
        r = scrape(c, TOKEN)
        assert r.status_code == 404 and "realname_" not in r.text
