"""Enrolled kiosks: the counter's devices prove every state-changing request of a verification with WebAuthn.

An operator's administrator enrols a kiosk from the back office on that kiosk: the browser creates a credential
on the kiosk's platform authenticator (its TPM in production) and the server checks the attestation
(py_webauthn) and keeps the public key, bound to an outlet. From then on, each request that opens, starts,
captures or registers a verification carries an assertion over a challenge that binds the request:

    challenge = sha256("realname-kiosk-request-v1" | method | path | nonce | sha256(body))

where the nonce is one the server issued to that agent (single use, short-lived) and the body is the exact bytes
sent: card JSON with the portrait, the frames with their timestamps. The server recomputes the challenge from
what it received, so an assertion made for one body does not pass with another, and a replayed one finds its
nonce used. The signature counter must move forward (a cloned credential shows itself), the kiosk must be
active and belong to the agent's outlet. Once an operator requires enrolled kiosks (the default for new
operators), an agent's login alone no longer opens a verification.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from webauthn import (
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorAttachment,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from realname.audit.log import append
from realname.context import Actor, Services
from realname.errors import AttestationError, BadInputError, ConflictError, NotFoundError
from realname.operators.admin import get_operator_settings
from realname.operators.auth import require
from realname.registry.tables import Kiosk, KioskNonce, Outlet

REQUEST_CONTEXT = b"realname-kiosk-request-v1"
ENROLMENT_SECONDS = 300.0
MAX_PROOF_CHARS = 8192  # an assertion is about 1 KB of JSON
# What a crafted credential makes py_webauthn raise: its own errors, and plain ones from its base64/CBOR parsing.
MALFORMED = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError)


@dataclass(frozen=True)
class KioskProof:
    """What a kiosk sends with a request: the nonce it was given and its assertion (the JSON of
    ``navigator.credentials.get``), from the ``X-Kiosk-Nonce`` and ``X-Kiosk-Assertion`` headers."""

    nonce: str
    assertion: dict[str, Any]

    @classmethod
    def from_headers(cls, nonce: str | None, assertion: str | None) -> KioskProof | None:
        if not nonce and not assertion:
            return None
        if not nonce or not assertion or len(assertion) > MAX_PROOF_CHARS or len(nonce) > 64:
            raise AttestationError("a kiosk proof needs both X-Kiosk-Nonce and X-Kiosk-Assertion",
                                   code="kiosk_assertion_malformed")
        try:
            parsed = json.loads(base64url_to_bytes(assertion))
        except (ValueError, binascii.Error):
            raise AttestationError("X-Kiosk-Assertion is not base64url JSON",
                                   code="kiosk_assertion_malformed") from None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("rawId"), str):
            raise AttestationError("X-Kiosk-Assertion is not a WebAuthn assertion", code="kiosk_assertion_malformed")
        return cls(nonce, parsed)


def request_challenge(nonce: str, method: str, path: str, body_sha256: bytes) -> bytes:
    """The challenge a kiosk signs for one request; the kiosk page computes the same with crypto.subtle."""
    return hashlib.sha256(b"|".join([REQUEST_CONTEXT, method.upper().encode(), path.encode(), nonce.encode(),
                                     body_sha256])).digest()


def _origin(svc: Services, credential: Mapping[str, Any]) -> str:
    """The origin the browser reports, accepted when it is configured, or (none configured) on the RP's host."""
    response = credential.get("response")
    client_data_b64 = response.get("clientDataJSON") if isinstance(response, Mapping) else None
    try:
        assert isinstance(client_data_b64, str)
        client = json.loads(base64url_to_bytes(client_data_b64))
        origin = str(client["origin"])
    except (AssertionError, ValueError, KeyError, TypeError, binascii.Error):
        raise AttestationError("the kiosk's client data is unreadable", code="kiosk_assertion_malformed") from None
    allowed = svc.settings.webauthn_origins
    if (origin in allowed) if allowed else urlsplit(origin).hostname == svc.settings.webauthn_rp_id:
        return origin
    raise AttestationError(f"kiosk pages are not served from {origin}", code="kiosk_origin_refused")


# --- enrolment ---------------------------------------------------------------------------------------------------

def enrolment_options(svc: Services, actor: Actor, outlet_id: str, name: str) -> tuple[str, dict[str, Any]]:
    """Start enrolling the kiosk the administrator is using: an enrolment id and the options for
    ``navigator.credentials.create``. The challenge is kept (single use) with the outlet and name."""
    require(actor, "kiosks.manage")
    name = name.strip()
    if not 1 <= len(name) <= 80:
        raise BadInputError("a kiosk's name is 1-80 characters", code="bad_kiosk_name")
    challenge = secrets.token_bytes(32)
    now = svc.now()
    with svc.db.write() as s:
        outlet = s.get(Outlet, outlet_id)
        if outlet is None or outlet.operator_id != actor.operator_id:
            raise NotFoundError("no such outlet at this operator")
        taken = [k.credential_id for k in s.execute(select(Kiosk).where(Kiosk.operator_id == actor.operator_id))
                 .scalars()]
        nonce = KioskNonce(nonce=bytes_to_base64url(secrets.token_bytes(24)), purpose="enrol",
                           user_id=actor.user_id, operator_id=actor.operator_id, outlet_id=outlet_id,
                           challenge=challenge, label=name, created_at=now,
                           expires_at=now + timedelta(seconds=ENROLMENT_SECONDS))
        s.add(nonce)
    options = generate_registration_options(
        rp_id=svc.settings.webauthn_rp_id, rp_name="realname", user_name=f"kiosk {name}",
        user_id=hashlib.sha256(nonce.nonce.encode()).digest()[:16], challenge=challenge, timeout=120_000,
        attestation=AttestationConveyancePreference.DIRECT,
        authenticator_selection=AuthenticatorSelectionCriteria(
            authenticator_attachment=AuthenticatorAttachment.PLATFORM,
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.DISCOURAGED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in taken])
    return nonce.nonce, json.loads(options_to_json(options))


def enrol(svc: Services, actor: Actor, enrolment_id: str, credential: dict[str, Any]) -> Kiosk:
    """Finish an enrolment: check the authenticator's attestation and keep its public key for the outlet."""
    require(actor, "kiosks.manage")
    now = svc.now()
    with svc.db.write() as s:
        pending = s.get(KioskNonce, enrolment_id, with_for_update=True)
        if (pending is None or pending.purpose != "enrol" or pending.user_id != actor.user_id
                or pending.expires_at < now):
            raise ConflictError("this enrolment is unknown, used or expired: start again", code="enrolment_expired")
        s.delete(pending)
        origin = _origin(svc, credential)
        try:
            verified = verify_registration_response(
                credential=credential, expected_challenge=pending.challenge,
                expected_rp_id=svc.settings.webauthn_rp_id, expected_origin=origin)
        except MALFORMED as exc:
            raise AttestationError(f"the kiosk's attestation does not verify: {exc}",
                                   code="kiosk_attestation_invalid") from None
        credential_id = bytes_to_base64url(verified.credential_id)
        if s.execute(select(Kiosk).where(Kiosk.credential_id == credential_id)).scalar_one_or_none():
            raise ConflictError("this authenticator is already enrolled", code="duplicate")
        kiosk = Kiosk(operator_id=pending.operator_id, outlet_id=pending.outlet_id, name=pending.label,
                      credential_id=credential_id, public_key=verified.credential_public_key,
                      sign_count=verified.sign_count, aaguid=verified.aaguid,
                      attestation_format=str(verified.fmt),
                      enrolled_by=actor.user_id, enrolled_at=now)
        s.add(kiosk)
        s.flush()
        append(s, at=now, actor=actor.username, action="kiosk_enrolled", subject=kiosk.id,
               payload={"outlet": kiosk.outlet_id, "name": kiosk.name, "aaguid": kiosk.aaguid,
                        "attestation": kiosk.attestation_format})
    return kiosk


# --- management --------------------------------------------------------------------------------------------------

def list_kiosks(svc: Services, actor: Actor) -> list[Kiosk]:
    require(actor, "kiosks.manage")
    with svc.db.read() as s:
        return list(s.execute(select(Kiosk).where(Kiosk.operator_id == actor.operator_id)
                              .order_by(Kiosk.enrolled_at, Kiosk.id)).scalars())


def _own(s: Any, actor: Actor, kiosk_id: str) -> Kiosk:
    kiosk = s.get(Kiosk, kiosk_id, with_for_update=True)
    if kiosk is None or kiosk.operator_id != actor.operator_id:
        raise NotFoundError("no such kiosk at this operator")
    assert isinstance(kiosk, Kiosk)
    return kiosk


def rename_kiosk(svc: Services, actor: Actor, kiosk_id: str, name: str) -> Kiosk:
    require(actor, "kiosks.manage")
    name = name.strip()
    if not 1 <= len(name) <= 80:
        raise BadInputError("a kiosk's name is 1-80 characters", code="bad_kiosk_name")
    with svc.db.write() as s:
        kiosk = _own(s, actor, kiosk_id)
        before, kiosk.name = kiosk.name, name
        append(s, at=svc.now(), actor=actor.username, action="kiosk_renamed", subject=kiosk.id,
               payload={"from": before, "to": name})
    return kiosk


def revoke_kiosk(svc: Services, actor: Actor, kiosk_id: str, reason: str) -> Kiosk:
    """Revoke a kiosk (lost, stolen, replaced): refused from its next request on."""
    require(actor, "kiosks.manage")
    if not reason.strip():
        raise BadInputError("say why the kiosk is revoked", code="reason_required")
    with svc.db.write() as s:
        kiosk = _own(s, actor, kiosk_id)
        if kiosk.revoked_at is not None:
            raise ConflictError("this kiosk is already revoked", code="already_revoked")
        kiosk.revoked_at, kiosk.revoked_by = svc.now(), actor.user_id
        append(s, at=svc.now(), actor=actor.username, action="kiosk_revoked", subject=kiosk.id,
               payload={"reason": reason.strip()})
    return kiosk


# --- proving requests --------------------------------------------------------------------------------------------

def request_nonce(svc: Services, actor: Actor) -> str:
    """A single-use nonce for the agent's next kiosk request."""
    require(actor, "verifications.capture")
    now = svc.now()
    nonce = bytes_to_base64url(secrets.token_bytes(24))
    with svc.db.write() as s:
        s.execute(delete(KioskNonce).where(KioskNonce.expires_at < now))  # keep the table small
        s.add(KioskNonce(nonce=nonce, purpose="request", user_id=actor.user_id, operator_id=actor.operator_id,
                         outlet_id=actor.outlet_id, challenge=b"", label=None, created_at=now,
                         expires_at=now + timedelta(seconds=svc.settings.kiosk_nonce_seconds)))
    return nonce


def kiosks_required(svc: Services, actor: Actor) -> bool:
    return actor.operator_id is not None and get_operator_settings(svc, actor.operator_id).require_enrolled_kiosks


def prove_request(svc: Services, actor: Actor, proof: KioskProof | None, *, method: str, path: str,
                  body_sha256: bytes) -> str | None:
    """The id of the enrolled kiosk that proved this request, or None when the operator does not require one and
    none was sent. Refused (and nothing changed) when the proof is missing, for another body, replayed, from a
    revoked kiosk or from a kiosk of another outlet."""
    if proof is None:
        if kiosks_required(svc, actor):
            raise AttestationError("this operator requires an enrolled kiosk: enrol this device in the back office",
                                   code="kiosk_assertion_required")
        return None
    now = svc.now()
    with svc.db.write() as s:
        nonce = s.get(KioskNonce, proof.nonce, with_for_update=True)
        if nonce is None or nonce.purpose != "request" or nonce.user_id != actor.user_id or nonce.expires_at < now:
            raise AttestationError("the kiosk's nonce is unknown, used or expired", code="kiosk_nonce_invalid")
        kiosk = s.execute(select(Kiosk).where(Kiosk.credential_id == proof.assertion["rawId"])
                          .with_for_update()).scalar_one_or_none()
        if kiosk is None or kiosk.operator_id != actor.operator_id:
            raise AttestationError("this kiosk is not enrolled at this operator", code="kiosk_unknown")
        if kiosk.revoked_at is not None:
            raise AttestationError("this kiosk was revoked", code="kiosk_revoked")
        if kiosk.outlet_id != actor.outlet_id:
            raise AttestationError("this kiosk belongs to another outlet", code="kiosk_other_outlet")
        origin = _origin(svc, proof.assertion)
        try:
            verified = verify_authentication_response(
                credential=proof.assertion, expected_challenge=request_challenge(proof.nonce, method, path,
                                                                                 body_sha256),
                expected_rp_id=svc.settings.webauthn_rp_id, expected_origin=origin,
                credential_public_key=kiosk.public_key, credential_current_sign_count=kiosk.sign_count)
        except MALFORMED as exc:
            raise AttestationError(f"the kiosk's assertion does not cover this request: {exc}",
                                   code="kiosk_assertion_invalid") from None
        s.delete(nonce)
        kiosk.sign_count, kiosk.last_used_at = verified.new_sign_count, now
        return kiosk.id
