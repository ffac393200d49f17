"""Alembic creates the schema on SQLite and PostgreSQL, finds no drift against tables.py, and downgrades cleanly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

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
