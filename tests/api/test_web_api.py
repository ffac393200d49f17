"""The endpoints behind the kiosk and back-office pages, on SQLite and PostgreSQL: operator settings, the admin
lists, live feedback during capture (fake engine), the receipt, the review queue's detail and the inspection
summary and CSV. Every JSON response is checked for scores, full document numbers and names."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import cv2
import httpx
import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.api.test_registry_api import frame_files, score_keys, timestamps
from tests.registry_support import portrait_bytes, prc_card, seeded

from realname import reasons
from realname.api.app import create_app
from realname.context import Services
from realname.live_check import FixedLiveCheck
from realname.operators.admin import DEFAULT_MANUAL_PATH
from realname.operators.demo import DEMO_PASSWORD
from realname.registry.tables import AuditEvent

Headers = dict[str, str]


@dataclass
class Pages:
    client: TestClient
    svc: Services
    demo: Any
    seen: list[tuple[str, str]] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)  # full document numbers and names that must never be answered

    def record(self, response: httpx.Response) -> None:
        response.read()
        if response.headers.get("content-type", "").startswith("application/json"):
            self.seen.append((f"{response.request.method} {response.request.url.path}", response.text))

    def login(self, username: str) -> Headers:
        r = self.client.post("/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def card(self, **kw: Any) -> dict[str, Any]:
        card = prc_card(**kw)
        self.secrets.update((card["number"], card["name"]))
        return card

    def open(self, auth: Headers, card: dict[str, Any] | None = None) -> dict[str, Any]:
        r = self.client.post("/v1/verifications", headers=auth, json={
            "card": card or self.card(), "portrait": base64.b64encode(portrait_bytes()).decode(),
            "consent_face_processing": True})
        assert r.status_code == 201, r.text
        opened: dict[str, Any] = r.json()
        return opened

    def verify(self, auth: Headers, card: dict[str, Any] | None = None) -> dict[str, Any]:
        opened = self.open(auth, card)
        r = self.client.post(f"/v1/verifications/{opened['id']}/start", headers=auth,
                             json={"challenge": opened["challenge"]["token"]})
        assert r.status_code == 200, r.text
        r = self.client.post(f"/v1/verifications/{opened['id']}/capture", headers=auth, files=frame_files(),
                             data={"timestamps": timestamps()})
        assert r.status_code == 200, r.text
        decided: dict[str, Any] = r.json()
        return decided

    def register(self, auth: Headers, card: dict[str, Any] | None = None) -> dict[str, Any]:
        r = self.client.post("/v1/registrations", headers=auth, json={"verification_id": self.verify(auth, card)["id"]})
        assert r.status_code == 201, r.text
        reg: dict[str, Any] = r.json()
        return reg

    def audit(self, action: str) -> list[AuditEvent]:
        with self.svc.db.read() as s:
            return list(s.execute(select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.seq)).scalars())

    def assert_nothing_leaked(self) -> None:
        for request, text in self.seen:
            assert not score_keys(json.loads(text)), f"{request} answered a score: {text}"
            for secret in self.secrets:
                assert secret not in text, f"{request} answered {secret!r}: {text}"


@contextmanager
def pages(db_url: str, **kw: Any) -> Iterator[Pages]:
    svc, demo = seeded(db_url, **kw)
    with TestClient(create_app(svc.settings, services=svc)) as client:
        p = Pages(client, svc, demo)
        client.event_hooks["response"] = [p.record]
        yield p
    p.assert_nothing_leaked()


def error(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


def jpeg(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


def textured(level: int = 128, spread: int = 100) -> bytes:
    """A picture with structure (the fake engine finds a face in its centre), of the given mean brightness."""
    rng = np.random.default_rng(7)
    img = rng.integers(max(0, level - spread), min(255, level + spread), (240, 320, 3), dtype=np.uint8)
    return jpeg(img if spread < 50 else cv2.GaussianBlur(img, (5, 5), 0))


# --- operator settings -------------------------------------------------------------------------------------------

def test_operator_settings_are_read_changed_audited_and_used(db_url: str) -> None:
    with pages(db_url) as p:
        agent, admin = p.login("agent1"), p.login("admin1")
        r = p.client.get("/v1/operator/settings", headers=agent)
        assert r.status_code == 200, r.text
        # light_check: the test services turn the light check off globally (tests/registry_support.py)
        assert r.json() == {"cap_per_person": 5, "challenge_actions": 3, "manual_path": DEFAULT_MANUAL_PATH,
                            "light_check": False, "retention_years_after_service": 2, "session_retention_days": 90,
                            "require_enrolled_kiosks": False, "card_readers": "optional",
                            "operator": {"id": p.demo.operator_id, "code": "DEMO", "name": "演示电信 Demo Telecom"}}
        assert len(p.open(agent)["challenge"]["actions"]) == 3

        r = p.client.put("/v1/admin/settings", headers=admin,
                         json={"challenge_actions": 4, "manual_path": "请到2号柜台", "cap_per_person": 2})
        assert r.status_code == 200, r.text
        assert r.json()["challenge_actions"] == 4 and r.json()["manual_path"] == "请到2号柜台"
        assert r.json()["cap_per_person"] == 2 and r.json()["session_retention_days"] == 90
        assert p.client.get("/v1/operator/settings", headers=p.login("super1")).json() == r.json()
        assert len(p.open(agent)["challenge"]["actions"]) == 4  # the next challenge asks for 4 actions

        [changed] = p.audit("settings_changed")
        assert changed.actor == "admin1" and changed.subject == p.demo.operator_id
        assert changed.payload == {"from": {"challenge_actions": 3, "manual_path": DEFAULT_MANUAL_PATH},
                                   "to": {"challenge_actions": 4, "manual_path": "请到2号柜台"}}
        assert p.audit("cap_changed")[-1].payload == {"from": 5, "to": 2}

        r = p.client.put("/v1/admin/settings", headers=admin, json={"retention_years_after_service": 5})
        assert r.status_code == 200 and r.json()["challenge_actions"] == 4, r.text  # the others stay

        r = p.client.put("/v1/admin/settings", headers=admin, json={"light_check": True})
        assert r.status_code == 200 and r.json()["light_check"] is True, r.text
        assert len(p.open(agent)["challenge"]["flash"]) >= 16  # the next challenge lights the face
        assert p.audit("settings_changed")[-1].payload == {"from": {"light_check": False},
                                                          "to": {"light_check": True}}

        for bad in ({"challenge_actions": 5}, {"session_retention_days": 0}, {"manual_path": "x" * 501},
                    {"challenge_actions": "3"}, {"operator": {"code": "X"}}):
            r = p.client.put("/v1/admin/settings", headers=admin, json=bad)
            assert r.status_code == 422, (bad, r.text)
        r = p.client.put("/v1/admin/settings", headers=agent, json={"challenge_actions": 2})
        assert r.status_code == 403 and error(r) == "forbidden"
        r = p.client.get("/v1/operator/settings", headers=p.login("inspector1"))
        assert r.status_code == 403
        assert len(p.audit("settings_changed")) == 3


# --- admin lists -------------------------------------------------------------------------------------------------

def test_admin_lists_and_disabling_a_user(db_url: str) -> None:
    with pages(db_url) as p:
        admin = p.login("admin1")
        r = p.client.get("/v1/admin/outlets", headers=admin)
        assert r.status_code == 200, r.text
        assert r.json() == [{"id": p.demo.outlet_id, "code": "DEMO-001", "name": "演示营业厅 Demo outlet",
                             "region": "110105", "active": True}]

        users = p.client.get("/v1/admin/users", headers=admin).json()
        assert [(u["username"], u["role"]) for u in users] == [("admin1", "operator_admin"), ("agent1", "agent"),
                                                               ("super1", "supervisor")]  # no regulator staff
        agent_row = next(u for u in users if u["username"] == "agent1")
        assert agent_row == {"id": p.demo.users["agent1"], "username": "agent1", "role": "agent",
                             "outlet_id": p.demo.outlet_id, "active": True, "blacklisted": False,
                             "blacklist_reason": None}

        agent = p.login("agent1")
        r = p.client.post(f"/v1/admin/users/{p.demo.users['agent1']}/disable", headers=admin)
        assert r.status_code == 200 and r.json() == {"id": p.demo.users["agent1"]}, r.text
        assert p.client.get("/v1/me", headers=agent).status_code == 401  # the open session ends at once
        r = p.client.post("/v1/auth/login", json={"username": "agent1", "password": DEMO_PASSWORD})
        assert r.status_code == 401 and error(r) == "account_disabled"
        listed = {u["username"]: u for u in p.client.get("/v1/admin/users", headers=admin).json()}
        assert listed["agent1"]["active"] is False
        assert p.audit("user_changed")[-1].payload == {"active": False, "blacklisted": False, "reason": None}

        r = p.client.post(f"/v1/admin/users/{p.demo.users['agent1']}/enable", headers=admin)
        assert r.status_code == 200, r.text
        p.login("agent1")

        r = p.client.post("/v1/admin/users/no-such-user/disable", headers=admin)
        assert r.status_code == 404 and error(r) == "not_found"
        r = p.client.post(f"/v1/admin/users/{p.demo.users['admin1']}/disable", headers=admin)
        assert r.status_code == 409 and error(r) == "own_account"
        r = p.client.get("/v1/admin/users", headers=p.login("super1"))
        assert r.status_code == 403


# --- live feedback -----------------------------------------------------------------------------------------------

def test_feedback_during_capture_with_the_fake_engine(db_url: str) -> None:
    with pages(db_url, engine="fake") as p:
        assert p.svc.faces.engine.name == "fake"
        agent = p.login("agent1")
        opened = p.open(agent)
        url = f"/v1/verifications/{opened['id']}/feedback"

        def send(data: bytes) -> httpx.Response:
            return p.client.post(url, headers=agent, files={"frame": ("frame.jpg", data, "image/jpeg")})

        r = send(textured())
        assert r.status_code == 200, r.text
        assert r.json() == {"ok": True, "hints": []}

        r = send(jpeg(np.full((240, 320, 3), 128, np.uint8)))  # flat grey: nobody there
        assert r.status_code == 200 and r.json()["ok"] is False, r.text
        nobody = reasons.hint("no_face")  # the catalogue's texts, the ones the kiosk shows
        assert r.json()["hints"] == [{"code": "no_face", "en": nobody.en, "zh": nobody.zh}]

        r = send(textured(level=30, spread=30))
        assert [h["code"] for h in r.json()["hints"]] == ["too_dark"]
        assert r.json()["hints"][0]["zh"] == reasons.hint("too_dark").zh == "光线太暗：请增加面部照明"

        big = np.zeros((1200, 1600, 3), np.uint8)  # a large frame is reduced before detection, same answer
        big[:] = cv2.resize(cv2.imdecode(np.frombuffer(textured(), np.uint8), cv2.IMREAD_COLOR), (1600, 1200))
        assert send(jpeg(big)).json() == {"ok": True, "hints": []}

        r = p.client.post(f"/v1/verifications/{opened['id']}/start", headers=agent,
                          json={"challenge": opened["challenge"]["token"]})
        assert r.status_code == 200 and send(textured()).status_code == 200  # capturing: still answered
        r = p.client.post(f"/v1/verifications/{opened['id']}/capture", headers=agent, files=frame_files(),
                          data={"timestamps": timestamps()})
        assert r.status_code == 200, r.text

        r = send(textured())  # decided: no more pictures for this session
        assert r.status_code == 409 and error(r) == "not_capturing"
        r = p.client.post("/v1/verifications/no-such-id/feedback", headers=agent,
                          files={"frame": ("frame.jpg", textured(), "image/jpeg")})
        assert r.status_code == 404
        r = p.client.post(url, headers=agent)
        assert r.status_code == 422 and error(r) == "missing_frame"
        r = p.client.post(url, headers=agent, files={"frame": ("frame.jpg", b"not a jpeg", "image/jpeg")})
        assert r.status_code == 422
        r = p.client.post(url, headers=p.login("admin1"), files={"frame": ("frame.jpg", textured(), "image/jpeg")})
        assert r.status_code == 403


def test_feedback_hints_for_framing() -> None:
    from realname.engine.base import Box, DetectedFace
    from realname.registration.feedback import analyse

    class Stub:
        """Finds faces at the given boxes, as fractions (x, y, w, h) of the picture it is given."""

        def __init__(self, *boxes: tuple[float, float, float, float]) -> None:
            self.boxes = boxes

        def detect(self, image: Any) -> list[DetectedFace]:
            h, w = image.shape[:2]
            # Eyes, nose and mouth corners where a frontal face has them inside its box.
            rel = np.array([(0.3, 0.4), (0.7, 0.4), (0.5, 0.6), (0.35, 0.8), (0.65, 0.8)], np.float32)
            return [DetectedFace(Box(x * w, y * h, bw * w, bh * h),
                                 (rel * np.array([bw * w, bh * h]) + np.array([x * w, y * h])).astype(np.float32), 0.9)
                    for x, y, bw, bh in self.boxes]

    img = cv2.imdecode(np.frombuffer(textured(), np.uint8), cv2.IMREAD_COLOR)

    def codes(*boxes: tuple[float, float, float, float]) -> list[str]:
        return [h.code for h in analyse(Stub(*boxes), img).hints]  # type: ignore[arg-type]

    assert codes((0.3, 0.2, 0.4, 0.6)) == []
    assert codes((0.45, 0.4, 0.12, 0.2)) == ["move_closer"]  # under 20% of the frame's width
    assert codes((0.0, 0.2, 0.3, 0.5)) == ["face_off_center"]
    assert codes((0.2, 0.2, 0.3, 0.5), (0.62, 0.25, 0.3, 0.45)) == ["multiple_faces"]
    assert codes() == ["no_face"]
    assert codes((-0.15, 0.2, 0.4, 0.6)) == ["face_cut_off", "face_off_center"]  # part of it past the left edge


# --- receipt -----------------------------------------------------------------------------------------------------

def test_receipt_masks_the_customer(db_url: str) -> None:
    with pages(db_url) as p:
        agent = p.login("agent1")
        card = p.card(name="张三丰")
        reg = p.register(agent, card)
        r = p.client.get(f"/v1/registrations/{reg['id']}/receipt", headers=agent)
        assert r.status_code == 200, r.text
        got = r.json()
        assert got == {"registration_id": reg["id"], "msisdn": reg["msisdn"], "operator_name": "演示电信 Demo Telecom",
                       "outlet_name": "演示营业厅 Demo outlet", "agent": "agent1",
                       "person_number": reg["person_number"], "name_masked": "张**", "doc_type": "prc_id",
                       "created_at": reg["created_at"], "status": "active"}
        assert card["number"] not in r.text and "张三丰" not in r.text and "portrait" not in r.text

        r = p.client.get("/v1/registrations/no-such-id/receipt", headers=agent)
        assert r.status_code == 404
        r = p.client.get(f"/v1/registrations/{reg['id']}/receipt", headers=p.login("inspector1"))
        assert r.status_code == 403


# --- review queue ------------------------------------------------------------------------------------------------

def test_review_queue_items(db_url: str) -> None:
    with pages(db_url, live_check=FixedLiveCheck("review", ["match_uncertain"])) as p:
        agent, supervisor = p.login("agent1"), p.login("super1")
        decided = p.verify(agent)
        r = p.client.get("/v1/reviews", headers=supervisor)
        assert r.status_code == 200, r.text
        [item] = r.json()
        assert set(item) == {"id", "person_number", "agent", "outlet", "reasons", "decided_at"}
        assert (item["id"], item["agent"], item["outlet"], item["reasons"]) == (
            decided["id"], "agent1", "DEMO-001", ["match_uncertain"])
        assert "*" in item["person_number"] and item["decided_at"]
        r = p.client.get("/v1/reviews", headers=agent)
        assert r.status_code == 403


# --- inspection --------------------------------------------------------------------------------------------------

def test_inspection_summary_and_csv(db_url: str) -> None:
    with pages(db_url) as p:
        agent = p.login("agent1")
        reg = p.register(agent)
        live = p.svc.live_check
        assert isinstance(live, FixedLiveCheck)
        live.decision, live.reasons = "fail", ["face_mismatch"]
        p.verify(agent)
        inspector = p.login("inspector1")
        today = p.svc.now().date().isoformat()

        r = p.client.get("/v1/inspect/summary", headers=inspector)
        assert r.status_code == 200, r.text
        got = r.json()
        assert set(got) == {"period", "chain", "totals", "by_day", "by_outlet", "by_agent", "failure_reasons"}
        assert got["period"]["end"] == today and len(got["by_day"]) == 30
        assert got["chain"]["ok"] is True and got["chain"]["problem"] is None and got["chain"]["count"] > 0
        assert got["totals"] == {"registrations": 1, "verifications": 2, "passed": 1, "failed": 1, "review": 0,
                                 "cap_refusals": 0, "cancellations": 0, "suspensions": 0}
        assert got["by_day"][-1] == {"day": today, "registrations": 1, "verifications": 2, "passed": 1, "failed": 1}
        assert got["by_outlet"] == [{"outlet": "DEMO-001", "name": "演示营业厅 Demo outlet", "registrations": 1,
                                     "verifications": 2, "failed": 1}]
        assert got["by_agent"] == [{"agent": "agent1", "outlet": "DEMO-001", "registrations": 1, "verifications": 2,
                                    "failed": 1, "reviews": 0}]
        assert got["failure_reasons"] == {"face_mismatch": 1}

        r = p.client.get("/v1/inspect/summary", headers=p.login("admin1"), params={"start": today, "end": today})
        assert r.status_code == 200 and r.json()["period"] == {"start": today, "end": today}, r.text

        r = p.client.get("/v1/inspect/registrations.csv", headers=inspector, params={"start": today})
        assert r.status_code == 422 and error(r) == "bad_request"  # an export names its whole period
        r = p.client.get("/v1/inspect/registrations.csv", headers=inspector, params={"start": today, "end": today})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "text/csv; charset=utf-8"
        assert "attachment" in r.headers["content-disposition"]
        assert r.content.startswith(b"\xef\xbb\xbf")
        lines = r.content.decode("utf-8-sig").splitlines()
        assert lines[0] == ("登记编号/registration_id,号码/msisdn,证件号(脱敏)/person_number,营业厅/outlet,"
                            "营业员/agent,状态/status,时间/created_at")
        assert lines[1].split(",")[:6] == [reg["id"], reg["msisdn"], reg["person_number"], "DEMO-001", "agent1",
                                           "active"]
        assert len(lines) == 2
        for secret in p.secrets:
            assert secret not in r.content.decode("utf-8-sig")

        r = p.client.get("/v1/inspect/summary", headers=inspector, params={"start": "2026-03-02", "end": "2026-03-01"})
        assert r.status_code == 422 and error(r) == "bad_period"
        r = p.client.get("/v1/inspect/registrations.csv", headers=inspector,
                         params={"start": "2025-01-01", "end": "2026-01-02"})
        assert r.status_code == 422 and error(r) == "bad_period"
        r = p.client.get("/v1/inspect/summary", headers=inspector, params={"start": "yesterday"})
        assert r.status_code == 422
        r = p.client.get("/v1/inspect/summary", headers=agent)
        assert r.status_code == 403

        audited = [(e.actor, e.payload["what"]) for e in p.audit("inspection")]
        assert audited == [("inspector1", "summary"), ("admin1", "summary"), ("inspector1", "registrations.csv")]
