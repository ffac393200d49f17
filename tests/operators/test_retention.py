"""Retention, erasure and the face-data count: what is due goes, what was deleted is on record."""

from __future__ import annotations

from sqlalchemy import func, select
from tests.registry_support import Clock, noise_frames, portrait_bytes, prc_card, seeded

from realname.audit.log import verify_chain
from realname.context import Actor, Services
from realname.errors import BadInputError
from realname.operators import retention
from realname.operators.auth import authenticate, login
from realname.operators.demo import DEMO_PASSWORD
from realname.registration import registrations, verifications
from realname.registry.tables import AuditEvent, FaceTemplate, Person, Registration, Verification


def agent(svc: Services) -> Actor:
    return authenticate(svc, login(svc, "agent1", DEMO_PASSWORD)[0])


def verified(svc: Services, who: Actor, card: dict[str, object], template_consent: bool = False) -> str:
    opened = verifications.open_verification(svc, who, card, portrait_bytes(), consent=True,
                                             template_consent=template_consent)
    verifications.start_capture(svc, who, opened.verification.id, opened.challenge)
    return verifications.submit_capture(svc, who, opened.verification.id, noise_frames())[0].id


def count(svc: Services, table: type) -> int:
    with svc.db.read() as s:
        return int(s.execute(select(func.count()).select_from(table)).scalar_one())


def test_templates_need_the_setting_and_their_own_consent(db_url: str) -> None:
    svc, _ = seeded(db_url)
    who = agent(svc)
    try:
        verified(svc, who, prc_card(), template_consent=True)
        raise AssertionError("template consent accepted while retention is off")
    except BadInputError as exc:
        assert exc.code == "template_retention_disabled"
    verified(svc, who, prc_card())
    assert count(svc, FaceTemplate) == 0  # off by default


def test_stored_template_is_encrypted_counted_and_erasable(db_url: str) -> None:
    svc, _ = seeded(db_url, retain_templates=True, face_data_warning=1)
    who = agent(svc)
    card = prc_card()
    verified(svc, who, card, template_consent=True)
    verified(svc, who, prc_card())  # no consent: nothing kept
    with svc.db.read() as s:
        tpl = s.execute(select(FaceTemplate)).scalar_one()
    assert tpl.template_enc.startswith("v1.")
    status = retention.face_data_status(svc)
    assert status.people == 1 and status.warning is not None
    proof = retention.erase_biometrics(svc, who, tpl.person_id)
    assert proof.action == "biometric_erased" and proof.payload["templates_deleted"] == 1
    assert proof.payload["face_data_left"] == 0
    assert count(svc, FaceTemplate) == 0 and retention.face_data_status(svc).warning is None


def test_purge_deletes_what_is_due_and_records_it(db_url: str) -> None:
    clock = Clock()
    svc, _ = seeded(db_url, clock=clock)
    who = agent(svc)
    kept = registrations.register(svc, who, verified(svc, who, prc_card()))
    gone = registrations.register(svc, who, verified(svc, who, prc_card()))
    registrations.cancel(svc, who, gone.id, "customer left")
    verified(svc, who, prc_card())  # a session never used for a registration
    clock.advance(days=91)
    report = retention.purge(svc)
    assert report.verifications == 3 and report.registrations == 0
    assert report.persons == 1  # the person whose only session was never used
    with svc.db.read() as s:
        reg = s.get(Registration, kept.id)
        assert reg is not None and reg.verification_id is None and reg.evidence["decision"] == "pass"
    clock.advance(days=365 * 2 + 1)
    report = retention.purge(Services(svc.settings, db=svc.db, keyring=svc.keyring, clock=clock))
    assert report.registrations == 1 and report.persons == 1  # the cancelled holder
    assert count(svc, Verification) == 0 and count(svc, Person) == 1
    with svc.db.read() as s:
        purges = s.execute(select(AuditEvent).where(AuditEvent.action == "purge")).scalars().all()
        assert [p.payload["registrations"] for p in purges] == [0, 1]
        assert verify_chain(s).ok


def test_an_operators_own_retention_settings_decide_what_the_purge_deletes(db_url: str) -> None:
    """What the administrator sets in the back office is what the purge and a cancellation use (not only the
    service's defaults): sessions after 7 days, an ended registration on the day after it ended."""
    from realname.operators import admin

    clock = Clock()
    svc, _ = seeded(db_url, clock=clock)
    who = agent(svc)
    boss = authenticate(svc, login(svc, "admin1", DEMO_PASSWORD)[0])
    admin.update_operator_settings(svc, boss, {"session_retention_days": 7, "retention_years_after_service": 0})
    gone = registrations.register(svc, who, verified(svc, who, prc_card()))
    registrations.cancel(svc, who, gone.id, "customer left")
    with svc.db.read() as s:
        reg = s.get(Registration, gone.id)
        assert reg is not None and reg.retain_until == clock.now.date()  # 0 years after the end
    verified(svc, who, prc_card())
    clock.advance(days=6)
    report = retention.purge(svc)
    # The ended registration is past its 0 years (the default keeps it 2); the sessions are within 7 days.
    assert report.registrations == 1 and report.verifications == 0
    clock.advance(days=2)
    report = retention.purge(svc)
    assert report.verifications == 2  # 8 days on: well under the default 90
    assert count(svc, Verification) == 0 and count(svc, Registration) == 0
