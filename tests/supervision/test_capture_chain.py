"""Reports count attested and unattested card reads and each kiosk's checks; a kiosk whose checks fail far more
often than the rule allows is a fraud signal, like an agent's."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from tests.operators.authenticator import SoftAuthenticator
from tests.registry_support import noise_frames, portrait_bytes, prc_card, seeded

from realname.context import Actor, Services
from realname.documents import attestation
from realname.live_check import FixedLiveCheck
from realname.operators import kiosks, readers
from realname.operators.auth import authenticate, login
from realname.operators.demo import DEMO_PASSWORD
from realname.registration import verifications
from realname.supervision.period import Period
from realname.supervision.reports import Scope, build_report
from realname.supervision.signals import find_signals

KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"reader for reports").digest())


def _login(svc: Services, username: str) -> Actor:
    token, _, _ = login(svc, username, DEMO_PASSWORD)
    return authenticate(svc, token)


def _kiosk(svc: Services, outlet_id: str, name: str) -> str:
    admin1 = _login(svc, "admin1")
    enrolment, options = kiosks.enrolment_options(svc, admin1, outlet_id, name)
    return kiosks.enrol(svc, admin1, enrolment, SoftAuthenticator().create(options)).id


def _check(svc: Services, agent: Actor, card: dict[str, object]) -> None:
    opened = verifications.open_verification(svc, agent, card, portrait_bytes(), consent=True)
    verifications.start_capture(svc, agent, opened.verification.id, opened.challenge)
    verifications.submit_capture(svc, agent, opened.verification.id, noise_frames())


def test_reports_count_attested_reads_and_each_kiosk(db_url: str) -> None:
    svc, demo = seeded(db_url)
    public = base64.b64encode(KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    readers.enrol_reader(svc, _login(svc, "admin1"), "R-01", "reader", public)
    kiosk = _kiosk(svc, demo.outlet_id, "counter 1")
    agent = _login(svc, "agent1")
    on_kiosk = replace(agent, kiosk_id=kiosk)
    signed = attestation.sign(KEY, prc_card(serial=1), portrait_bytes(), reader_id="R-01", at=svc.now())
    _check(svc, on_kiosk, signed)
    _check(svc, on_kiosk, prc_card(serial=2))
    _check(svc, agent, prc_card(serial=3))
    today = svc.now().date()
    chain = build_report(svc, _login(svc, "inspector1"), Period(today, today)).as_dict()["capture_chain"]
    assert chain["reader_attestation"] == {"attested": 1, "unattested": 2}
    assert chain["without_kiosk"] == 1
    assert [(k["name"], k["verifications"], k["passed"]) for k in chain["by_kiosk"]] == [("counter 1", 2, 2)]
    # cut by kiosk: only the checks that kiosk proved
    cut = build_report(svc, _login(svc, "inspector1"), Period(today, today), Scope(kiosk=kiosk)).as_dict()
    assert cut["totals"]["verifications"] == 2 and cut["capture_chain"]["without_kiosk"] == 0
    assert cut["scope"]["kiosk"] == kiosk


def test_a_kiosk_whose_checks_keep_failing_is_a_signal(db_url: str) -> None:
    svc, demo = seeded(db_url, live_check=FixedLiveCheck("fail", ["different_person"]))
    kiosk = _kiosk(svc, demo.outlet_id, "back room")
    on_kiosk = replace(_login(svc, "agent1"), kiosk_id=kiosk)
    for serial in range(svc.settings.signals.agent_min_events):
        _check(svc, on_kiosk, prc_card(serial=100 + serial))
    today = svc.now().date()
    found = [s for s in find_signals(svc, _login(svc, "inspector1"), Period(today, today))
             if s.kind == "kiosk_failures"]
    assert len(found) == 1 and found[0].evidence["kiosk"] == kiosk and "back room" in found[0].subject
