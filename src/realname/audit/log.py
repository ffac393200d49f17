"""The audit chain in the database: append inside the caller's transaction, verify by streaming.

Appending locks the single ``audit_head`` row (``FOR UPDATE`` on PostgreSQL; SQLite's write transaction is
already exclusive), so sequence numbers have no gaps and follow commit order across all workers. The event is
written in the same transaction as the state change it records: both land, or neither does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from realname.audit.chain import GENESIS, ChainReport, EventRecord, link, verify
from realname.registry.tables import AuditEvent, AuditHead


def _record(row: AuditEvent) -> EventRecord:
    return EventRecord(seq=row.seq, at=row.at, actor=row.actor, action=row.action, subject=row.subject,
                       payload=row.payload, prev_hash=row.prev_hash, hash=row.hash)


def append(session: Session, *, at: datetime, actor: str, action: str, subject: str,
           payload: Mapping[str, Any] | None = None) -> EventRecord:
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
    prev = None if head.seq == 0 else session.get(AuditEvent, head.seq)
    record = link(_record(prev) if prev is not None else None, at=at.isoformat(timespec="microseconds"),
                  actor=actor, action=action, subject=subject, payload=dict(payload or {}))
    session.add(AuditEvent(seq=record.seq, at=record.at, actor=record.actor, action=record.action,
                           subject=record.subject, payload=dict(record.payload), prev_hash=record.prev_hash,
                           hash=record.hash))
    head.seq, head.hash = record.seq, record.hash
    return record


# The payload is read as its stored text and parsed here: the JSON column type's per-row processing costs more
# than the hashing itself on a long chain.
_COLUMNS = (AuditEvent.seq, AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.subject,
            cast(AuditEvent.payload, Text), AuditEvent.prev_hash, AuditEvent.hash)


def events(session: Session, batch: int = 20_000) -> Iterator[EventRecord]:
    """Every event in sequence order, read in keyset batches of plain rows (constant memory on a long chain, and
    no ORM objects: verifying 200,000 events is dominated by hashing, not loading)."""
    last = 0
    while True:
        rows = session.execute(select(*_COLUMNS).where(AuditEvent.seq > last).order_by(AuditEvent.seq)
                               .limit(batch)).all()
        if not rows:
            return
        loads = json.loads
        for seq, at, actor, action, subject, payload, prev_hash, digest in rows:
            yield EventRecord(seq, at, actor, action, subject, loads(payload), prev_hash, digest)
        last = rows[-1][0]


def verify_chain(session: Session) -> ChainReport:
    """Verify every event, then the head: a chain cut short at its end no longer reaches the head's seq and hash."""
    report = verify(events(session))
    if not report.ok:
        return report
    head = session.get(AuditHead, 1)
    want_seq, want_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)
    if report.count != want_seq or report.last_hash != want_hash:
        return ChainReport(ok=False, count=report.count, last_hash=report.last_hash,
                           first_bad_seq=report.count + 1, problem="missing",
                           detail=f"the chain ends at event {report.count} but its head records event {want_seq}: "
                                  "events at the end were removed")
    return report
