"""Alembic creates the schema on SQLite and PostgreSQL, finds no drift against tables.py, and downgrades cleanly;
the state CHECK constraints (0006) go onto a registry that already has rows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import IntegrityError
from tests.registry.state_rows import insert_state_rows, stored_states

from realname.registry.migrate import alembic_config, check, upgrade
from realname.registry.tables import Base


def test_migrated_schema_matches_the_code(db_url: str) -> None:
    check(db_url)  # raises ConfigError naming the drift
    inspector = sa.inspect(sa.create_engine(db_url))
    assert set(Base.metadata.tables) <= set(inspector.get_table_names())


def test_downgrade_and_upgrade_again(db_url: str) -> None:
    command.downgrade(alembic_config(db_url), "base")
    assert "registrations" not in sa.inspect(sa.create_engine(db_url)).get_table_names()
    upgrade(db_url)
    check(db_url)


def _at(db_url: str) -> str | None:
    with sa.create_engine(db_url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_state_checks_upgrade_a_registry_with_data(db_url: str) -> None:
    """From 0005 (the head before the CHECK constraints), with rows in every state: the upgrade keeps them as they
    were, and afterwards the database refuses a state it does not know."""
    command.downgrade(alembic_config(db_url), "0005")
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        insert_state_rows(conn)
        before = stored_states(conn)
    upgrade(db_url)
    check(db_url)
    with engine.begin() as conn:
        after = stored_states(conn)
        assert {key: after[key] for key in before} == before
        assert all(v is None for key in set(after) - set(before) for v in after[key])  # 0007's, empty on old rows
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("UPDATE verifications SET status = 'started' WHERE id = 'v0'"))
    # Down again: the constraints go, the rows stay.
    command.downgrade(alembic_config(db_url), "0005")
    with engine.begin() as conn:
        assert stored_states(conn) == before
        conn.execute(sa.text("UPDATE verifications SET status = 'started' WHERE id = 'v0'"))
    engine.dispose()


def test_state_checks_stop_on_a_state_they_do_not_know(db_url: str) -> None:
    command.downgrade(alembic_config(db_url), "0005")
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        legacy = ["available", "reserved", "active", "quarantined", "cancelled"]  # a state the registry never had
        insert_state_rows(conn, {("numbers", "status"): legacy})
    with pytest.raises(RuntimeError, match=r"numbers\.status = 'quarantined' \(1 rows\)"):
        upgrade(db_url)
    assert _at(db_url) == "0005"  # nothing was changed
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE numbers SET status = 'reserved' WHERE status = 'quarantined'"))
    upgrade(db_url)
    assert _at(db_url) == ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
    engine.dispose()
