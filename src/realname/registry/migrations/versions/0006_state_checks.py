"""state checks: each state column accepts only its states (realname.registry.states)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00

On PostgreSQL each constraint is an ALTER TABLE ... ADD CONSTRAINT, which checks the rows already there; on
SQLite (no ALTER for constraints) batch mode copies each table into a new one that has the constraint.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# The states as of this revision, written out rather than imported: a migration must not change when the enums
# do (a new state gets its own migration). tests/registry/test_states.py checks they still agree.
CHECKS: dict[str, dict[str, tuple[str, ...]]] = {
    "verifications": {"status": ("open", "capturing", "processing", "decided", "used", "expired"),
                      "decision": ("pass", "fail", "review")},
    "registrations": {"status": ("active", "suspended", "cancelled")},
    "numbers": {"status": ("available", "reserved", "active", "suspended", "cancelled")},
    "reverifications": {"status": ("open", "done", "lapsed")},
}


def _allowed(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"  # the same text SQLAlchemy's Enum renders


def _refuse_unknown_states() -> None:
    """No writer ever stored another value (the code's history has none), so an unknown one is not mapped to a
    guess: the upgrade stops and names it, rather than failing on a bare constraint error half-way."""
    conn = op.get_bind()
    found = []
    for table, columns in CHECKS.items():
        for column, values in columns.items():
            t = sa.table(table, sa.column(column))
            c = t.c[column]
            rows = conn.execute(sa.select(c, sa.func.count()).where(c.is_not(None), c.not_in(values))
                                .group_by(c)).all()
            found += [f"{table}.{column} = {value!r} ({n} rows)" for value, n in rows]
    if found:
        raise RuntimeError("rows with states the registry does not know; correct them, then upgrade again: "
                           + "; ".join(found))


def upgrade() -> None:
    _refuse_unknown_states()
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, values in columns.items():
                batch_op.create_check_constraint(op.f(f"ck_{table}_{column}"), _allowed(column, values))


def downgrade() -> None:
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
