"""Enrolled kiosks: enrolment checks the authenticator's attestation; a request passes only with an assertion from
an active kiosk of the agent's outlet over that very body and a fresh nonce. Refusals change nothing."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

import pytest
from tests.operators.authenticator import SoftAuthenticator, b64url
from tests.registry_support import Clock, portrait_bytes, prc_card, seeded

from realname.context import Actor, Services
from realname.errors import AttestationError, ConflictError
from realname.operators import admin, kiosks
from realname.operators.auth import authenticate, login
from realname.operators.demo import DEMO_PASSWORD
from realname.registration import verifications
from realname.registry.tables import AuditEvent, Kiosk, KioskNonce

PATH = "/v1/verifications"


def _login(svc: Services, username: str) -> Actor:
    token, _, _ = login(svc, username, DEMO_PASSWORD)
    return authenticate(svc, token)


def enrolled(svc: Services, outlet_id: str, name: str = "counter 1",
             device: SoftAuthenticator | None = None) -> tuple[SoftAuthenticator, Kiosk]:
    device = device or SoftAuthenticator()
    admin1 = _login(svc, "admin1")
    enrolment_id, options = kiosks.enrolment_options(svc, admin1, outlet_id, name)
    return device, kiosks.enrol(svc, admin1, enrolment_id, device.create(options))


def prove(svc: Services, agent: Actor, device: SoftAuthenticator, body: bytes, *, sent: bytes | None = None,
          nonce: str | None = None) -> str | None:
    """Sign ``body``; the server receives ``sent`` (default: the same body)."""
    nonce = nonce or kiosks.request_nonce(svc, agent)
    headers = device.headers(nonce, "POST", PATH, body)
    proof = kiosks.KioskProof.from_headers(headers["X-Kiosk-Nonce"], headers["X-Kiosk-Assertion"])
    return kiosks.prove_request(svc, agent, proof, method="POST", path=PATH,
                                body_sha256=hashlib.sha256(body if sent is None else sent).digest())


def _count(svc: Services, table: Any) -> int:
    from sqlalchemy import func, select
    with svc.db.read() as s:
        return int(s.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def world(db_url: str) -> tuple[Services, Any]:
    return seeded(db_url, webauthn_rp_id="localhost")


def test_an_enrolled_kiosk_proves_its_request_once(world: tuple[Services, Any]) -> None:
    svc, demo = world
    device, kiosk = enrolled(svc, demo.outlet_id)
    assert kiosk.attestation_format == "none" and kiosk.outlet_id == demo.outlet_id
    agent = _login(svc, "agent1")
    body = json.dumps({"card": prc_card()}).encode()
    nonce = kiosks.request_nonce(svc, agent)
    assert prove(svc, agent, device, body, nonce=nonce) == kiosk.id
    with pytest.raises(AttestationError) as err:  # the same nonce again: a replay
        prove(svc, agent, device, body, nonce=nonce)
    assert err.value.code == "kiosk_nonce_invalid"
    with svc.db.read() as s:
        got = s.get(Kiosk, kiosk.id)
        assert got is not None and got.sign_count == 1 and got.last_used_at is not None  # the replay moved nothing
        actions = [e.action for e in s.query(AuditEvent).order_by(AuditEvent.seq)]
    assert "kiosk_enrolled" in actions


def test_an_assertion_for_another_body_is_refused_and_changes_nothing(world: tuple[Services, Any]) -> None:
    svc, demo = world
    device, kiosk = enrolled(svc, demo.outlet_id)
    agent = _login(svc, "agent1")
    nonce = kiosks.request_nonce(svc, agent)
    mine = json.dumps({"card": prc_card(name="张三")}).encode()
    other = json.dumps({"card": prc_card(name="李四")}).encode()
    with pytest.raises(AttestationError) as err:
        prove(svc, agent, device, mine, sent=other, nonce=nonce)
    assert err.value.code == "kiosk_assertion_invalid"
    with svc.db.read() as s:
        assert s.get(KioskNonce, nonce) is not None  # still unused
        got = s.get(Kiosk, kiosk.id)
        assert got is not None and got.sign_count == 0 and got.last_used_at is None
    assert prove(svc, agent, device, mine, nonce=nonce) == kiosk.id  # the honest request still passes


def test_revoked_and_other_outlet_kiosks_are_refused(world: tuple[Services, Any]) -> None:
    svc, demo = world
    admin1 = _login(svc, "admin1")
    other = admin.create_outlet(svc, admin1, "DEMO-002", "second outlet")
    device, _ = enrolled(svc, other.id, "elsewhere")
    agent = _login(svc, "agent1")
    with pytest.raises(AttestationError) as err:
        prove(svc, agent, device, b"{}")
    assert err.value.code == "kiosk_other_outlet"
    here, kiosk = enrolled(svc, demo.outlet_id)
    kiosks.rename_kiosk(svc, admin1, kiosk.id, "counter 2")
    kiosks.revoke_kiosk(svc, admin1, kiosk.id, "stolen")
    with pytest.raises(AttestationError) as err:
        prove(svc, agent, here, b"{}")
    assert err.value.code == "kiosk_revoked"
    with pytest.raises(ConflictError):
        kiosks.revoke_kiosk(svc, admin1, kiosk.id, "again")
    names = {k.name: k.revoked_at is not None for k in kiosks.list_kiosks(svc, admin1)}
    assert names == {"elsewhere": False, "counter 2": True}


def test_an_unknown_or_cloned_credential_is_refused(world: tuple[Services, Any]) -> None:
    svc, demo = world
    device, _ = enrolled(svc, demo.outlet_id)
    agent = _login(svc, "agent1")
    with pytest.raises(AttestationError) as err:
        prove(svc, agent, SoftAuthenticator(), b"{}")
    assert err.value.code == "kiosk_unknown"
    assert prove(svc, agent, device, b"{}") is not None
    clone = replace(device, sign_count=0)  # a copy of the key whose counter starts over
    with pytest.raises(AttestationError) as err:
        prove(svc, agent, clone, b"{}")
    assert err.value.code == "kiosk_assertion_invalid"


def test_a_required_kiosk_proof_and_the_operators_setting(world: tuple[Services, Any]) -> None:
    svc, _ = world
    agent = _login(svc, "agent1")
    assert kiosks.prove_request(svc, agent, None, method="POST", path=PATH, body_sha256=b"") is None  # demo: relaxed
    admin.update_operator_settings(svc, _login(svc, "admin1"), {"require_enrolled_kiosks": True})
    with pytest.raises(AttestationError) as err:
        kiosks.prove_request(svc, agent, None, method="POST", path=PATH, body_sha256=b"")
    assert err.value.code == "kiosk_assertion_required"
    new = admin.create_operator(svc, replace(_login(svc, "admin1"), role="system"), "NEW", "New Telecom")
    assert admin.get_operator_settings(svc, new.id).require_enrolled_kiosks  # on for new operators


def test_enrolment_checks_the_challenge_origin_and_is_single_use(world: tuple[Services, Any]) -> None:
    svc, demo = world
    admin1 = _login(svc, "admin1")
    enrolment_id, options = kiosks.enrolment_options(svc, admin1, demo.outlet_id, "counter")
    phishing = SoftAuthenticator(origin="https://evil.example")
    with pytest.raises(AttestationError) as err:
        kiosks.enrol(svc, admin1, enrolment_id, phishing.create(options))
    assert err.value.code == "kiosk_origin_refused"
    enrolment_id, options = kiosks.enrolment_options(svc, admin1, demo.outlet_id, "counter")
    wrong = SoftAuthenticator().create({**options, "challenge": b64url(b"another challenge")})
    with pytest.raises(AttestationError) as err:
        kiosks.enrol(svc, admin1, enrolment_id, wrong)
    assert err.value.code == "kiosk_attestation_invalid"
    enrolment_id, options = kiosks.enrolment_options(svc, admin1, demo.outlet_id, "counter")
    kiosks.enrol(svc, admin1, enrolment_id, SoftAuthenticator().create(options))
    with pytest.raises(ConflictError):
        kiosks.enrol(svc, admin1, enrolment_id, SoftAuthenticator().create(options))
    assert _count(svc, Kiosk) == 1


def test_an_expired_nonce_is_refused(db_url: str) -> None:
    clock = Clock()
    svc, demo = seeded(db_url, clock=clock)
    device, _ = enrolled(svc, demo.outlet_id)
    agent = _login(svc, "agent1")
    nonce = kiosks.request_nonce(svc, agent)
    clock.advance(seconds=svc.settings.kiosk_nonce_seconds + 1)
    with pytest.raises(AttestationError) as err:
        prove(svc, agent, device, b"{}", nonce=nonce)
    assert err.value.code == "kiosk_nonce_invalid"


def test_a_verification_opened_on_one_kiosk_continues_only_there(world: tuple[Services, Any]) -> None:
    svc, demo = world
    _, kiosk = enrolled(svc, demo.outlet_id)
    _, second = enrolled(svc, demo.outlet_id, "counter 2")
    agent = _login(svc, "agent1")
    on_kiosk = replace(agent, kiosk_id=kiosk.id)
    opened = verifications.open_verification(svc, on_kiosk, prc_card(), portrait_bytes(), consent=True)
    assert opened.verification.kiosk_id == kiosk.id
    for other in (replace(agent, kiosk_id=second.id), agent):
        with pytest.raises(AttestationError) as err:
            verifications.start_capture(svc, other, opened.verification.id, opened.challenge)
        assert err.value.code == "kiosk_mismatch"
    verifications.start_capture(svc, on_kiosk, opened.verification.id, opened.challenge)
    with svc.db.read() as s:
        payloads = [e.payload for e in s.query(AuditEvent).where(AuditEvent.action.in_(
            ["document_read", "challenge_issued", "capture_started"]))]
    assert all(p["kiosk"] == kiosk.id for p in payloads) and len(payloads) == 3


def test_crafted_credentials_are_refused_not_crashed_on(world: tuple[Services, Any]) -> None:
    svc, demo = world
    device, _ = enrolled(svc, demo.outlet_id)
    agent = _login(svc, "agent1")
    raw = b64url(device.credential_id)
    crafted: list[dict[str, Any]] = [
        {"rawId": raw, "response": "text"}, {"rawId": raw, "response": []}, {"rawId": raw},
        {"rawId": raw, "response": {"clientDataJSON": "%%%"}},
        {**device.get(b"x"), "response": {**device.get(b"x")["response"], "signature": "!!", "authenticatorData": 7}},
    ]
    for assertion in crafted:
        nonce = kiosks.request_nonce(svc, agent)
        with pytest.raises(AttestationError):
            kiosks.prove_request(svc, agent, kiosks.KioskProof(nonce, assertion), method="POST", path=PATH,
                                 body_sha256=b"")
    admin1 = _login(svc, "admin1")
    for credential in ({"response": "text"}, {"id": raw, "rawId": raw, "response": {"clientDataJSON": 5}}):
        enrolment_id, _ = kiosks.enrolment_options(svc, admin1, demo.outlet_id, "crafted")
        with pytest.raises(AttestationError):
            kiosks.enrol(svc, admin1, enrolment_id, credential)
