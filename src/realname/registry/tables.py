"""The registry's tables (SQLAlchemy 2 declarative). Alembic migrations are generated from these.

What is deliberately *not* here: face images, frames, embeddings in clear, document numbers, names or addresses
in clear. Personal fields are AES-GCM tokens (``*_enc``, with their key id inside the token); lookups by
document number go through an HMAC blind index (``doc_index``). The only biometric data that may be stored is
an encrypted face template, and only with its own consent (``face_templates``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from realname.registry.states import (
    ChipCheck,
    NumberStatus,
    ReaderAttestation,
    RegistrationStatus,
    ReverificationStatus,
    VerificationDecision,
    VerificationStatus,
)

# Stable constraint names, so migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Always timezone-aware UTC in Python; SQLite stores it naive, PostgreSQL as timestamptz."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the registry; use UTC-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def state(values: type[StrEnum], column: str) -> Enum:
    """A state column as before (VARCHAR(16) holding the member's value, read back as the member) with a CHECK
    constraint named ck_<table>_<column> that lists the values. Not a native PostgreSQL enum: the same DDL on both
    databases, and a new state is a constraint change rather than an ALTER TYPE."""
    return Enum(values, name=column, native_enum=False, create_constraint=True, length=16,
                values_callable=lambda members: [m.value for m in members])


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Operator(Base):
    __tablename__ = "operators"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # basic | mvno
    cap_per_person: Mapped[int] = mapped_column(Integer, default=5)
    created_at: Mapped[datetime]
    # Operator settings that override the service's defaults (see services.admin.OperatorSettings); only the
    # values an administrator set are stored, so a changed global default still applies to the others.
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))


class Outlet(Base):
    __tablename__ = "outlets"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    region: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(Base):
    """Agents and staff. ``operator_id`` is empty for regulator-side inspectors and auditors."""

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # agent | supervisor | operator_admin | inspector | auditor
    operator_id: Mapped[str | None] = mapped_column(ForeignKey("operators.id"), index=True)
    outlet_id: Mapped[str | None] = mapped_column(ForeignKey("outlets.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    blacklisted: Mapped[bool] = mapped_column(Boolean, default=False)
    blacklist_reason: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime]


class Kiosk(Base):
    """An enrolled kiosk: the public key of its WebAuthn credential (the kiosk's TPM holds the private key),
    bound to one outlet. Revoked kiosks stay for the record."""

    __tablename__ = "kiosks"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"), index=True)
    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    credential_id: Mapped[str] = mapped_column(String(400), unique=True)  # base64url, as browsers send rawId
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE key
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    aaguid: Mapped[str] = mapped_column(String(36))  # the authenticator's model
    attestation_format: Mapped[str] = mapped_column(String(32))
    enrolled_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    enrolled_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


class KioskNonce(Base):
    """Single-use server nonces: an enrolment's challenge (``enrol``) or a kiosk request's nonce (``request``)."""

    __tablename__ = "kiosk_nonces"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))  # enrol | request
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    operator_id: Mapped[str | None] = mapped_column(ForeignKey("operators.id"))
    outlet_id: Mapped[str | None] = mapped_column(ForeignKey("outlets.id"))
    challenge: Mapped[bytes] = mapped_column(LargeBinary)
    label: Mapped[str | None] = mapped_column(String(80))  # the kiosk's name, for an enrolment
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class CardReader(Base):
    """A card reader that signs its output: its Ed25519 public key under the id it puts in its statements."""

    __tablename__ = "card_readers"
    __table_args__ = (UniqueConstraint("operator_id", "reader_id", name="uq_card_readers_operator_reader"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"), index=True)
    outlet_id: Mapped[str | None] = mapped_column(ForeignKey("outlets.id"))  # None: any outlet of the operator
    reader_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(80))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # 32 raw bytes
    enrolled_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    enrolled_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


class AuthToken(Base):
    """Short-lived bearer tokens, stored hashed: any worker can check them, a dump cannot replay them."""

    __tablename__ = "auth_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime]


class LoginThrottle(Base):
    """Failed logins of one username or one client address, in the database so every worker counts the same.
    Keyed by a hash: a username field sometimes holds a mistyped password."""

    __tablename__ = "login_throttles"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of "user:<name>" or "client:<addr>"
    scope: Mapped[str] = mapped_column(String(8))  # user | client
    failures: Mapped[int] = mapped_column(Integer, default=0)  # attempts not proven right since the last lock
    locks: Mapped[int] = mapped_column(Integer, default=0)  # locks so far: each one doubles the next
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(index=True)  # rows quiet for login_forget_hours are dropped


class Person(Base):
    __tablename__ = "persons"
    __table_args__ = (UniqueConstraint("doc_type", "doc_index", name="uq_persons_doc"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    doc_type: Mapped[str] = mapped_column(String(32))
    doc_index: Mapped[str] = mapped_column(String(64))  # HMAC blind index of the document number
    number_enc: Mapped[str] = mapped_column(Text)
    name_enc: Mapped[str] = mapped_column(Text)
    address_enc: Mapped[str | None] = mapped_column(Text)
    birth_date_enc: Mapped[str] = mapped_column(Text)
    sex: Mapped[str] = mapped_column(String(1))
    number_masked: Mapped[str] = mapped_column(String(32))  # what inspectors see: 110***********1234
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Consent(Base):
    __tablename__ = "consents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # face_processing | template_retention
    text_version: Mapped[str] = mapped_column(String(32))
    granted: Mapped[bool] = mapped_column(Boolean)
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    given_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]


class PhoneNumber(Base):
    __tablename__ = "numbers"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    msisdn: Mapped[str] = mapped_column(String(20), unique=True)  # E.164
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"), index=True)
    status: Mapped[NumberStatus] = mapped_column(state(NumberStatus, "status"), index=True)
    updated_at: Mapped[datetime]


class Verification(Base):
    """One verification session: document, consent, challenge, liveness, match, decision. Never an image.

    ``portrait_enc`` holds the encrypted ID portrait only between opening and deciding (the match needs it);
    it is emptied in the transaction that records the decision.
    """

    __tablename__ = "verifications"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    purpose: Mapped[str] = mapped_column(String(16))  # register | lookup | reverify
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"), index=True)
    outlet_id: Mapped[str | None] = mapped_column(ForeignKey("outlets.id"), index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    representative_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"))
    consent_id: Mapped[str] = mapped_column(ForeignKey("consents.id"))
    template_consent_id: Mapped[str | None] = mapped_column(ForeignKey("consents.id"))
    doc_index: Mapped[str] = mapped_column(String(64), index=True)
    challenge_nonce: Mapped[str] = mapped_column(String(64), unique=True)  # single use across all workers
    challenge_actions: Mapped[str] = mapped_column(String(128))
    # The screen-light sequence the kiosk must show (realname.liveness.light.encode), None when the check is off.
    challenge_flash: Mapped[str | None] = mapped_column(String(400), default=None)
    challenge_expires_at: Mapped[datetime]
    portrait_sha256: Mapped[str] = mapped_column(String(64))
    portrait_enc: Mapped[str | None] = mapped_column(Text)
    status: Mapped[VerificationStatus] = mapped_column(state(VerificationStatus, "status"), index=True)
    decision: Mapped[VerificationDecision | None] = mapped_column(state(VerificationDecision, "decision"))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    liveness_passed: Mapped[bool | None]
    liveness_score: Mapped[float | None] = mapped_column(Float)
    match_decision: Mapped[str | None] = mapped_column(String(16))  # the matcher's own: match | no_match | review
    match_score: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(128))
    threshold_version: Mapped[str | None] = mapped_column(String(128))
    reviewed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    review_reason: Mapped[str | None] = mapped_column(String(256))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(index=True)
    started_at: Mapped[datetime | None]  # when the challenge was redeemed and capture began
    decided_at: Mapped[datetime | None] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
    # The trusted capture chain: the enrolled kiosk that proved the requests, the card reader's statement, the
    # passport chip's check. Empty on verifications opened before it existed.
    kiosk_id: Mapped[str | None] = mapped_column(ForeignKey("kiosks.id"), index=True)
    reader_attestation: Mapped[ReaderAttestation | None] = mapped_column(
        state(ReaderAttestation, "reader_attestation"))
    card_reader_id: Mapped[str | None] = mapped_column(ForeignKey("card_readers.id"))
    chip_check: Mapped[ChipCheck | None] = mapped_column(state(ChipCheck, "chip_check"))


class Registration(Base):
    __tablename__ = "registrations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    representative_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"))
    number_id: Mapped[str] = mapped_column(ForeignKey("numbers.id"), index=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"), index=True)
    outlet_id: Mapped[str | None] = mapped_column(ForeignKey("outlets.id"), index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    # Emptied when the verification session is purged (90 days); ``evidence`` keeps what it proved.
    verification_id: Mapped[str | None] = mapped_column(ForeignKey("verifications.id"), unique=True)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[RegistrationStatus] = mapped_column(state(RegistrationStatus, "status"), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    end_reason: Mapped[str | None] = mapped_column(String(64))
    retain_until: Mapped[date | None] = mapped_column(Date)


Index("ix_registrations_person_status", Registration.person_id, Registration.status)


class Reverification(Base):
    __tablename__ = "reverifications"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    registration_id: Mapped[str] = mapped_column(ForeignKey("registrations.id"), index=True)
    reason: Mapped[str] = mapped_column(String(256))
    status: Mapped[ReverificationStatus] = mapped_column(state(ReverificationStatus, "status"), index=True)
    deadline: Mapped[datetime]
    ordered_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))  # None: the system (a signal job)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    verification_id: Mapped[str | None] = mapped_column(ForeignKey("verifications.id"))


class FaceTemplate(Base):
    """Off by default: kept only with its own consent, encrypted, with its own retention."""

    __tablename__ = "face_templates"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    consent_id: Mapped[str] = mapped_column(ForeignKey("consents.id"))
    model: Mapped[str] = mapped_column(String(32))
    template_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    retain_until: Mapped[date] = mapped_column(Date)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40), index=True)  # ISO 8601 text exactly as hashed; reports count by it
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)  # evidence lookups: the events of one record
    payload: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the last seq and hash of the *legacy* hash chain (events written before the transparency log,
    each linked to the one before). Appends no longer touch it; it stays the anchor of that linked prefix."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


# --- the transparency log over the audit events (see realname.audit.tree) ----------------------------------------

class AuditLeaf(Base):
    """Leaf ``idx`` of the Merkle tree is event ``seq``: leaves follow seq order, and a seq that is not a leaf
    below the tree's ``next_seq`` is an explicit :class:`AuditSkip`."""

    __tablename__ = "audit_leaves"
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)


class AuditNode(Base):
    """The hash of the perfect subtree of leaves ``[idx * 2^level, (idx + 1) * 2^level)``: level 0 holds the leaf
    hashes. Every proof is answered from these in O(log n) reads."""

    __tablename__ = "audit_tree_nodes"
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditSkip(Base):
    """A sequence number that will never hold an event (its transaction rolled back), recorded by the batcher
    once that is certain, so the leaves stay gap-free and nothing after it waits forever."""

    __tablename__ = "audit_skips"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    noted_at: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(200))


class AuditTreeHead(Base):
    """A signed tree head (STH): the tree of the first ``size`` leaves has root ``root``, signed at
    ``timestamp`` (ms since the epoch, UTC) with log key ``key_id``."""

    __tablename__ = "audit_tree_heads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    root: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))  # base64 Ed25519


class AuditLogState(Base):
    """One row. The tree: ``size`` leaves, every seq below ``next_seq`` a leaf or a skip, ``frontier`` its compact
    range (JSON list of hex hashes). The verified prefix: the first ``verified_size`` leaves (up to event
    ``verified_seq``) were last checked against their events and the tree heads, leaving compact range
    ``verified_frontier`` and the legacy chain's last hash ``chain_hash``; checks resume from there."""

    __tablename__ = "audit_log_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    next_seq: Mapped[int] = mapped_column(BigInteger, default=1)
    frontier: Mapped[str] = mapped_column(Text, default="[]")
    verified_size: Mapped[int] = mapped_column(BigInteger, default=0)
    verified_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    verified_frontier: Mapped[str] = mapped_column(Text, default="[]")
    chain_hash: Mapped[str] = mapped_column(String(64), default="0" * 64)
