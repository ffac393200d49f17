"""Verification sessions: document + consent -> challenge -> capture -> decision.

Three requests, each of which any worker can serve (all state is in the database):

1. ``open_verification``: validates the document, records the separate consent to face processing, stores the
   portrait encrypted until the decision, and issues a signed random challenge.
2. ``start_capture``: redeems the challenge (signature, expiry, single use by a conditional update of the row, so
   two workers cannot both redeem it) and starts the capture clock.
3. ``submit_capture``: claims the session (capturing -> processing, again a conditional update), runs the live
   check outside any transaction, then records the decision and empties the portrait in one transaction.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from realname.audit.log import append
from realname.context import Actor, Services
from realname.documents.attestation import NOT_SIGNED
from realname.documents.models import ValidDocument
from realname.documents.validate import parse_card, validate_document
from realname.errors import (
    AttestationError,
    BadInputError,
    ChallengeError,
    ConflictError,
    ForbiddenError,
    LockedError,
    NotFoundError,
)
from realname.images import BGRImage, decode_image
from realname.live_check import CheckOutcome
from realname.liveness.challenges import Action, parse_actions, random_actions
from realname.liveness.light import Flash, Shown, random_flashes
from realname.liveness.light import decode as decode_flashes
from realname.liveness.light import encode as encode_flashes
from realname.operations import metrics
from realname.operators.admin import get_operator_settings
from realname.operators.auth import require
from realname.operators.readers import check_document
from realname.registration.people import doc_index, upsert_person
from realname.registry.db import rowcount
from realname.registry.states import VerificationDecision, VerificationStatus
from realname.registry.tables import Consent, FaceTemplate, Outlet, Person, User, Verification

Purpose = Literal["register", "lookup", "reverify"]


@dataclass(frozen=True)
class Opened:
    verification: Verification
    challenge: str  # the signed token the kiosk sends back to start the capture
    actions: tuple[Action, ...]
    expires_at: datetime
    document: ValidDocument
    flashes: tuple[Flash, ...] = ()  # the colours the kiosk shows (screen-light check), empty when it is off


def read_document(svc: Services, card: Mapping[str, Any]) -> ValidDocument:
    """The card's fields, validated; a reader's statement and a chip read are checked apart (operators.readers)."""
    fields = {k: v for k, v in card.items() if k not in NOT_SIGNED}
    return validate_document(parse_card(fields), svc.now().date())


def _failures(svc: Services, s: Any, index: str) -> tuple[int, datetime | None]:
    since = svc.now() - timedelta(minutes=svc.settings.failure_window_minutes)
    count, oldest = s.execute(
        select(func.count(), func.min(Verification.decided_at)).where(
            Verification.doc_index == index, Verification.decision == VerificationDecision.FAIL,
            Verification.decided_at >= since)
    ).one()
    return int(count), oldest


def retries_left(svc: Services, v: Verification) -> int | None:
    """After a failed verification: how many more tries this document has before it locks."""
    if v.decision != VerificationDecision.FAIL:
        return None
    with svc.db.read() as s:
        count, _ = _failures(svc, s, v.doc_index)
    return max(0, svc.settings.max_failures - count)


def capture_deadline(svc: Services, v: Verification) -> datetime | None:
    if v.status != VerificationStatus.CAPTURING or v.started_at is None:
        return None
    return v.started_at + timedelta(seconds=svc.settings.capture_seconds)


def open_verification(svc: Services, actor: Actor, card: Mapping[str, Any], portrait: bytes, *,
                      consent: bool, purpose: Purpose = "register",
                      representative: Mapping[str, Any] | None = None, template_consent: bool = False) -> Opened:
    require(actor, "verifications.open")
    if actor.operator_id is None:
        raise ForbiddenError("only an operator's agents can open a verification")
    if not consent:
        raise BadInputError("the customer did not consent to face processing: use the operator's manual "
                            "verification path instead", code="consent_required")
    if template_consent and not svc.settings.retain_templates:
        raise BadInputError("this operator does not keep face templates: leave template consent off",
                            code="template_retention_disabled")
    doc = read_document(svc, card)
    rep = read_document(svc, representative) if representative is not None else None
    decode_image(portrait, name="portrait", max_bytes=svc.settings.max_portrait_bytes,
                 max_pixels=svc.settings.max_portrait_pixels)
    actions: tuple[Action, ...] | list[Action]
    operator = get_operator_settings(svc, actor.operator_id)
    if svc.settings.fixed_challenge:
        actions = parse_actions(svc.settings.fixed_challenge)
    else:  # as many actions as the operator asks for (its settings, over the service's default)
        actions = random_actions(operator.challenge_actions)
    flashes = random_flashes() if operator.light_check else ()
    now = svc.now()
    token = svc.signer.issue(tuple(actions), now=now.timestamp(), flashes=encode_flashes(flashes) if flashes else "")
    challenge = svc.signer.read(token, now=now.timestamp())
    expires = now + timedelta(seconds=svc.settings.challenge_seconds)
    with svc.db.write() as s:
        trust = check_document(s, svc, actor, card, portrait, doc_type=doc.doc_type.value,
                               mrz=card.get("mrz") if isinstance(card.get("mrz"), str) else None)
        index = doc_index(svc, doc.doc_type.value, doc.number)
        count, oldest = _failures(svc, s, index)
        if count >= svc.settings.max_failures:
            wait = (oldest + timedelta(minutes=svc.settings.failure_window_minutes) - now) if oldest else None
            minutes = max(1, int(wait.total_seconds() // 60) + 1) if wait else svc.settings.failure_window_minutes
            raise LockedError(f"{count} failed verifications for this document recently: try again in {minutes} "
                              "minutes or use the manual path", code="too_many_attempts")
        person = upsert_person(s, svc, doc)
        rep_person = upsert_person(s, svc, rep) if rep else None
        agreed = Consent(person_id=(rep_person or person).id, kind="face_processing", granted=True,
                         text_version=svc.settings.consent_text_version, agent_id=actor.user_id, given_at=now)
        s.add(agreed)
        kept = Consent(person_id=person.id, kind="template_retention", granted=True, agent_id=actor.user_id,
                       text_version=svc.settings.consent_text_version, given_at=now) if template_consent else None
        if kept is not None:
            s.add(kept)
        s.flush()
        v = Verification(template_consent_id=kept.id if kept else None, purpose=purpose,
                         operator_id=actor.operator_id, outlet_id=actor.outlet_id,
                         agent_id=actor.user_id, person_id=person.id,
                         representative_id=rep_person.id if rep_person else None, consent_id=agreed.id,
                         doc_index=index, challenge_nonce=challenge.nonce,
                         challenge_actions=",".join(a.value for a in actions), challenge_expires_at=expires,
                         challenge_flash=encode_flashes(flashes) if flashes else None,
                         portrait_sha256=hashlib.sha256(portrait).hexdigest(),
                         portrait_enc=svc.cipher.encrypt_bytes(portrait, context="verification.portrait"),
                         status=VerificationStatus.OPEN, reasons=[], created_at=now,
                         kiosk_id=actor.kiosk_id, reader_attestation=trust.reader_attestation,
                         card_reader_id=trust.reader_id, chip_check=trust.chip_check)
        s.add(v)
        s.flush()
        who = actor.username
        append(s, at=now, actor=who, action="document_read", subject=person.id,
               payload={"verification": v.id, "doc_type": doc.doc_type.value, "number": doc.display_number,
                        "representative": rep_person.id if rep_person else None, "kiosk": actor.kiosk_id,
                        "reader": trust.reader_attestation.value, "card_reader": trust.reader_id,
                        "chip": trust.chip_check.value if trust.chip_check else None,
                        "chip_signer": trust.chip_signer})
        append(s, at=now, actor=who, action="consent", subject=agreed.id,
               payload={"kind": "face_processing", "text_version": agreed.text_version, "person": agreed.person_id,
                        "template_retention": kept is not None})
        append(s, at=now, actor=who, action="challenge_issued", subject=v.id,
               payload={"actions": v.challenge_actions, "nonce_sha256": hashlib.sha256(challenge.nonce.encode())
                        .hexdigest(), "expires_at": expires.isoformat(), "light": v.challenge_flash,
                        "kiosk": actor.kiosk_id})
    return Opened(v, token, tuple(actions), expires, doc, tuple(flashes))


def _own(s: Session, actor: Actor, verification_id: str, *, lock: bool = False, counter: bool = False
         ) -> Verification:
    """The caller's operator's verification; another operator's record does not exist for this caller.

    ``counter``: the caller must also be the agent, at the outlet, who opened it. A live check and its pass belong
    to the counter where the customer stood: another agent (at another outlet) cannot capture into it or use it.
    """
    q = select(Verification).where(Verification.id == verification_id)
    v = s.execute(q.with_for_update() if lock else q).scalar_one_or_none()
    if v is None or v.operator_id != actor.operator_id:
        raise NotFoundError("no such verification")
    if counter and actor.role != "system" and (v.agent_id != actor.user_id or v.outlet_id != actor.outlet_id):
        raise ForbiddenError("this verification was run by another agent or at another outlet: verify the customer "
                             "here", code="not_your_verification")
    if counter and v.kiosk_id is not None and actor.kiosk_id != v.kiosk_id:
        raise AttestationError("this verification was opened on another kiosk: continue it there",
                               code="kiosk_mismatch")
    return v


def start_capture(svc: Services, actor: Actor, verification_id: str, token: str) -> Verification:
    require(actor, "verifications.capture")
    now = svc.now()
    challenge = svc.signer.read(token, now=now.timestamp())  # altered or expired: ChallengeError, nothing changes
    with svc.db.write() as s:
        v = _own(s, actor, verification_id, counter=True)
        if v.challenge_nonce != challenge.nonce:
            raise ChallengeError("this challenge belongs to another verification", code="challenge_altered")
        claimed = rowcount(s.execute(
            update(Verification).where(Verification.id == v.id, Verification.status == VerificationStatus.OPEN)
            .values(status=VerificationStatus.CAPTURING, started_at=now)
        ))
        if claimed != 1:
            raise ChallengeError("this challenge was already used: start the live check again",
                                 code="challenge_reused")
        append(s, at=now, actor=actor.username, action="capture_started", subject=v.id,
               payload={"kiosk": actor.kiosk_id})
    with svc.db.read() as s:
        got = s.get(Verification, verification_id)
        assert got is not None
        return got


def submit_capture(svc: Services, actor: Actor, verification_id: str, frames: Iterable[tuple[BGRImage, float]],
                   flash_times: Sequence[float] | None = None) -> tuple[Verification, CheckOutcome]:
    """``flash_times``: when the kiosk showed each colour of the screen-light sequence, on the clock of the frame
    timestamps; required when the challenge has a sequence."""
    require(actor, "verifications.capture")
    now = svc.now()
    with svc.db.write() as s:
        v = _own(s, actor, verification_id, counter=True)
        if v.status == VerificationStatus.OPEN:
            raise ConflictError("start the capture with the challenge first", code="capture_not_started")
        if v.status != VerificationStatus.CAPTURING:
            raise ChallengeError("this live check was already submitted: start a new one", code="challenge_reused")
        light = _shown(v.challenge_flash, flash_times)
        assert v.started_at is not None and v.portrait_enc is not None
        if now > v.started_at + timedelta(seconds=svc.settings.capture_seconds):
            v.status, v.decision, v.decided_at, v.portrait_enc = VerificationStatus.EXPIRED, None, now, None
            append(s, at=now, actor=actor.username, action="capture_expired", subject=v.id,
                   payload={"kiosk": actor.kiosk_id})
            expired = True
        else:
            expired = False
            # Conditional: of two concurrent submissions (two workers, no row lock), only one moves it on.
            claimed = rowcount(s.execute(update(Verification).where(
                Verification.id == v.id, Verification.status == VerificationStatus.CAPTURING)
                .values(status=VerificationStatus.PROCESSING)))
            if claimed != 1:
                raise ChallengeError("this live check was already submitted: start a new one",
                                     code="challenge_reused")
            portrait_token, actions = v.portrait_enc, parse_actions(v.challenge_actions)
            keep = v.template_consent_id is not None and svc.settings.retain_templates
    if expired:
        raise ChallengeError("the capture took too long: start the live check again", code="challenge_expired")
    portrait = decode_image(svc.cipher.decrypt_bytes(portrait_token, context="verification.portrait"),
                            name="portrait", max_bytes=svc.settings.max_portrait_bytes,
                            max_pixels=svc.settings.max_portrait_pixels)
    try:
        with metrics.timed(metrics.metrics().live_check):
            outcome = svc.live_check.check(actions, frames, portrait, keep_template=keep, light=light)
    except BaseException:
        # Bad frames (an unreadable upload) change nothing: the session goes back to capturing.
        with svc.db.write() as s:
            s.execute(update(Verification).where(Verification.id == verification_id,
                                                 Verification.status == VerificationStatus.PROCESSING)
                      .values(status=VerificationStatus.CAPTURING))
        raise
    return record_outcome(svc, actor, verification_id, outcome), outcome


def _shown(flash: str | None, times: Sequence[float] | None) -> Shown | None:
    """The challenge's colour sequence with the times the kiosk showed them; bad input if they do not pair up."""
    if flash is None:
        return None
    flashes = decode_flashes(flash)
    if times is None or len(times) != len(flashes):
        raise BadInputError(f"this live check shows {len(flashes)} screen colours: send 'flash_times' with the time "
                            "each appeared, on the clock of the frame timestamps", code="bad_flash_times")
    if not all(math.isfinite(t) for t in times) or any(b <= a for a, b in itertools.pairwise(times)):
        raise BadInputError("flash_times must be increasing finite seconds", code="bad_flash_times")
    return Shown(flashes, tuple(times))


def record_outcome(svc: Services, actor: Actor, verification_id: str, outcome: CheckOutcome) -> Verification:
    now = svc.now()
    with svc.db.write() as s:
        v = s.execute(select(Verification).where(Verification.id == verification_id).with_for_update()).scalar_one()
        if v.status != VerificationStatus.PROCESSING:  # only the submission that claimed the session decides it
            raise ConflictError("this live check was already decided", code="challenge_reused")
        v.status, v.decision = VerificationStatus.DECIDED, VerificationDecision(outcome.decision)
        v.reasons, v.decided_at = outcome.reasons, now
        v.liveness_passed, v.liveness_score = outcome.liveness_passed, outcome.liveness_score
        v.match_decision, v.match_score = outcome.match_decision, outcome.match_score
        v.model_version, v.threshold_version = outcome.model_version, outcome.threshold_version
        v.portrait_enc = None  # the portrait is dropped as soon as the decision is made
        if outcome.template is not None and v.template_consent_id is not None and svc.settings.retain_templates:
            vector = np.asarray(outcome.template, np.float32).tobytes()
            tpl = FaceTemplate(person_id=v.person_id, consent_id=v.template_consent_id, model="sface",
                               template_enc=svc.cipher.encrypt_bytes(vector, context="face.template"), created_at=now,
                               retain_until=now.date() + timedelta(days=svc.settings.template_retention_days))
            s.add(tpl)
            append(s, at=now, actor=actor.username, action="template_stored", subject=v.person_id,
                   payload={"verification": v.id, "retain_until": tpl.retain_until.isoformat()})
        append(s, at=now, actor=actor.username, action="decision", subject=v.id,
               payload={"decision": outcome.decision, "reasons": outcome.reasons, "purpose": v.purpose,
                        "light_check": v.challenge_flash is not None,
                        "person": v.person_id, "model_version": outcome.model_version,
                        "threshold_version": outcome.threshold_version, "kiosk": actor.kiosk_id})
    metrics.count_decision(outcome.decision, outcome.reasons)  # after the commit: only decisions on record count
    if "no_face" in outcome.reasons:  # no usable face in the frames (the portrait's is counted by the compare)
        metrics.count_failure_to_acquire("live_check")
    return v


def review(svc: Services, actor: Actor, verification_id: str, decision: Literal["pass", "fail"],
           reason: str) -> Verification:
    """A supervisor (not the agent who ran it) settles a ``review`` decision, with a reason."""
    require(actor, "verifications.review")
    if not reason.strip():
        raise BadInputError("a review needs a reason", code="reason_required")
    now = svc.now()
    with svc.db.write() as s:
        v = _own(s, actor, verification_id)
        if v.decision != VerificationDecision.REVIEW or v.status != VerificationStatus.DECIDED:
            raise ConflictError("only a verification waiting for review can be reviewed", code="not_in_review")
        if v.agent_id == actor.user_id:
            raise ForbiddenError("a second person must review: the agent who ran the check cannot")
        v.decision = VerificationDecision(decision)
        v.reviewed_by, v.review_reason, v.reviewed_at = actor.user_id, reason.strip(), now
        append(s, at=now, actor=actor.username, action="review", subject=v.id,
               payload={"decision": decision, "reason": reason.strip()})
    return v


# The one review queue (the API's and the back office's): what a supervisor needs to pick the next case.
@dataclass(frozen=True)
class ReviewItem:
    id: str
    person_number: str  # masked
    agent: str  # username of the agent who ran the check
    outlet: str | None  # outlet code
    reasons: list[str]
    decided_at: datetime | None


def review_queue(svc: Services, actor: Actor) -> list[ReviewItem]:
    """The operator's verifications waiting for a supervisor, oldest first."""
    require(actor, "verifications.review")
    with svc.db.read() as s:
        rows = s.execute(
            select(Verification.id, Person.number_masked, User.username, Outlet.code, Verification.reasons,
                   Verification.decided_at)
            .join(Person, Person.id == Verification.person_id)
            .join(User, User.id == Verification.agent_id)
            .outerjoin(Outlet, Outlet.id == Verification.outlet_id)
            .where(Verification.operator_id == actor.operator_id, Verification.status == VerificationStatus.DECIDED,
                   Verification.decision == VerificationDecision.REVIEW)
            .order_by(Verification.decided_at, Verification.id)).all()
    return [ReviewItem(vid, number, agent, outlet, list(reasons or []), decided)
            for vid, number, agent, outlet, reasons, decided in rows]


def get_verification(svc: Services, actor: Actor, verification_id: str) -> Verification:
    require(actor, "verifications.read")
    with svc.db.read() as s:
        v = _own(s, actor, verification_id)
        return v


def consume_pass(s: Any, svc: Services, actor: Actor, verification_id: str, purpose: Purpose) -> tuple[Verification,
                                                                                                        Person]:
    """Inside the caller's write transaction: lock a passed, unused, recent verification and mark it used."""
    v = _own(s, actor, verification_id, lock=True, counter=True)
    if v.purpose != purpose:
        raise ConflictError(f"this verification was opened for '{v.purpose}', not '{purpose}'",
                            code="wrong_purpose")
    if v.status == VerificationStatus.USED:
        raise ConflictError("this verification was already used: a pass is good for one request",
                            code="verification_used")
    if v.status != VerificationStatus.DECIDED or v.decision != VerificationDecision.PASS:
        raise ConflictError("the customer has not passed the verification", code="verification_not_passed")
    decided = v.reviewed_at or v.decided_at
    assert decided is not None
    if svc.now() - decided > timedelta(minutes=svc.settings.verification_valid_minutes):
        raise ConflictError("the verification is too old: verify the customer again", code="verification_stale")
    v.status, v.used_at = VerificationStatus.USED, svc.now()
    person = s.execute(select(Person).where(Person.id == v.person_id).with_for_update()).scalar_one()
    return v, person
