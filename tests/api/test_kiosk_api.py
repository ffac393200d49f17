"""Enrolled kiosks through the API, on SQLite and PostgreSQL: an operator that requires them registers a number
only through requests an enrolled kiosk of the agent's outlet proved over their exact bodies. Without a proof,
with a proof of another body, from a revoked kiosk or from another outlet's kiosk, the request is refused with
its code and nothing changes."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.api.test_registry_api import frame_files as frames
from tests.api.test_registry_api import timestamps
from tests.operators.authenticator import SoftAuthenticator
from tests.registry_support import portrait_bytes, prc_card, seeded

from realname.api.app import create_app
from realname.context import SYSTEM, Services
from realname.operators import admin
from realname.operators.demo import DEMO_PASSWORD
from realname.registry.tables import AuditEvent, Registration, Verification


@dataclass
class Counter:
    client: TestClient
    svc: Services
    demo: Any

    def login(self, username: str) -> dict[str, str]:
        r = self.client.post("/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def enrol(self, admin_auth: dict[str, str], outlet_id: str, name: str) -> tuple[SoftAuthenticator, str]:
        device = SoftAuthenticator()
        r = self.client.post("/v1/kiosk-enrolments", headers=admin_auth, json={"outlet_id": outlet_id, "name": name})
        assert r.status_code == 200, r.text
        started = r.json()
        r = self.client.post("/v1/kiosks", headers=admin_auth, json={
            "enrolment_id": started["enrolment_id"], "credential": device.create(started["options"])})
        assert r.status_code == 201, r.text
        return device, r.json()["id"]

    def send(self, auth: dict[str, str], path: str, device: SoftAuthenticator | None, *,
             json_body: Any = None, files: Any = None, data: Any = None, signed: bytes | None = None
             ) -> httpx.Response:
        """POST the exact bytes; ``device`` proves them (or ``signed``: other bytes it signs instead)."""
        request = httpx.Request("POST", "http://testserver" + path, json=json_body, files=files, data=data)
        body = request.read()
        headers = {**auth, "Content-Type": request.headers["Content-Type"]}
        if device is not None:
            nonce = self.client.post("/v1/kiosk-nonces", headers=auth).json()["nonce"]
            headers |= device.headers(nonce, "POST", path, body if signed is None else signed)
        return self.client.post(path, headers=headers, content=body)

    def count(self, table: Any) -> int:
        with self.svc.db.read() as s:
            return int(s.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def counter(db_url: str) -> Iterator[Counter]:
    svc, demo = seeded(db_url, fixed_challenge="blink", webauthn_rp_id="localhost")
    admin.update_operator_settings(svc, SYSTEM, {"require_enrolled_kiosks": True}, operator_id=demo.operator_id)
    with TestClient(create_app(svc.settings, services=svc)) as client:
        yield Counter(client, svc, demo)


def opening() -> dict[str, Any]:
    return {"card": prc_card(), "portrait": base64.b64encode(portrait_bytes()).decode(),
            "consent_face_processing": True}


def test_the_whole_registration_through_an_enrolled_kiosk(counter: Counter) -> None:
    device, kiosk_id = counter.enrol(counter.login("admin1"), counter.demo.outlet_id, "counter 1")
    agent = counter.login("agent1")
    nonce = counter.client.post("/v1/kiosk-nonces", headers=agent).json()
    assert nonce["required"] is True
    r = counter.send(agent, "/v1/verifications", device, json_body=opening())
    assert r.status_code == 201, r.text
    vid, challenge = r.json()["id"], r.json()["challenge"]["token"]
    r = counter.send(agent, f"/v1/verifications/{vid}/start", device, json_body={"challenge": challenge})
    assert r.status_code == 200, r.text
    r = counter.send(agent, f"/v1/verifications/{vid}/capture", device, files=frames(8), data={"timestamps":
                                                                                           timestamps(8)})
    assert r.status_code == 200 and r.json()["decision"] == "pass", r.text
    r = counter.send(agent, "/v1/registrations", device, json_body={"verification_id": vid})
    assert r.status_code == 201, r.text
    with counter.svc.db.read() as s:
        v = s.get(Verification, vid)
        assert v is not None and v.kiosk_id == kiosk_id and v.reader_attestation == "unattested"
        kiosks = [e.payload.get("kiosk") for e in s.scalars(select(AuditEvent).where(AuditEvent.action.in_(
            ["document_read", "challenge_issued", "capture_started", "decision", "number_assigned"])))]
    assert kiosks == [kiosk_id] * 5


def _unchanged(counter: Counter, before: tuple[int, int, int], r: httpx.Response, code: str) -> None:
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == code
    assert (counter.count(Verification), counter.count(Registration), counter.count(AuditEvent)) == before


def test_each_tampering_is_refused_and_changes_nothing(counter: Counter) -> None:
    admin_auth = counter.login("admin1")
    device, kiosk_id = counter.enrol(admin_auth, counter.demo.outlet_id, "counter 1")
    other_outlet = admin.create_outlet(counter.svc, SYSTEM, "DEMO-002", "second", operator_id=counter.demo.operator_id)
    elsewhere, _ = counter.enrol(admin_auth, other_outlet.id, "far away")
    agent = counter.login("agent1")
    before = (counter.count(Verification), counter.count(Registration), counter.count(AuditEvent))

    _unchanged(counter, before, counter.send(agent, "/v1/verifications", None, json_body=opening()),
               "kiosk_assertion_required")
    forged = opening() | {"card": prc_card(name="李四")}  # the proof was made for another card
    _unchanged(counter, before, counter.send(agent, "/v1/verifications", device, json_body=forged,
                                             signed=json.dumps(opening()).encode()), "kiosk_assertion_invalid")
    _unchanged(counter, before, counter.send(agent, "/v1/verifications", elsewhere, json_body=opening()),
               "kiosk_other_outlet")
    _unchanged(counter, before, counter.send(agent, "/v1/verifications", SoftAuthenticator(), json_body=opening()),
               "kiosk_unknown")
    # a captured proof replayed: its nonce was used
    nonce = counter.client.post("/v1/kiosk-nonces", headers=agent).json()["nonce"]
    request = httpx.Request("POST", "http://testserver/v1/verifications", json=opening())
    body = request.read()
    headers = agent | {"Content-Type": "application/json"} | device.headers(nonce, "POST", "/v1/verifications", body)
    assert counter.client.post("/v1/verifications", headers=headers, content=body).status_code == 201
    after_one = (counter.count(Verification), counter.count(Registration), counter.count(AuditEvent))
    _unchanged(counter, after_one, counter.client.post("/v1/verifications", headers=headers, content=body),
               "kiosk_nonce_invalid")
    # the capture of a verification with frames other than those the kiosk proved
    r = counter.send(agent, "/v1/verifications", device, json_body=opening())
    vid, challenge = r.json()["id"], r.json()["challenge"]["token"]
    assert counter.send(agent, f"/v1/verifications/{vid}/start", device,
                        json_body={"challenge": challenge}).status_code == 200
    genuine = httpx.Request("POST", "http://x", files=frames(8), data={"timestamps": timestamps(8)}).read()
    state = (counter.count(Verification), counter.count(Registration), counter.count(AuditEvent))
    _unchanged(counter, state, counter.send(agent, f"/v1/verifications/{vid}/capture", device, files=frames(6),
                                            data={"timestamps": timestamps(6)}, signed=genuine),
               "kiosk_assertion_invalid")
    # revoked: refused from the next request on
    r = counter.client.post(f"/v1/kiosks/{kiosk_id}/revoke", headers=admin_auth, json={"reason": "stolen"})
    assert r.status_code == 200 and r.json()["revoked_at"], r.text
    state = (counter.count(Verification), counter.count(Registration), counter.count(AuditEvent))
    _unchanged(counter, state, counter.send(agent, f"/v1/verifications/{vid}/capture", device, files=frames(8),
                                            data={"timestamps": timestamps(8)}), "kiosk_revoked")
    listed = counter.client.get("/v1/kiosks", headers=admin_auth).json()
    assert sorted(k["name"] for k in listed) == ["counter 1", "far away"]
    assert counter.client.get("/v1/kiosks", headers=agent).status_code == 403  # agents do not manage kiosks
