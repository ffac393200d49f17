"""The registry's state values, defined once. The database refuses any other value (a CHECK constraint per column,
``ck_<table>_<column>``, added by migration 0006). StrEnum members equal their strings, so what is stored and what
the API returns are the plain values below.

Verification session (``verifications.status``):
    open -> capturing         the kiosk redeemed the signed challenge (one redemption wins)
    capturing -> processing   a capture was submitted and claimed (one submission wins)
    processing -> capturing   the frames could not be read: nothing changed, the capture can be sent again
    processing -> decided     the outcome is recorded in ``decision`` and the portrait is dropped
    capturing -> expired      the capture came too late; open, capturing or processing -> expired when retention
                              or an erasure drops the portrait of a session that was never decided
    decided -> used           a pass was spent on one request (register, lookup or reverify)

Verification decision (``verifications.decision``): empty until decided, then pass, fail or review; a supervisor
turns review into pass or fail (the status stays decided).

Registration (``registrations.status``):
    active <-> suspended      a re-verification order lapsed / the holder re-verified
    active, suspended -> cancelled   cancelled, or ended by a transfer (``end_reason`` says which)

Phone number (``numbers.status``), following its registration:
    available -> active       assigned (reserved numbers are imported held back and never assigned)
    active <-> suspended      with its registration
    active, suspended -> cancelled   its registration was cancelled
    active -> available -> active    a transfer, inside one transaction

Re-verification order (``reverifications.status``):
    open -> done | lapsed     the holder verified again / the deadline passed (the registration is suspended)
    lapsed -> done            a late re-verification lifts the suspension
"""

from __future__ import annotations

from enum import StrEnum


class VerificationStatus(StrEnum):
    OPEN = "open"
    CAPTURING = "capturing"
    PROCESSING = "processing"
    DECIDED = "decided"
    USED = "used"
    EXPIRED = "expired"


class VerificationDecision(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    REVIEW = "review"


class RegistrationStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


class NumberStatus(StrEnum):
    AVAILABLE = "available"
    RESERVED = "reserved"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


class ReverificationStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    LAPSED = "lapsed"


class ReaderAttestation(StrEnum):
    """Where a verification's card data came from (the operator's ``card_readers`` setting decides)."""

    ATTESTED = "attested"  # signed by an enrolled, active card reader, checked
    UNATTESTED = "unattested"  # not signed; accepted because readers are optional
    NOT_CHECKED = "not_checked"  # readers are off for the operator


class ChipCheck(StrEnum):
    """How a passport was read: its chip, checked by passive authentication, or only its printed MRZ."""

    PASSIVE_AUTH = "passive_auth"
    MRZ_ONLY = "mrz_only"


# Registrations that count against the caps and are listed as a person's numbers.
HELD = (RegistrationStatus.ACTIVE, RegistrationStatus.SUSPENDED)

# The ``end_reason`` of a registration ended by a transfer; any other end reason is the cancellation's own text.
TRANSFERRED = "transferred"
