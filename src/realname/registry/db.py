"""Connections and transactions, the same way on SQLite and PostgreSQL.

Every write goes through :meth:`Database.write`: one transaction that commits or rolls back as a whole. On
SQLite it starts with ``BEGIN IMMEDIATE`` (the write lock is taken at the start, so two writers never both read
a count and then both insert); on PostgreSQL the services take row locks (``SELECT ... FOR UPDATE``) on the rows
whose invariants they protect (a person's registrations, the audit head).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from realname.errors import ConfigError

# What any database failure raises (unreachable server, missing table, ...), for adapters that report it in one
# line without importing SQLAlchemy themselves.
DatabaseError = SQLAlchemyError


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        try:
            self.url = make_url(url)
        except Exception as exc:  # sqlalchemy raises ArgumentError with a terse message
            # The value is not echoed: it may hold a password.
            raise ConfigError("REALNAME_DATABASE_URL is not a database URL (expected e.g. sqlite:///realname.db or "
                              "postgresql+psycopg://user@host/db)") from exc
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            # The driver's own transaction handling is switched off so that BEGIN IMMEDIATE can be issued.
            kwargs["connect_args"] = {"timeout": 60, "check_same_thread": False, "isolation_level": None}
        else:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=40)
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A read-write transaction: commit at the end of the block, roll back if it raises."""
        with self._sessions() as session:
            if self.is_sqlite:
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield session
                session.commit()
                session.expunge_all()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session:
            if self.is_sqlite:
                session.connection().exec_driver_sql("BEGIN")
            try:
                yield session
            finally:
                session.expunge_all()  # what was read stays usable after the (read-only) transaction ends
                session.rollback()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except OperationalError:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


def masked_url(url: str) -> str:
    """The database URL with its password hidden, fit to print."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: Database() / Alembic report it; never echo what may hold a password
        return "<invalid database URL>"


def rowcount(result: Any) -> int:
    """Rows changed by an UPDATE or DELETE (typed access to the cursor result's count)."""
    return int(result.rowcount)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cur.execute("PRAGMA synchronous=FULL")  # a committed registration survives a power cut
    cur.execute("PRAGMA busy_timeout=60000")
    cur.close()
