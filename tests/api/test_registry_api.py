"""The registry over HTTP, on SQLite and PostgreSQL: the kiosk's whole flow (login, document + consent, challenge,
capture as frames or as a video, registration), what an inspector sees, the customer's own numbers, cancellation,
the audit chain, the supervisor's review and the per-operator cap. The live check is ``FixedLiveCheck`` (no face
models); every response of every test is recorded and checked for scores and full document numbers."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.registry_support import portrait_bytes, prc_card, seeded

from realname.api.app import create_app
from realname.context import Services
from realname.live_check import FixedLiveCheck
from realname.operators.demo import DEMO_PASSWORD
from realname.registry.tables import AuditEvent, PhoneNumber, Registration, Verification

Headers = dict[str, str]


def frame_files(n: int = 8, seed: int = 0) -> list[tuple[str, tuple[str, bytes, str]]]:
    """``n`` small frames for the multipart field ``frames``, PNG and JPEG alternately."""
    rng = np.random.default_rng(seed)
    files = []
    for i in range(n):
        img = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
        ext, mime = (".png", "image/png") if i % 2 == 0 else (".jpg", "image/jpeg")
        ok, buf = cv2.imencode(ext, img)
        assert ok
        files.append(("frames", (f"frame{i}{ext}", buf.tobytes(), mime)))
    return files


def timestamps(n: int = 8, fps: float = 15.0) -> str:
    return ",".join(f"{i / fps:.3f}" for i in range(n))


def video_bytes(tmp: Path, n: int = 10) -> bytes:
    """A short MJPEG AVI clip (what ``read_frames`` reads in the capture route)."""
    path = tmp / "capture.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 15, (64, 48))
    rng = np.random.default_rng(1)
    for _ in range(n):
        writer.write(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    writer.release()
    return path.read_bytes()


def score_keys(value: Any, where: str = "") -> list[str]:
    """Paths of every key in a JSON value that names a score."""
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            if "score" in str(k).lower():
                found.append(f"{where}.{k}")
            found += score_keys(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += score_keys(v, f"{where}[{i}]")
    return found


@dataclass
class Kiosk:
    """The client of one test, with the responses it received (request line, body)."""

    client: TestClient
    svc: Services
    demo: Any
    seen: list[tuple[str, str]] = field(default_factory=list)
    full_numbers: set[str] = field(default_factory=set)

    def record(self, response: httpx.Response) -> None:
        response.read()
        self.seen.append((f"{response.request.method} {response.request.url.path}", response.text))

    def login(self, username: str) -> Headers:
        r = self.client.post("/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        assert r.json()["user"]["username"] == username
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def card(self, **kw: Any) -> dict[str, Any]:
        card = prc_card(**kw)
        self.full_numbers.add(card["number"])
        return card

    def open(self, auth: Headers, card: dict[str, Any], purpose: str = "register") -> dict[str, Any]:
        r = self.client.post("/v1/verifications", headers=auth, json={
            "card": card, "portrait": base64.b64encode(portrait_bytes()).decode(),
            "consent_face_processing": True, "purpose": purpose})
        assert r.status_code == 201, r.text
        opened: dict[str, Any] = r.json()
        assert opened["person_number"] != card["number"] and "*" in opened["person_number"]
        actions = opened["challenge"]["actions"]
        assert 2 <= len(actions) <= 4 and all(a["action"] and a["en"] and a["zh"] for a in actions)
        return opened

    def verify(self, auth: Headers, card: dict[str, Any], purpose: str = "register",
               video: bytes | None = None) -> dict[str, Any]:
        """Open, start and capture; returns the capture response (the decision)."""
        opened = self.open(auth, card, purpose)
        vid = opened["id"]
        r = self.client.post(f"/v1/verifications/{vid}/start", headers=auth,
                             json={"challenge": opened["challenge"]["token"]})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "capturing" and r.json()["capture_deadline"]
        if video is not None:
            r = self.client.post(f"/v1/verifications/{vid}/capture", headers=auth,
                                 files={"video": ("capture.avi", video, "video/x-msvideo")})
        else:
            r = self.client.post(f"/v1/verifications/{vid}/capture", headers=auth, files=frame_files(),
                                 data={"timestamps": timestamps()})
        assert r.status_code == 200, r.text
        decided: dict[str, Any] = r.json()
        assert decided["id"] == vid and decided["status"] == "decided" and decided["purpose"] == purpose
        return decided

    def assert_nothing_leaked(self) -> None:
        assert self.seen and self.full_numbers
        for request, text in self.seen:
            if text:
                assert not score_keys(json.loads(text)), f"{request} answered a score: {text}"
            for number in self.full_numbers:
                assert number not in text, f"{request} answered the full document number: {text}"


@contextmanager
def kiosk(db_url: str, **kw: Any) -> Iterator[Kiosk]:
    svc, demo = seeded(db_url, **kw)
    with TestClient(create_app(svc.settings, services=svc)) as client:
        k = Kiosk(client, svc, demo)
        client.event_hooks["response"] = [k.record]
        yield k
    k.assert_nothing_leaked()


def test_whole_flow_over_http(db_url: str, tmp_path: Path) -> None:
    with kiosk(db_url) as k:
        agent, inspector, auditor = k.login("agent1"), k.login("inspector1"), k.login("auditor1")
        card = k.card()

        decided = k.verify(agent, card)
        assert decided["decision"] == "pass" and decided["reasons"] == [] and decided["retries_left"] is None
        live = k.svc.live_check
        assert isinstance(live, FixedLiveCheck) and live.frames_seen == len(frame_files())
        r = k.client.post("/v1/registrations", headers=agent, json={"verification_id": decided["id"]})
        assert r.status_code == 201, r.text
        reg = r.json()
        assert reg["status"] == "active" and reg["msisdn"].startswith("+86")
        assert (reg["operator_id"], reg["outlet_id"]) == (k.demo.operator_id, k.demo.outlet_id)

        again = k.client.post("/v1/registrations", headers=agent, json={"verification_id": decided["id"]})
        assert again.status_code == 409 and again.json()["error"]["code"] == "verification_used"

        seen = k.client.get(f"/v1/registrations/{reg['id']}", headers=inspector)
        assert seen.status_code == 200, seen.text
        assert seen.json()["person_number"] == reg["person_number"]
        assert "*" in reg["person_number"] and reg["person_number"][-4:] == card["number"][-4:]
        assert card["number"] not in seen.text and card["name"] not in seen.text

        lookup = k.verify(agent, card, purpose="lookup", video=video_bytes(tmp_path))  # the video path, too
        mine = k.client.post("/v1/numbers/mine", headers=agent, json={"verification_id": lookup["id"]})
        assert mine.status_code == 200, mine.text
        assert [(m["msisdn"], m["status"]) for m in mine.json()] == [(reg["msisdn"], "active")]

        r = k.client.post(f"/v1/registrations/{reg['id']}/cancel", headers=agent, json={"reason": "customer request"})
        assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
        r = k.client.post(f"/v1/registrations/{reg['id']}/cancel", headers=agent, json={"reason": "twice"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "already_cancelled"

        chain = k.client.get("/v1/audit/verify", headers=auditor)
        assert chain.status_code == 200, chain.text
        assert chain.json()["ok"] is True and chain.json()["count"] > 0 and chain.json()["first_bad_seq"] is None

        with k.svc.db.read() as s:
            v = s.get(Verification, decided["id"])
            assert v is not None and v.status == "used" and v.portrait_enc is None
            row = s.get(Registration, reg["id"])
            assert row is not None and row.status == "cancelled"
            number = s.get(PhoneNumber, row.number_id)
            assert number is not None and number.status == "cancelled"
            actions = [e.action for e in s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()]
        first = actions.index("document_read")
        assert actions[first:first + 6] == ["document_read", "consent", "challenge_issued", "capture_started",
                                            "decision", "number_assigned"]
        assert actions[-3:] == ["decision", "numbers_listed", "cancellation"]


def test_review_by_a_supervisor(db_url: str) -> None:
    with kiosk(db_url, live_check=FixedLiveCheck("review", ["match_uncertain"])) as k:
        agent, supervisor = k.login("agent1"), k.login("super1")
        decided = k.verify(agent, k.card())
        vid = decided["id"]
        assert decided["decision"] == "review" and decided["reasons"] == ["match_uncertain"]

        r = k.client.post("/v1/registrations", headers=agent, json={"verification_id": vid})
        assert r.status_code == 409 and r.json()["error"]["code"] == "verification_not_passed"
        r = k.client.get("/v1/reviews", headers=agent)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        r = k.client.post(f"/v1/verifications/{vid}/review", headers=agent, json={"decision": "pass", "reason": "me"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"

        queue = k.client.get("/v1/reviews", headers=supervisor)
        assert queue.status_code == 200 and [q["id"] for q in queue.json()] == [vid], queue.text
        r = k.client.post(f"/v1/verifications/{vid}/review", headers=supervisor,
                          json={"decision": "pass", "reason": "same person: glasses in the card photo"})
        assert r.status_code == 200 and r.json()["decision"] == "pass", r.text
        assert k.client.get("/v1/reviews", headers=supervisor).json() == []
        r = k.client.post(f"/v1/verifications/{vid}/review", headers=supervisor,
                          json={"decision": "fail", "reason": "changed my mind"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "not_in_review"

        r = k.client.get(f"/v1/verifications/{vid}", headers=agent)
        assert r.status_code == 200 and r.json()["decision"] == "pass"
        r = k.client.post("/v1/registrations", headers=agent, json={"verification_id": vid})
        assert r.status_code == 201, r.text
        with k.svc.db.read() as s:
            row = s.get(Registration, r.json()["id"])
            assert row is not None and row.evidence["reviewed_by"] == k.demo.users["super1"]


def test_failed_check_tells_retries_left(db_url: str) -> None:
    with kiosk(db_url, live_check=FixedLiveCheck("fail")) as k:
        agent = k.login("agent1")
        decided = k.verify(agent, k.card())
        assert decided["decision"] == "fail" and decided["reasons"] == ["face_mismatch"]
        assert decided["retries_left"] == k.svc.settings.max_failures - 1


def test_cap_refusal_over_http(db_url: str) -> None:
    with kiosk(db_url) as k:
        agent, admin, auditor = k.login("agent1"), k.login("admin1"), k.login("auditor1")
        r = k.client.put("/v1/admin/cap", headers=admin, json={"cap_per_person": 1})
        assert r.status_code == 200 and r.json()["id"] == k.demo.operator_id, r.text
        card = k.card()
        first = k.client.post("/v1/registrations", headers=agent,
                              json={"verification_id": k.verify(agent, card)["id"]})
        assert first.status_code == 201, first.text

        refused = k.client.post("/v1/registrations", headers=agent,
                                json={"verification_id": k.verify(agent, card)["id"]})
        assert refused.status_code == 409, refused.text
        error = refused.json()["error"]
        assert error["code"] == "cap_exceeded" and error["cap"] == "per_operator" and error["limit"] == 1
        assert error["message"]

        other = k.client.post("/v1/registrations", headers=agent,
                              json={"verification_id": k.verify(agent, k.card())["id"]})
        assert other.status_code == 201, other.text  # the cap is per person

        with k.svc.db.read() as s:
            held = s.execute(select(Registration).where(Registration.status == "active")).scalars().all()
            assert len(held) == 2
            refusal = s.execute(select(AuditEvent).where(AuditEvent.action == "cap_refused")).scalar_one()
            assert refusal.payload["cap"] == "per_operator"
        chain = k.client.get("/v1/audit/verify", headers=auditor)
        assert chain.status_code == 200 and chain.json()["ok"] is True
