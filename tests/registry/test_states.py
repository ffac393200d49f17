"""The state enums, the ORM columns and the database's CHECK constraints agree; every state round-trips through the
database as its plain value; the database refuses any other value."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from tests.registry.state_rows import ENUM_COLUMNS, insert_state_rows, stored_states

from realname.registry.states import NumberStatus, VerificationDecision
from realname.registry.tables import Base, PhoneNumber, Verification


def test_each_state_column_is_typed_by_its_enum() -> None:
    enums = {(t.name, c.name): c.type.enum_class for t in Base.metadata.sorted_tables for c in t.columns
             if isinstance(c.type, sa.Enum)}
    assert enums == ENUM_COLUMNS
    for (table, column), enum in ENUM_COLUMNS.items():
        col = Base.metadata.tables[table].c[column]
        assert col.type.enums == [m.value for m in enum]  # stored as the value, not the member's name
        assert isinstance(col.type, sa.String) and col.type.length == 16  # the column is what it was


def test_check_constraints_in_the_migrated_database_list_the_enums(db_url: str) -> None:
    """The migrations (0006 writes its values out) and the enums must agree: a new state needs a migration."""
    inspector = sa.inspect(sa.create_engine(db_url))
    for (table, column), enum in ENUM_COLUMNS.items():
        checks = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table)}
        name = f"ck_{table}_{column}"
        assert name in checks, f"{table} has no {name}: {checks}"
        # SQLite keeps the text as written; PostgreSQL rewrites it (= ANY (ARRAY['open'::character varying, ...])).
        assert set(re.findall(r"'([^']*)'", checks[name])) == {m.value for m in enum}, checks[name]
        assert re.search(rf"\b{column}\b", checks[name])
    # The model's constraints have the same names, so a create_all database and a migrated one agree.
    in_model = {str(c.name) for t in Base.metadata.tables.values() for c in t.constraints
                if isinstance(c, sa.CheckConstraint)}
    assert in_model == {f"ck_{t}_{c}" for t, c in ENUM_COLUMNS}


def test_every_state_round_trips_as_its_plain_value(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        insert_state_rows(conn)
        raw = stored_states(conn)
    for (table, column), enum in ENUM_COLUMNS.items():
        values = [v for v in raw[(table, column)] if v is not None]
        assert set(values) == {m.value for m in enum} and all(type(v) is str for v in values)
    with Session(engine) as s:  # read through the ORM: the members themselves, equal to the strings
        got = {v.id: (v.status, v.decision) for v in s.scalars(sa.select(Verification))}
        assert [got[f"v{k}"][0] for k in range(len(got))] == list(raw[("verifications", "status")])
        assert all(type(st).__name__ == "VerificationStatus" for st, _ in got.values())
        assert {d for _, d in got.values()} == {None, *VerificationDecision}
        number = s.get(PhoneNumber, "n0")
        assert number is not None and number.status is NumberStatus.AVAILABLE and number.status == "available"
        number.status, number.updated_at = NumberStatus.RESERVED, datetime.now(UTC)
        s.commit()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM numbers WHERE id = 'n0'")).scalar_one() == "reserved"
    engine.dispose()


@pytest.mark.parametrize(("table", "column"), list(ENUM_COLUMNS))
def test_the_database_refuses_an_unknown_state(db_url: str, table: str, column: str) -> None:
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        insert_state_rows(conn)
    row = {"verifications": "v0", "registrations": "r0", "numbers": "n0", "reverifications": "o0"}[table]
    with pytest.raises(IntegrityError, match=f"ck_{table}_{column}"), engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {table} SET {column} = 'bogus' WHERE id = :id"), {"id": row})
    # The ORM does not check the value itself (validate_strings is off): the database is the one gate.
    with pytest.raises(IntegrityError), Session(engine) as s:
        s.add(PhoneNumber(msisdn="+8613900000001", operator_id="op1", status="quarantined",  # type: ignore[arg-type]
                          updated_at=datetime.now(UTC)))
        s.commit()
    engine.dispose()
