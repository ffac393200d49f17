"""Alembic environment: the URL comes from the caller's Config, the target metadata from tables.py."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from realname.registry.tables import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")


def run() -> None:
    connectable = create_engine(str(url), poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()


run()
