"""A hash chain over audit events: altering, deleting or reordering any stored event is detectable.

Each event's ``hash`` is SHA-256 over the canonical JSON of its fields, including ``prev_hash``, the hash of the
event before it (``GENESIS`` for the first). :func:`verify` walks the chain once, in constant memory.

What the chain alone cannot show is a cut-off tail: the remaining prefix is still a valid chain. The caller keeps
an anchor (the last seq and hash, recorded elsewhere) and compares it with :attr:`ChainReport.count` and
:attr:`ChainReport.last_hash`.

Since the transparency log (:mod:`realname.audit.tree`) new events are *unlinked*: their ``prev_hash`` is
:data:`UNLINKED` and their order is fixed by the Merkle tree instead, so appends need not wait for each other.
The linked events written before stay a chain and are still verified as one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

GENESIS = "0" * 64
UNLINKED = ""  # the prev_hash of an event ordered by the Merkle tree rather than by a link

Problem = Literal["altered", "missing", "reordered", "broken_link", "bad_tree"]


@dataclass(frozen=True)
class EventRecord:
    seq: int
    at: str  # ISO 8601 UTC text exactly as stored and hashed; never re-formatted
    actor: str
    action: str
    subject: str
    payload: Mapping[str, Any]  # JSON-serialisable; prefer str/int/bool/None (see canonical)
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainReport:
    """``first_bad_seq`` is the sequence number the chain expected where it first went wrong (None when ok)."""

    ok: bool
    count: int  # events verified before the first problem (all of them when ok)
    last_hash: str  # hash of the last verified event, GENESIS for none: compare with the stored anchor
    first_bad_seq: int | None
    problem: Problem | None
    detail: str


def utc_text(moment: datetime | None = None) -> str:
    """The ``at`` text for a new event: ISO 8601 in UTC with microseconds, e.g. ``2024-05-01T08:30:00.000000Z``."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(seq: int, at: str, actor: str, action: str, subject: str, payload: Mapping[str, Any],
              prev_hash: str) -> bytes:
    """The exact bytes that are hashed.

    Sorted keys, no whitespace, UTF-8 rather than escapes: the payload comes back from SQLite (JSON text) and
    PostgreSQL (JSONB, which reorders keys and drops whitespace) as an equal but differently spelled object, and
    must hash to the same value. Floats are best avoided in payloads: JSONB may spell them differently (1e2 -> 100).
    """
    doc = {"seq": seq, "at": at, "actor": actor, "action": action, "subject": subject, "payload": payload,
           "prev_hash": prev_hash}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def event_hash(seq: int, at: str, actor: str, action: str, subject: str, payload: Mapping[str, Any],
               prev_hash: str) -> str:
    return hashlib.sha256(canonical(seq, at, actor, action, subject, payload, prev_hash)).hexdigest()


def link(prev: EventRecord | None, *, at: str, actor: str, action: str, subject: str,
         payload: Mapping[str, Any]) -> EventRecord:
    """The record that follows ``prev`` (or starts the chain). The payload is copied through JSON, so the record
    holds what a database round trip returns and later changes to the caller's dict cannot desynchronise it."""
    seq = prev.seq + 1 if prev is not None else 1
    prev_hash = prev.hash if prev is not None else GENESIS
    stored = json.loads(json.dumps(payload, allow_nan=False))
    if not isinstance(stored, dict):
        raise TypeError("an audit payload must be a JSON object (a mapping)")
    digest = event_hash(seq, at, actor, action, subject, stored, prev_hash)
    return EventRecord(seq, at, actor, action, subject, stored, prev_hash, digest)


def verify(records: Iterable[EventRecord]) -> ChainReport:
    """Check records in seq order, streaming; stop at the first problem.

    Each record is first checked against its own hash ("altered": any field changed without recomputing it),
    then its seq against the expected one ("missing" for a gap, "reordered" for a lower, repeated or swapped
    seq; one record of look-ahead tells a swap from a gap), then its ``prev_hash`` against the previous record's
    hash ("broken_link": e.g. an event rewritten with a recomputed hash, or one replaced by a forgery).
    """
    count, prev_hash = 0, GENESIS
    it = iter(records)

    def bad(problem: Problem, detail: str) -> ChainReport:
        return ChainReport(False, count, prev_hash, count + 1, problem, detail)

    for rec in it:
        expected = count + 1
        if not _intact(rec):
            return bad("altered", f"event {expected} was altered: its content no longer matches its hash")
        if rec.seq > expected:
            after = next(it, None)
            if after is not None and after.seq < rec.seq:
                return bad("reordered", f"events are out of order: event {rec.seq} appears where event {expected} "
                                        f"should be, followed by event {after.seq}")
            gap = f"event {expected} is" if rec.seq == expected + 1 else f"events {expected} to {rec.seq - 1} are"
            where = f"after event {expected - 1}" if expected > 1 else "at the start of the chain"
            return bad("missing", f"{gap} missing: {where} comes event {rec.seq}")
        if rec.seq < expected:
            return bad("reordered", f"events are out of order: event {rec.seq} appears again where event "
                                    f"{expected} should be")
        if rec.prev_hash != prev_hash:
            before = f"event {expected - 1}" if expected > 1 else "the start of the chain"
            return bad("broken_link", f"event {expected} does not link to {before}: an event was rewritten with a "
                                      "recomputed hash, or replaced")
        count, prev_hash = expected, rec.hash
    return ChainReport(True, count, prev_hash, None, None,
                       f"{count} events verified; compare the count and last hash with the recorded anchor")


def intact(rec: EventRecord) -> bool:
    return _intact(rec)


def _intact(rec: EventRecord) -> bool:
    """Does the record still match its own hash? A payload that no longer serialises counts as altered."""
    try:
        digest = event_hash(rec.seq, rec.at, rec.actor, rec.action, rec.subject, rec.payload, rec.prev_hash)
    except (TypeError, ValueError):
        return False
    return digest == rec.hash
