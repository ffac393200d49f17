"""The registration use case on real databases (SQLite and PostgreSQL), with a fixed live-check outcome."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.registry_support import Clock, noise_frames, portrait_bytes, prc_card, seeded

from realname.audit.log import verify_chain
from realname.context import SYSTEM, Actor, Services
from realname.errors import (
    CapExceededError,
    ChallengeError,
    ConflictError,
    DocumentError,
    ForbiddenError,
    LockedError,
    NotFoundError,
)
from realname.live_check import FixedLiveCheck
from realname.operators import admin
from realname.operators.auth import authenticate, login
from realname.operators.demo import DEMO_PASSWORD
from realname.registration import registrations, verifications
from realname.registry.tables import AuditEvent, PhoneNumber, Registration, Verification


def actor(svc: Services, username: str) -> Actor:
    token, _, _ = login(svc, username, DEMO_PASSWORD)
    return authenticate(svc, token)


def verify(svc: Services, who: Actor, card: dict[str, Any], purpose: str = "register") -> str:
    opened = verifications.open_verification(svc, who, card, portrait_bytes(), consent=True,
                                             purpose=purpose)  # type: ignore[arg-type]
    verifications.start_capture(svc, who, opened.verification.id, opened.challenge)
    v, _ = verifications.submit_capture(svc, who, opened.verification.id, noise_frames())
    return v.id


def test_flow_assigns_a_number_and_keeps_no_portrait(db_url: str) -> None:
    svc, _ = seeded(db_url)
    agent = actor(svc, "agent1")
    vid = verify(svc, agent, prc_card())
    reg = registrations.register(svc, agent, vid)
    with svc.db.read() as s:
        assert s.get(PhoneNumber, reg.number_id).status == "active"  # type: ignore[union-attr]
        v = s.get(Verification, vid)
        assert v is not None and v.status == "used" and v.decision == "pass" and v.portrait_enc is None
        actions = [e.action for e in s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()]
        assert actions[-6:] == ["document_read", "consent", "challenge_issued", "capture_started", "decision",
                                "number_assigned"]
        assert verify_chain(s).ok
    with pytest.raises(ConflictError) as used:
        registrations.register(svc, agent, vid)
    assert used.value.code == "verification_used"


def test_cap_per_operator_is_enforced_and_names_the_cap(db_url: str) -> None:
    svc, _ = seeded(db_url)
    agent = actor(svc, "agent1")
    card = prc_card()
    for _ in range(5):
        registrations.register(svc, agent, verify(svc, agent, card))
    with pytest.raises(CapExceededError) as refused:
        registrations.register(svc, agent, verify(svc, agent, card))
    assert refused.value.cap == "per_operator" and refused.value.limit == 5
    with svc.db.read() as s:
        assert s.execute(select(func.count()).select_from(Registration)).scalar_one() == 5
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "cap_refused")).scalar_one()


def test_a_number_in_other_digits_is_the_same_person_and_counts_against_the_cap(db_url: str) -> None:
    """Arabic-Indic or Devanagari digits once made a new person: the cap and the failure lock did not see them."""
    svc, _ = seeded(db_url, cap_total=2)
    agent = actor(svc, "agent1")
    card = prc_card()
    arabic = {**card, "number": card["number"][:14] + "".join(chr(0x660 + int(d)) for d in card["number"][14:17])
              + card["number"][17]}
    devanagari = {**card, "number": "".join(chr(0x966 + int(d)) if d.isdigit() else d for d in card["number"])}
    first = registrations.register(svc, agent, verify(svc, agent, card))
    second = registrations.register(svc, agent, verify(svc, agent, arabic))
    assert first.person_id == second.person_id
    with pytest.raises(CapExceededError):
        registrations.register(svc, agent, verify(svc, agent, devanagari))


def test_a_pass_belongs_to_the_agent_and_outlet_that_ran_it(db_url: str) -> None:
    svc, demo = seeded(db_url)
    agent = actor(svc, "agent1")
    elsewhere = admin.create_outlet(svc, SYSTEM, "DEMO-002", "Another outlet", operator_id=demo.operator_id)
    admin.create_user(svc, SYSTEM, "agent2", DEMO_PASSWORD, "agent", operator_id=demo.operator_id,
                      outlet_id=elsewhere.id)
    admin.create_user(svc, SYSTEM, "agent3", DEMO_PASSWORD, "agent", operator_id=demo.operator_id,
                      outlet_id=demo.outlet_id)
    vid = verify(svc, agent, prc_card())
    for other in ("agent2", "agent3", "super1"):  # another outlet, another agent at the same outlet, a supervisor
        with pytest.raises(ForbiddenError) as refused:
            registrations.register(svc, actor(svc, other), vid)
        assert refused.value.code == "not_your_verification"
    with svc.db.read() as s:
        assert s.get(Verification, vid).status == "decided"  # type: ignore[union-attr]
    registrations.register(svc, agent, vid)  # still good for the agent who ran it


def test_frames_are_not_read_before_the_verification_is_found_and_claimed(db_url: str) -> None:
    svc, _ = seeded(db_url)
    agent = actor(svc, "agent1")

    def untouchable() -> Iterator[tuple[Any, float]]:
        raise AssertionError("a frame was decoded before the verification was checked")
        yield  # pragma: no cover

    with pytest.raises(NotFoundError):
        verifications.submit_capture(svc, agent, "no-such-verification", untouchable())
    opened = verifications.open_verification(svc, agent, prc_card(), portrait_bytes(), consent=True)
    with pytest.raises(ConflictError):  # not started
        verifications.submit_capture(svc, agent, opened.verification.id, untouchable())


def test_total_cap_across_operators(db_url: str) -> None:
    svc, _ = seeded(db_url, cap_total=2)
    agent = actor(svc, "agent1")
    card = prc_card()
    for _ in range(2):
        registrations.register(svc, agent, verify(svc, agent, card))
    with pytest.raises(CapExceededError) as refused:
        registrations.register(svc, agent, verify(svc, agent, card))
    assert refused.value.cap == "total"


def test_failures_lock_the_document_then_unlock(db_url: str) -> None:
    clock = Clock()
    svc, _ = seeded(db_url, live_check=FixedLiveCheck("fail"), clock=clock)
    agent = actor(svc, "agent1")
    card = prc_card()
    for _ in range(5):
        vid = verify(svc, agent, card)
        with pytest.raises(ConflictError):
            registrations.register(svc, agent, vid)
    with pytest.raises(LockedError):
        verify(svc, agent, card)
    verify(svc, agent, prc_card())  # another document is not affected
    clock.advance(minutes=11)
    verify(svc, agent, card)


def test_challenge_is_single_use_expires_and_cannot_be_altered(db_url: str) -> None:
    clock = Clock()
    svc, _ = seeded(db_url, clock=clock)
    agent = actor(svc, "agent1")
    opened = verifications.open_verification(svc, agent, prc_card(), portrait_bytes(), consent=True)
    vid = opened.verification.id
    body, sig = opened.challenge.split(".")
    with pytest.raises(ChallengeError) as altered:
        verifications.start_capture(svc, agent, vid, body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + sig)
    assert altered.value.code in ("challenge_altered", "challenge_invalid")
    verifications.start_capture(svc, agent, vid, opened.challenge)
    with pytest.raises(ChallengeError) as reused:
        verifications.start_capture(svc, agent, vid, opened.challenge)
    assert reused.value.code == "challenge_reused"
    late = verifications.open_verification(svc, agent, prc_card(), portrait_bytes(), consent=True)
    clock.advance(seconds=21)
    with pytest.raises(ChallengeError) as expired:
        verifications.start_capture(svc, agent, late.verification.id, late.challenge)
    assert expired.value.code == "challenge_expired"
    with svc.db.read() as s:
        assert s.get(Verification, late.verification.id).status == "open"  # type: ignore[union-attr]


def test_bad_document_and_missing_consent_change_nothing(db_url: str) -> None:
    svc, _ = seeded(db_url)
    agent = actor(svc, "agent1")
    with svc.db.read() as s:
        before = s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    bad = prc_card()
    bad["number"] = bad["number"][:-1] + ("0" if bad["number"][-1] != "0" else "1")
    with pytest.raises(DocumentError) as broken:
        verifications.open_verification(svc, agent, bad, portrait_bytes(), consent=True)
    assert broken.value.field == "number"
    with pytest.raises(Exception) as no_consent:
        verifications.open_verification(svc, agent, prc_card(), portrait_bytes(), consent=False)
    assert getattr(no_consent.value, "code", "") == "consent_required"
    with svc.db.read() as s:
        assert s.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == before
        assert s.execute(select(func.count()).select_from(Verification)).scalar_one() == 0


def test_review_needs_a_second_person(db_url: str) -> None:
    svc, _ = seeded(db_url, live_check=FixedLiveCheck("review", ["match_uncertain"]))
    agent, supervisor = actor(svc, "agent1"), actor(svc, "super1")
    vid = verify(svc, agent, prc_card())
    with pytest.raises(ConflictError):
        registrations.register(svc, agent, vid)
    with pytest.raises(ForbiddenError):
        verifications.review(svc, agent, vid, "pass", "looks right")
    assert [item.id for item in verifications.review_queue(svc, supervisor)] == [vid]
    verifications.review(svc, supervisor, vid, "pass", "same person: glasses in the card photo")
    registrations.register(svc, agent, vid)


def test_lookup_cancel_transfer(db_url: str) -> None:
    svc, _ = seeded(db_url)
    agent = actor(svc, "agent1")
    a, b = prc_card(), prc_card(name="阿依古丽·买买提")
    r1 = registrations.register(svc, agent, verify(svc, agent, a))
    r2 = registrations.register(svc, agent, verify(svc, agent, a))
    mine = registrations.numbers_of(svc, agent, verify(svc, agent, a, "lookup"))
    assert {m.registration_id for m in mine} == {r1.id, r2.id}
    registrations.cancel(svc, agent, r1.id, "customer request")
    moved = registrations.transfer(svc, agent, r2.id, verify(svc, agent, b))
    assert moved.person_id != r2.person_id
    assert registrations.numbers_of(svc, agent, verify(svc, agent, a, "lookup")) == []
    assert len(registrations.numbers_of(svc, agent, verify(svc, agent, b, "lookup"))) == 1


def test_reverification_deadline_suspends_then_reverify_restores(db_url: str) -> None:
    clock = Clock()
    svc, _ = seeded(db_url, clock=clock)
    agent, supervisor = actor(svc, "agent1"), actor(svc, "super1")
    card = prc_card()
    reg = registrations.register(svc, agent, verify(svc, agent, card))
    order = registrations.order_reverification(svc, supervisor, reg.id, "fraud signal: many outlets")
    clock.advance(hours=25)
    assert registrations.suspend_overdue(svc) == 1
    with svc.db.read() as s:
        assert s.get(Registration, reg.id).status == "suspended"  # type: ignore[union-attr]
    agent = actor(svc, "agent1")
    second = registrations.order_reverification(svc, actor(svc, "super1"), reg.id, "restore")
    registrations.complete_reverification(svc, agent, second.id, verify(svc, agent, card, "reverify"))
    with svc.db.read() as s:
        assert s.get(Registration, reg.id).status == "active"  # type: ignore[union-attr]
    assert order.status == "open"


def test_stale_pass_must_verify_again(db_url: str) -> None:
    clock = Clock()
    svc, _ = seeded(db_url, clock=clock)
    agent = actor(svc, "agent1")
    vid = verify(svc, agent, prc_card())
    clock.advance(minutes=6)
    with pytest.raises(ConflictError) as stale:
        registrations.register(svc, agent, vid)
    assert stale.value.code == "verification_stale"


def test_representative_registration_records_both(db_url: str) -> None:
    svc, _ = seeded(db_url)
    agent = actor(svc, "agent1")
    from datetime import date
    child = prc_card(birth=date(2015, 1, 2))
    child["issue_date"], child["expiry_date"] = "2022-01-10", "2027-01-10"
    parent = prc_card()
    opened = verifications.open_verification(svc, agent, child, portrait_bytes(), consent=True,
                                             representative=parent)
    verifications.start_capture(svc, agent, opened.verification.id, opened.challenge)
    verifications.submit_capture(svc, agent, opened.verification.id, noise_frames())
    reg = registrations.register(svc, agent, opened.verification.id)
    assert reg.representative_id is not None and reg.representative_id != reg.person_id


def test_a_late_second_decision_cannot_revive_a_used_pass(db_url: str) -> None:
    """Two submissions of one capture (two workers): only the one that claimed the session records a decision,
    so a pass already used for a number cannot be reset to an unused pass."""
    svc, _ = seeded(db_url)
    agent = actor(svc, "agent1")
    vid = verify(svc, agent, prc_card())
    registrations.register(svc, agent, vid)
    outcome = FixedLiveCheck("pass").check([], noise_frames(), None)  # type: ignore[arg-type]
    with pytest.raises(ConflictError):
        verifications.record_outcome(svc, agent, vid, outcome)
    with svc.db.read() as s:
        assert s.get(Verification, vid).status == "used"  # type: ignore[union-attr]
    with pytest.raises(ChallengeError):
        verifications.submit_capture(svc, agent, vid, noise_frames())
