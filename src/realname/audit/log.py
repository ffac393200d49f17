"""The audit events in the database: append inside the caller's transaction, read by streaming.

An event takes the next seq (a PostgreSQL sequence; ``max + 1`` on SQLite, whose write transactions are exclusive)
and hashes its own fields; it is *not* linked to the event before (``prev_hash`` is ``UNLINKED``), so appends on
different workers do not wait for one another. The order is fixed afterwards by the transparency log
(:mod:`realname.audit.tree`), which takes committed events in seq order into a Merkle tree. The event is written in
the same transaction as the state change it records: both land, or neither does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, func, select, text
from sqlalchemy.orm import Session

from realname.audit.chain import UNLINKED, ChainReport, EventRecord, event_hash
from realname.registry.tables import AuditEvent

SEQUENCE = "audit_events_seq"


def next_seq(session: Session) -> int:
    if session.get_bind().dialect.name == "postgresql":
        # The transaction gets its id before its seq: whoever holds a seq is a writing transaction, which is all
        # the batcher has to wait for (realname.audit.tree).
        return int(session.execute(text(f"SELECT pg_current_xact_id(), nextval('{SEQUENCE}')")).one()[1])
    return int(session.execute(select(func.coalesce(func.max(AuditEvent.seq), 0))).scalar_one()) + 1


def append(session: Session, *, at: datetime, actor: str, action: str, subject: str,
           payload: Mapping[str, Any] | None = None) -> EventRecord:
    """The payload is copied through JSON, so the record holds what a database round trip returns. (On SQLite the
    ``max + 1`` query autoflushes an earlier append of the same transaction.)"""
    stored = json.loads(json.dumps(dict(payload or {}), allow_nan=False))
    seq, text_at = next_seq(session), at.isoformat(timespec="microseconds")
    digest = event_hash(seq, text_at, actor, action, subject, stored, UNLINKED)
    record = EventRecord(seq, text_at, actor, action, subject, stored, UNLINKED, digest)
    session.add(AuditEvent(seq=seq, at=text_at, actor=actor, action=action, subject=subject, payload=stored,
                           prev_hash=UNLINKED, hash=digest))
    return record


# The payload is read as its stored text and parsed here: the JSON column type's per-row processing costs more
# than the hashing itself on a long chain.
COLUMNS = (AuditEvent.seq, AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.subject,
           cast(AuditEvent.payload, Text), AuditEvent.prev_hash, AuditEvent.hash)


def events(session: Session, batch: int = 20_000) -> Iterator[EventRecord]:
    """Every event in sequence order, read in keyset batches of plain rows (constant memory on a long chain, and
    no ORM objects: verifying 200,000 events is dominated by hashing, not loading)."""
    last = 0
    while True:
        rows = session.execute(select(*COLUMNS).where(AuditEvent.seq > last).order_by(AuditEvent.seq)
                               .limit(batch)).all()
        if not rows:
            return
        loads = json.loads
        for seq, at, actor, action, subject, payload, prev_hash, digest in rows:
            yield EventRecord(seq, at, actor, action, subject, loads(payload), prev_hash, digest)
        last = rows[-1][0]


def row_record(row: Any) -> EventRecord:
    seq, at, actor, action, subject, payload, prev_hash, digest = row[:8]
    return EventRecord(seq, at, actor, action, subject, json.loads(payload), prev_hash, digest)


def verify_chain(session: Session) -> ChainReport:
    """The full walk: every event, the legacy chain's links and anchor, the tree's leaves, stored root and tree
    heads (see :func:`realname.audit.verification.full`)."""
    from realname.audit.verification import full

    return full(session)
