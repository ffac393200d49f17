"""The screen-light challenge through the API on a real database: the server draws the colours, signs them into
the challenge and keeps them with the verification; the capture must say when each colour appeared; the
operator can switch the check off, and the compliance evidence says so."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from tests.registry_support import portrait_bytes, prc_card, seeded

from realname.api.app import create_app
from realname.context import Services
from realname.live_check import FixedLiveCheck
from realname.liveness.light import decode
from realname.operators.auth import ROLES
from realname.operators.demo import DEMO_PASSWORD, DEMO_USERS
from realname.registry.migrate import upgrade
from realname.registry.tables import AuditEvent, Verification


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[tuple[TestClient, Services, FixedLiveCheck, dict[str, dict[str, str]]]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('light') / 'r.db'}"
    upgrade(url)
    check = FixedLiveCheck("pass")
    svc, _ = seeded(url, live_check=check, light_check=True)
    with TestClient(create_app(svc.settings, services=svc)) as client:
        auth = {}
        for username, role in DEMO_USERS:
            r = client.post("/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
            auth[role] = {"Authorization": f"Bearer {r.json()['token']}"}
        assert set(auth) == set(ROLES)
        yield client, svc, check, auth


def _frames(n: int = 6) -> list[tuple[str, tuple[str, bytes, str]]]:
    rng = np.random.default_rng(n)
    out = []
    for i in range(n):
        ok, buf = cv2.imencode(".png", rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
        assert ok
        out.append(("frames", (f"f{i}.png", buf.tobytes(), "image/png")))
    return out


def _open_and_start(client: TestClient, auth: dict[str, str]) -> dict[str, Any]:
    body = {"card": prc_card(), "portrait": base64.b64encode(portrait_bytes()).decode(),
            "consent_face_processing": True}
    r = client.post("/v1/verifications", headers=auth, json=body)
    assert r.status_code == 201, r.text
    opened: dict[str, Any] = r.json()
    r = client.post(f"/v1/verifications/{opened['id']}/start", headers=auth,
                    json={"challenge": opened["challenge"]["token"]})
    assert r.status_code == 200, r.text
    return opened


def test_the_challenge_carries_signed_random_colours(api: Any) -> None:
    client, svc, _, auth = api
    opened = _open_and_start(client, auth["agent"])
    flash = opened["challenge"]["flash"]
    assert 16 <= len(flash) <= 20 and all(f["color"].startswith("#") and 120 <= f["ms"] <= 200 for f in flash)
    payload = json.loads(base64.urlsafe_b64decode(opened["challenge"]["token"].split(".")[0] + "=="))
    with svc.db.read() as s:
        v = s.get(Verification, opened["id"])
        assert v is not None and v.challenge_flash == payload["f"]
        assert [f"#{f.hex}" for f in decode(v.challenge_flash)] == [f["color"] for f in flash]
    second = _open_and_start(client, auth["agent"])["challenge"]["flash"]
    assert second != flash  # drawn anew for every challenge


@pytest.mark.parametrize(("times", "why"), [(None, "missing"), ("1,2,3", "too few"), ("reversed", "decreasing"),
                                            ("nan-first", "not finite"), ("1,x", "not numbers")])
def test_a_capture_must_say_when_each_colour_appeared(api: Any, times: str | None, why: str) -> None:
    client, svc, check, auth = api
    opened = _open_and_start(client, auth["agent"])
    n = len(opened["challenge"]["flash"])
    values = [1.0 + 0.2 * i for i in range(n)]
    text = {None: None, "1,2,3": "1,2,3", "reversed": ",".join(str(v) for v in values[::-1]),
            "nan-first": ",".join(["nan", *map(str, values[1:])]), "1,x": "1,x"}[times]
    data = {"timestamps": ",".join(str(i / 10) for i in range(6))} | ({"flash_times": text} if text else {})
    seen = check.frames_seen
    r = client.post(f"/v1/verifications/{opened['id']}/capture", headers=auth["agent"], files=_frames(), data=data)
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_flash_times", (why, r.text)
    with svc.db.read() as s:
        v = s.get(Verification, opened["id"])
        assert v is not None and v.status == "capturing"  # a bad capture changes nothing
    assert check.frames_seen == seen


def test_the_sequence_and_its_times_reach_the_live_check(api: Any) -> None:
    client, svc, check, auth = api
    opened = _open_and_start(client, auth["agent"])
    n = len(opened["challenge"]["flash"])
    times = [round(0.9 + 0.2 * i, 4) for i in range(n)]
    r = client.post(f"/v1/verifications/{opened['id']}/capture", headers=auth["agent"], files=_frames(),
                    data={"timestamps": ",".join(str(i / 10) for i in range(6)),
                          "flash_times": ",".join(f"{t:.4f}" for t in times)})
    assert r.status_code == 200 and r.json()["decision"] == "pass", r.text
    assert check.light is not None and check.light.onsets == tuple(times)
    assert [f"#{f.hex}" for f in check.light.flashes] == [f["color"] for f in opened["challenge"]["flash"]]
    with svc.db.read() as s:
        decision = s.query(AuditEvent).filter(AuditEvent.action == "decision").one()
        assert decision.payload["light_check"] is True


def test_an_operator_can_switch_the_check_off_and_the_compliance_evidence_says_so(api: Any) -> None:
    client, _, check, auth = api
    r = client.put("/v1/admin/settings", headers=auth["operator_admin"], json={"light_check": False})
    assert r.status_code == 200 and r.json()["light_check"] is False, r.text
    opened = _open_and_start(client, auth["agent"])
    assert opened["challenge"]["flash"] is None
    r = client.post(f"/v1/verifications/{opened['id']}/capture", headers=auth["agent"], files=_frames(),
                    data={"timestamps": ",".join(str(i / 10) for i in range(6))})
    assert r.status_code == 200, r.text
    assert check.light is None
    r = client.get("/v1/compliance", headers=auth["inspector"])
    body = r.json()
    assert body["settings"]["light_check"] == {"DEMO": False}
    assert any("screen-light check is off for DEMO" in p for p in body["problems"]), body["problems"]
    client.put("/v1/admin/settings", headers=auth["operator_admin"], json={"light_check": True})
    body = client.get("/v1/compliance", headers=auth["inspector"]).json()
    assert body["settings"]["light_check"] == {"DEMO": True} and not any("screen-light" in p for p in body["problems"])
