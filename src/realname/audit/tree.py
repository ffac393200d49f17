"""The transparency log in the database: committed audit events batched into an RFC 9162 Merkle tree, its stored
nodes, and signed tree heads.

Appending (:func:`realname.audit.log.append`) no longer serialises: an event takes its ``seq`` from the
``audit_events_seq`` sequence on PostgreSQL (``max + 1`` on SQLite, whose write transactions are exclusive anyway),
hashes its own fields with ``prev_hash`` :data:`~realname.audit.chain.UNLINKED`, and commits with the state change it
records. Nothing is locked that another outlet's append needs.

Ordering is fixed later, by the batcher (:func:`integrate`), which appends events to the tree in ``seq`` order and
only ever takes a *gap-free committed prefix*:

- Every seq below ``audit_log_state.next_seq`` is either a leaf (``audit_leaves``: leaf ``idx`` is event ``seq``)
  or an explicit skip (``audit_skips``). Leaves are only appended, never moved: once a tree head covers an event,
  its position is fixed by the signed root.
- On PostgreSQL a transaction that took a seq and then rolled back leaves a hole that will never fill, and a slow
  transaction leaves a hole that will fill later; from outside they look alike. When the batcher meets a hole at
  ``g`` followed by a committed ``h > g``, it decides as follows. The sequence is non-cached (``CACHE 1``), so the
  seq ``g`` was handed out before ``h``; ``h`` committed before the batcher's read, so the transaction holding
  ``g`` started before the moment ``T`` (``clock_timestamp()``) taken after that read, the first time this process
  saw the hole (remembered, so transactions that start later never hold it up). An append takes its transaction
  id before its seq (``SELECT pg_current_xact_id(), nextval(...)``), so the holder is a *writing* transaction:
  read-only ones (reports, backups) never hold the tree up. If ``pg_stat_activity`` shows no other writing
  transaction of this database that started before ``T``, the holder of ``g``
  has ended: the batcher reads ``g`` again (a fresh READ COMMITTED snapshot) and takes it if it committed, or
  records a skip if it did not. Otherwise it stops at ``g`` and tries again at the next batch: the tree waits for
  in-flight transactions (as long as the longest transaction that was open when ``h`` committed), never
  guesses. The service's database role must see its own sessions in ``pg_stat_activity`` (it does: one role).
  On SQLite a seq is ``max + 1`` inside an exclusive write transaction, so a rollback leaves no hole: a hole can
  only be a deleted event, and the batcher refuses it (IntegrityError) instead of skipping it.
- What no batcher can see: a committed event deleted *before* it is batched looks, on PostgreSQL, like a rolled
  back one. The window is the time to the next batch (at most ``REALNAME_LOG_HEAD_SECONDS``); after that the
  event is a leaf under a signed head.
- A crash between an event's commit and its batching loses nothing: the event is a committed row, and the next
  batch (in any process) takes it. The batcher's own writes (leaves, nodes, skips, state) are one transaction;
  concurrent batchers are kept apart by the state row's lock (``FOR UPDATE``).

Guarantees: an event that committed is in the first tree head published after every transaction older than it
has ended; no event is skipped (skips are only recorded for seqs whose transaction is certainly gone); leaves never
move. An event is checked against its own hash before it becomes a leaf; the leaf is
``SHA-256(0x00 || event hash)``.

The tree is kept as the hashes of its perfect subtrees (``audit_tree_nodes``, level 0 = leaves) plus the compact
range of its right edge in the state row, so roots at any size and every proof are O(log n) reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, delete, func, insert, or_, select, text
from sqlalchemy.orm import Session

from realname.audit import merkle
from realname.audit.chain import intact
from realname.audit.log import COLUMNS, row_record
from realname.audit.tree_heads import TreeHead, sign
from realname.errors import IntegrityError, NotFoundError
from realname.privacy.keyring import Keyring
from realname.registry.tables import (
    AuditEvent,
    AuditLeaf,
    AuditLogState,
    AuditNode,
    AuditSkip,
    AuditTreeHead,
)

READ_BATCH = 5000


@dataclass(frozen=True)
class Batch:
    added: int
    skipped: list[int]
    size: int  # leaves in the tree after the batch
    next_seq: int
    waiting_for: int | None  # a seq whose transaction may still commit: the tree stops before it


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def state(session: Session, *, lock: bool = False) -> AuditLogState:
    q = select(AuditLogState).where(AuditLogState.id == 1)
    row = session.execute(q.with_for_update() if lock else q).scalar_one_or_none()
    if row is None:  # created by migration 0008; a database made by create_all gets it here
        row = AuditLogState(id=1, size=0, next_seq=1, frontier="[]", verified_size=0, verified_seq=0,
                            verified_frontier="[]", chain_hash="0" * 64)
        session.add(row)
        session.flush()
    return row


def frontier_of(text_: str, size: int) -> merkle.CompactRange:
    return merkle.CompactRange(size, [bytes.fromhex(h) for h in json.loads(text_)])


def frontier_text(compact: merkle.CompactRange) -> str:
    return json.dumps([h.hex() for h in compact.hashes])


# When this process first saw each hole followed by a committed event: the holder started before that moment, so
# only transactions older than it matter, however many start later (under steady load some always run).
_first_seen: dict[tuple[str, int], datetime] = {}


def _holder_gone(session: Session, hole: int) -> bool:
    """Has every transaction that could hold seq ``hole`` (below one seen committed) ended? (see module doc)"""
    key = (str(session.get_bind().engine.url), hole)
    if key not in _first_seen:
        _first_seen[key] = session.execute(text("SELECT clock_timestamp()")).scalar_one()
    seen = _first_seen[key]
    busy = session.execute(text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND backend_xid IS NOT NULL AND xact_start < :seen"), {"seen": seen}).scalar_one()
    if int(busy) == 0:
        del _first_seen[key]
        return True
    return False


def integrate(session: Session, *, limit: int = 100_000, now: datetime | None = None) -> Batch:
    """Append the committed events after the tree's end to it, in seq order, up to ``limit`` of them. Runs in the
    caller's write transaction (which it must be alone in: it locks the state row)."""
    st = state(session, lock=True)
    compact = frontier_of(st.frontier, st.size)
    next_seq, added, skipped, waiting = st.next_seq, 0, [], None
    stamp = (now or datetime.now(UTC)).isoformat(timespec="microseconds")
    leaves: list[dict[str, int]] = []
    nodes: list[dict[str, object]] = []
    while added < limit and waiting is None:
        rows = session.execute(select(*COLUMNS).where(AuditEvent.seq >= next_seq).order_by(AuditEvent.seq)
                               .limit(min(READ_BATCH, limit - added))).all()
        if not rows:
            break
        for rec in (row_record(r) for r in rows):
            if rec.seq != next_seq and session.execute(select(func.count()).select_from(AuditSkip).where(
                    AuditSkip.seq >= next_seq, AuditSkip.seq < rec.seq)).scalar_one() == rec.seq - next_seq:
                next_seq = rec.seq  # skips recorded before (a batch that did not commit, a rebuilt tree)
            if rec.seq != next_seq:  # a hole: wait for it, or skip it once its transaction is certainly gone
                if not is_postgres(session):
                    raise IntegrityError(f"audit event {next_seq} is missing before it entered the log: it was "
                                         "deleted", code="audit_event_missing")
                if not _holder_gone(session, next_seq):
                    waiting = next_seq
                    break
                late = session.execute(select(func.count()).select_from(AuditEvent).where(
                    AuditEvent.seq >= next_seq, AuditEvent.seq < rec.seq)).scalar_one()
                if late:  # committed meanwhile: read again from the hole
                    break
                for seq in range(next_seq, rec.seq):
                    skipped.append(seq)
                next_seq = rec.seq
            if not intact(rec):
                raise IntegrityError(f"audit event {rec.seq} does not match its own hash: it was altered before it "
                                     "entered the log", code="audit_event_altered")
            idx = compact.size
            for level, index, digest in compact.append(merkle.leaf_hash(bytes.fromhex(rec.hash))):
                nodes.append({"level": level, "idx": index, "hash": digest})
            leaves.append({"idx": idx, "seq": rec.seq})
            next_seq, added = rec.seq + 1, added + 1
            if added >= limit:
                break
    if skipped:
        session.execute(insert(AuditSkip), [{"seq": q, "noted_at": stamp, "reason": "its transaction ended "
                                             "without committing (rolled back)"} for q in skipped])
    for k in range(0, len(leaves), READ_BATCH):
        session.execute(insert(AuditLeaf), leaves[k:k + READ_BATCH])
    for k in range(0, len(nodes), READ_BATCH):
        session.execute(insert(AuditNode), nodes[k:k + READ_BATCH])
    st.size, st.next_seq, st.frontier = compact.size, next_seq, frontier_text(compact)
    return Batch(added, skipped, compact.size, next_seq, waiting)


def catch_up(db_write: Callable[[], AbstractContextManager[Session]], *, limit: int = 100_000) -> int:
    """Integrate in transactions of ``limit`` events until the tree reaches the committed end; returns the number
    of events added. ``db_write`` is ``Database.write``."""
    total = 0
    while True:
        with db_write() as s:
            batch = integrate(s, limit=limit)
        total += batch.added
        if batch.added < limit:
            return total


# --- nodes, roots ------------------------------------------------------------------------------------------------

def nodes(session: Session, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    want = sorted(set(wanted))
    got: dict[tuple[int, int], bytes] = {}
    for k in range(0, len(want), 200):
        part = want[k:k + 200]
        cond = or_(*(and_(AuditNode.level == lv, AuditNode.idx == i) for lv, i in part))
        got.update({(lv, i): h for lv, i, h in session.execute(
            select(AuditNode.level, AuditNode.idx, AuditNode.hash).where(cond)).all()})
    missing = [w for w in want if w not in got]
    if missing:
        raise IntegrityError(f"the log's tree lacks the node(s) {missing[:3]}: its stored nodes were removed",
                             code="tree_node_missing")
    return got


def hashes(session: Session, ranges: list[merkle.Range]) -> list[bytes]:
    """The hashes of subtrees named by leaf ranges (as proofs name them), from the stored perfect subtrees."""
    parts = [p for a, b in ranges for p in merkle.perfect_parts(a, b)]
    found = nodes(session, parts)
    return [merkle.range_hash(a, b, lambda lv, i: found[(lv, i)]) for a, b in ranges]


def root_at(session: Session, size: int) -> bytes:
    if size == 0:
        return merkle.EMPTY_ROOT
    return hashes(session, [(0, size)])[0]


# --- tree heads --------------------------------------------------------------------------------------------------

def _head(row: AuditTreeHead) -> TreeHead:
    import base64

    return TreeHead(row.size, bytes.fromhex(row.root), row.timestamp, row.key_id, base64.b64decode(row.signature))


def latest_head(session: Session) -> TreeHead | None:
    row = session.execute(select(AuditTreeHead).order_by(AuditTreeHead.id.desc()).limit(1)).scalar_one_or_none()
    return _head(row) if row is not None else None


def head_of_size(session: Session, size: int) -> TreeHead:
    row = session.execute(select(AuditTreeHead).where(AuditTreeHead.size == size)
                          .order_by(AuditTreeHead.id.desc()).limit(1)).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"no tree head of size {size} was published", code="no_tree_head")
    return _head(row)


def heads_between(session: Session, low: int, high: int) -> list[TreeHead]:
    """Heads with ``low < size <= high``, by size."""
    rows = session.execute(select(AuditTreeHead).where(AuditTreeHead.size > low, AuditTreeHead.size <= high)
                           .order_by(AuditTreeHead.size, AuditTreeHead.id)).scalars()
    return [_head(r) for r in rows]


def publish(session: Session, keyring: Keyring, now: datetime) -> TreeHead:
    """Integrate what has committed, then sign and store a head for the tree as it is (in the caller's write
    transaction). The root comes from the compact range the batcher keeps, checked against the stored nodes."""
    integrate(session, now=now)
    st = state(session)
    root = frontier_of(st.frontier, st.size).root()
    if st.size and root_at(session, st.size) != root:
        raise IntegrityError("the log's stored nodes no longer give the root its batcher computed",
                             code="tree_altered")
    head = sign(keyring, st.size, root, int(now.timestamp() * 1000))
    session.add(AuditTreeHead(size=head.size, root=head.root.hex(), timestamp=head.timestamp, key_id=head.key_id,
                              signature=head.as_dict()["signature"]))
    return head


def clear(session: Session) -> None:
    """Forget the tree (tests and the synthetic generator rebuild it from the events)."""
    for table in (AuditLeaf, AuditNode, AuditSkip, AuditTreeHead):
        session.execute(delete(table))
    st = state(session, lock=True)
    st.size, st.next_seq, st.frontier = 0, 1, "[]"
    st.verified_size, st.verified_seq, st.verified_frontier, st.chain_hash = 0, 0, "[]", "0" * 64
