"""Rows in every state, written with Core inserts so they can go into a database at any revision since 0005 (the
tables' shapes have not changed since; only the CHECK constraints are new)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from realname.registry.states import (
    ChipCheck,
    NumberStatus,
    ReaderAttestation,
    RegistrationStatus,
    ReverificationStatus,
    VerificationDecision,
    VerificationStatus,
)
from realname.registry.tables import Base

# The state columns: (table, column) -> the enum of its values.
STATE_COLUMNS: dict[tuple[str, str], Any] = {
    ("verifications", "status"): VerificationStatus,
    ("verifications", "decision"): VerificationDecision,
    ("registrations", "status"): RegistrationStatus,
    ("numbers", "status"): NumberStatus,
    ("reverifications", "status"): ReverificationStatus,
}
# What a verification records about its capture chain (0007): categories with CHECK constraints, nullable.
TRUST_COLUMNS: dict[tuple[str, str], Any] = {
    ("verifications", "reader_attestation"): ReaderAttestation,
    ("verifications", "chip_check"): ChipCheck,
}
ENUM_COLUMNS = STATE_COLUMNS | TRUST_COLUMNS


def _present(conn: sa.Connection) -> dict[tuple[str, str], Any]:
    """The enum columns this database has (one at 0005 or 0006 has no trust columns yet)."""
    have = {c["name"] for c in sa.inspect(conn).get_columns("verifications")}
    return STATE_COLUMNS | {k: e for k, e in TRUST_COLUMNS.items() if k[1] in have}


def insert_state_rows(conn: sa.Connection, states: dict[tuple[str, str], list[str]] | None = None) -> None:
    """One operator, agent, person and consent; then a verification per verification status (the decisions
    cycle through None, pass, fail, review), a number per number status, a registration per registration status
    and a re-verification per order status. ``states`` overrides the values written (as plain strings)."""
    present = _present(conn)
    vals = {key: [str(m) for m in enum] for key, enum in present.items()} | (states or {})
    trust = {column: [None, *vals[(table, column)]] for table, column in TRUST_COLUMNS if (table, column) in present}
    t = Base.metadata.tables
    now = datetime.now(UTC)
    conn.execute(sa.insert(t["operators"]), [dict(id="op1", code="OP1", name="Op", kind="basic", cap_per_person=5,
                                                  created_at=now, settings={})])
    conn.execute(sa.insert(t["users"]), [dict(id="u1", username="agent", password_hash="x", role="agent",
                                              operator_id="op1", active=True, blacklisted=False, created_at=now)])
    conn.execute(sa.insert(t["persons"]), [dict(id="p1", doc_type="prc_id", doc_index="i1", number_enc="n",
                                                name_enc="n", birth_date_enc="b", sex="F", number_masked="110***1",
                                                created_at=now, updated_at=now)])
    conn.execute(sa.insert(t["consents"]), [dict(id="c1", person_id="p1", kind="face_processing", text_version="1",
                                                 granted=True, given_at=now)])
    decisions = [None, *vals[("verifications", "decision")]]
    conn.execute(sa.insert(t["verifications"]), [
        dict(id=f"v{k}", purpose="register", operator_id="op1", agent_id="u1", person_id="p1", consent_id="c1",
             doc_index="i1", challenge_nonce=f"nonce{k}", challenge_actions="blink", challenge_expires_at=now,
             portrait_sha256="0" * 64, status=status, decision=decisions[k % len(decisions)], reasons=[],
             created_at=now, **{column: values[k % len(values)] for column, values in trust.items()})
        for k, status in enumerate(vals[("verifications", "status")])])
    conn.execute(sa.insert(t["numbers"]), [
        dict(id=f"n{k}", msisdn=f"+8613800000{k:03d}", operator_id="op1", status=status, updated_at=now)
        for k, status in enumerate(vals[("numbers", "status")])])
    conn.execute(sa.insert(t["registrations"]), [
        dict(id=f"r{k}", person_id="p1", number_id=f"n{k}", operator_id="op1", agent_id="u1", evidence={},
             status=status, created_at=now)
        for k, status in enumerate(vals[("registrations", "status")])])
    conn.execute(sa.insert(t["reverifications"]), [
        dict(id=f"o{k}", registration_id="r0", reason="signal", status=status, deadline=now + timedelta(days=1),
             created_at=now)
        for k, status in enumerate(vals[("reverifications", "status")])])


def stored_states(conn: sa.Connection) -> dict[tuple[str, str], list[str | None]]:
    """The raw values in each state column (read as text, not through the enums), in id order."""
    return {(table, column): list(conn.execute(sa.text(f"SELECT {column} FROM {table} ORDER BY id")).scalars())
            for table, column in _present(conn)}
