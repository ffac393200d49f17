"""Request and response bodies of the enrolled devices: kiosks (WebAuthn) and card readers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from realname.api.registry_schemas import Strict


class EnrolmentIn(Strict):
    outlet_id: str = Field(description="the outlet the kiosk stands in")
    name: str = Field(min_length=1, max_length=80, description="what staff call it, e.g. 'counter 2'")


class EnrolmentOut(BaseModel):
    enrolment_id: str
    options: dict[str, Any] = Field(description="PublicKeyCredentialCreationOptions (JSON) for "
                                    "navigator.credentials.create")


class KioskIn(Strict):
    enrolment_id: str
    credential: dict[str, Any] = Field(description="the PublicKeyCredential from navigator.credentials.create, "
                                       "as JSON (base64url fields)")


class KioskOut(BaseModel):
    id: str
    name: str
    outlet_id: str
    credential_id: str
    aaguid: str
    attestation_format: str
    enrolled_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class RenameIn(Strict):
    name: str = Field(min_length=1, max_length=80)


class RevokeIn(Strict):
    reason: str = Field(min_length=1, max_length=256)


class NonceOut(BaseModel):
    nonce: str = Field(description="single use: sign sha256('realname-kiosk-request-v1'|METHOD|path|nonce|"
                       "sha256(body)) with the kiosk's credential and send it as X-Kiosk-Nonce / X-Kiosk-Assertion")
    expires_in: float
    required: bool = Field(description="whether this operator refuses requests without an enrolled kiosk's proof")


class ReaderIn(Strict):
    reader_id: str = Field(min_length=1, max_length=64, description="the id the reader puts in its statements")
    name: str = Field(min_length=1, max_length=80)
    public_key: str = Field(max_length=400, description="Ed25519: base64 of the 32 raw bytes, or PEM")
    outlet_id: str | None = Field(None, description="only this outlet may use it (none: any of the operator's)")


class ReaderOut(BaseModel):
    id: str
    reader_id: str
    name: str
    outlet_id: str | None
    enrolled_at: datetime
    revoked_at: datetime | None
