"""Request and response bodies of the registry API (separate from the tables: the wire format is explicit,
and never carries a score, an image or an unmasked document number)."""

from __future__ import annotations

from datetime import date, datetime
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
    operator_name: str | None = None
    outlet_code: str | None = None
    outlet_name: str | None = None


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


class FlashOut(BaseModel):
    color: str = Field(description="CSS colour, #rrggbb")
    ms: int = Field(description="how long to show it, milliseconds")


class ChallengeOut(BaseModel):
    token: str
    actions: list[Instruction]
    expires_at: datetime
    flash: list[FlashOut] | None = Field(None, description="screen-light check: show these colours full-screen "
                                         "around the oval, in order, before the actions, and send the time each "
                                         "appeared as 'flash_times' with the capture; absent when the check is off")


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


# --- operator settings and administration lists -----------------------------------------------------------------

class OperatorRef(BaseModel):
    id: str
    code: str
    name: str


class OperatorSettingsOut(BaseModel):
    cap_per_person: int
    challenge_actions: int
    light_check: bool
    manual_path: str
    retention_years_after_service: int
    session_retention_days: int
    require_enrolled_kiosks: bool
    card_readers: Literal["required", "optional", "off"]
    operator: OperatorRef


class OperatorSettingsIn(Strict):
    """Any of the settings; those left out (or null) stay as they are."""

    cap_per_person: int | None = Field(None, ge=1, le=100)
    challenge_actions: int | None = Field(None, ge=2, le=4)
    light_check: bool | None = Field(None, description="screen-light challenge at the kiosk (off: animated photos "
                                     "can pass the live check)")
    manual_path: str | None = Field(None, min_length=1, max_length=500)
    retention_years_after_service: int | None = Field(None, ge=0, le=10)
    session_retention_days: int | None = Field(None, ge=1, le=3650)
    require_enrolled_kiosks: bool | None = Field(None, description="every step of a verification must be proved "
                                                 "by a kiosk enrolled at the agent's outlet (WebAuthn)")
    card_readers: Literal["required", "optional", "off"] | None = Field(
        None, description="card data signed by an enrolled reader: required, optional (unsigned is recorded as "
        "unattested) or off")


class OutletListItem(BaseModel):
    id: str
    code: str
    name: str
    region: str | None
    active: bool


class UserListItem(BaseModel):
    id: str
    username: str
    role: str
    outlet_id: str | None
    active: bool
    blacklisted: bool
    blacklist_reason: str | None


# --- live feedback, receipt, review queue -----------------------------------------------------------------------

class HintOut(BaseModel):
    code: str
    en: str
    zh: str


class FeedbackOut(BaseModel):
    ok: bool = Field(description="nothing to fix in this frame (never a score)")
    hints: list[HintOut]


class ReceiptOut(BaseModel):
    registration_id: str
    msisdn: str
    operator_name: str
    outlet_name: str | None
    agent: str
    person_number: str = Field(description="masked document number")
    name_masked: str = Field(description="first character of the name, then '*'")
    doc_type: str
    created_at: datetime
    status: str


class ReviewItemOut(BaseModel):
    id: str
    person_number: str = Field(description="masked document number")
    agent: str
    outlet: str | None = Field(description="outlet code")
    reasons: list[str]
    decided_at: datetime | None


# --- inspection --------------------------------------------------------------------------------------------------

class PeriodOut(BaseModel):
    start: date
    end: date


class ChainStatusOut(BaseModel):
    ok: bool
    count: int
    problem: str | None
    detail: str


class TotalsOut(BaseModel):
    registrations: int
    verifications: int
    passed: int
    failed: int
    review: int = Field(description="verifications that needed a supervisor (waiting or settled)")
    cap_refusals: int
    cancellations: int
    suspensions: int


class DayOut(BaseModel):
    day: date
    registrations: int
    verifications: int
    passed: int
    failed: int


class OutletStatsOut(BaseModel):
    outlet: str | None = Field(description="outlet code")
    name: str | None
    registrations: int
    verifications: int
    failed: int


class AgentStatsOut(BaseModel):
    agent: str = Field(description="username")
    outlet: str | None = Field(description="the agent's outlet code")
    registrations: int
    verifications: int
    failed: int
    reviews: int


class InspectionSummaryOut(BaseModel):
    period: PeriodOut
    chain: ChainStatusOut
    totals: TotalsOut
    by_day: list[DayOut]
    by_outlet: list[OutletStatsOut]
    by_agent: list[AgentStatsOut]
    failure_reasons: dict[str, int]


class SignalOut(BaseModel):
    kind: str
    subject: str
    summary: str
    evidence: dict[str, Any]
    registrations: list[str]


class ReverifyIn(BaseModel):
    model_config = {"extra": "forbid", "strict": True}
    kind: str = Field(min_length=1, max_length=32)
    summary: str = Field(min_length=1, max_length=300)
    registrations: list[str] = Field(min_length=1, max_length=1000)
