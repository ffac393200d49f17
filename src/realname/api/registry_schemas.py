"""Request and response bodies of the registry API (separate from the tables: the wire format is explicit,
and never carries a score, an image or an unmasked document number)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """A request body: unknown fields are refused, and so are values of the wrong JSON type (no coercion: consent
    must be ``true``, not ``"yes"``; a cap is ``3``, not ``"3"``)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class UserOut(BaseModel):
    username: str
    role: str
    operator_id: str | None
    outlet_id: str | None


class LoginOut(BaseModel):
    token: str
    expires_at: datetime
    user: UserOut


class VerificationIn(Strict):
    purpose: Literal["register", "lookup", "reverify"] = "register"
    card: dict[str, Any] = Field(description="the card data as the reader produces it (see documents.CardData)")
    portrait: str = Field(description="the card's portrait image, base64", min_length=4)
    consent_face_processing: bool = Field(description="the customer accepted the separate face-processing notice")
    representative: dict[str, Any] | None = Field(None, description="card data of the person registering for them")


class Instruction(BaseModel):
    action: str
    en: str
    zh: str


class ChallengeOut(BaseModel):
    token: str
    actions: list[Instruction]
    expires_at: datetime


class VerificationOpened(BaseModel):
    id: str
    person_number: str = Field(description="masked document number")
    challenge: ChallengeOut


class StartIn(Strict):
    challenge: str = Field(min_length=1, max_length=4096)


class VerificationOut(BaseModel):
    id: str
    purpose: str
    status: str
    decision: str | None = Field(description="pass / fail / review: never a score")
    reasons: list[str]
    advice: list[str] = []
    retries_left: int | None = None
    capture_deadline: datetime | None = None


class ReviewIn(Strict):
    decision: Literal["pass", "fail"]
    reason: str = Field(min_length=1, max_length=256)


class RegisterIn(Strict):
    verification_id: str = Field(min_length=1, max_length=64)
    msisdn: str | None = Field(None, max_length=32)


class RegistrationOut(BaseModel):
    id: str
    msisdn: str
    status: str
    operator_id: str
    outlet_id: str | None
    person_number: str
    created_at: datetime


class ReasonIn(Strict):
    reason: str = Field(min_length=1, max_length=256)


class VerificationRef(Strict):
    verification_id: str = Field(min_length=1, max_length=64)


class HeldNumberOut(BaseModel):
    msisdn: str
    operator: str
    status: str
    since: datetime


class ReverificationOut(BaseModel):
    id: str
    registration_id: str
    status: str
    deadline: datetime


class OutletIn(Strict):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=128)
    region: str | None = Field(None, max_length=16)


class IdOut(BaseModel):
    id: str


class UserIn(Strict):
    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=8, max_length=256)
    role: Literal["agent", "supervisor", "operator_admin"]
    outlet_id: str | None = None


class CapIn(Strict):
    cap_per_person: int = Field(ge=1, le=100)


class ImportOut(BaseModel):
    added: int
    skipped_existing: int


class ChainOut(BaseModel):
    ok: bool
    count: int
    last_hash: str
    first_bad_seq: int | None
    problem: str | None
    detail: str
