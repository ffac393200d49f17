"""Checking the stored audit trail against itself and its tree heads: the full walk, and the incremental check
that resumes from the last verified prefix.

One walk, in seq order, over the events and their leaf positions. Each event must match its own hash
("altered"); a seq missing below the tree's end must be an explicit skip ("missing"); linked (legacy) events must
link to the one before and end at the ``audit_head`` anchor ("broken_link", "missing"); an event below the tree's
end must be the next leaf ("missing" when it has none, "reordered" when it sits elsewhere); the root recomputed from
the events must equal every tree head met on the way and the batcher's stored root ("bad_tree"; with the log's
public keys, each head's signature is checked too).

The incremental check starts from the stored prefix (tree size, last seq, compact range, chain state) instead of
the first event, so its cost is the events added since the last check, not the log's length. It cannot see an
event *inside* the verified prefix altered afterwards: that is what the full walk (``realname audit verify --full``)
and, for the regulator, inclusion proofs against tree heads it already holds are for.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from realname.audit import merkle
from realname.audit.chain import GENESIS, UNLINKED, ChainReport, EventRecord, Problem, intact
from realname.audit.log import COLUMNS, row_record
from realname.audit.tree import frontier_of, frontier_text, heads_between, is_postgres, state
from realname.audit.tree_heads import TreeHead, check
from realname.errors import IntegrityError
from realname.registry.tables import AuditEvent, AuditHead, AuditLeaf, AuditSkip


@dataclass
class Prefix:
    """Where a walk starts or ended: ``count`` events up to ``seq``, the first ``frontier.size`` of them leaves."""

    seq: int
    count: int
    last_hash: str
    chain_hash: str  # the legacy chain's last hash (GENESIS before any event), UNLINKED once unlinked events began
    frontier: merkle.CompactRange


def _rows(session: Session, after: int, batch: int = 20_000) -> Iterator[tuple[EventRecord, int | None]]:
    last = after
    while True:
        rows = session.execute(select(*COLUMNS, AuditLeaf.idx).outerjoin(AuditLeaf, AuditLeaf.seq == AuditEvent.seq)
                               .where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)).all()
        if not rows:
            return
        for row in rows:
            yield row_record(row), row[8]
        last = rows[-1][0]


def _walk(session: Session, start: Prefix, keys: Mapping[str, bytes] | None) -> tuple[ChainReport, Prefix]:
    st = state(session)
    skips = set(session.execute(select(AuditSkip.seq).where(AuditSkip.seq > start.seq)).scalars())
    heads = heads_between(session, start.frontier.size, st.size)
    anchor = session.get(AuditHead, 1)
    anchor_seq, anchor_hash = (anchor.seq, anchor.hash) if anchor is not None else (0, GENESIS)
    compact = merkle.CompactRange(start.frontier.size, list(start.frontier.hashes))
    # Above the tree's end a hole may be a PostgreSQL transaction still open or rolled back; on SQLite, never.
    holes_end = st.next_seq if is_postgres(session) else 2**62
    seq, count, last_hash, chain_hash = start.seq, start.count, start.last_hash, start.chain_hash
    tree_end = (seq, count, last_hash, chain_hash)
    h = 0

    def bad(problem: Problem, at: int, detail: str) -> tuple[ChainReport, Prefix]:
        return ChainReport(False, count, last_hash, at, problem, detail), start

    def head_ok(head: TreeHead) -> str | None:
        if compact.root() != head.root:
            return (f"the tree head of size {head.size} does not match the events: its root differs from the one "
                    "they give (an event in it was changed, removed or reordered, or the head was forged)")
        if keys is not None:
            try:
                check(head, keys)
            except IntegrityError as exc:
                return exc.message
        return None

    for rec, idx in _rows(session, start.seq):
        if not intact(rec):
            return bad("altered", rec.seq, f"event {rec.seq} was altered: its content no longer matches its hash")
        for hole in range(seq + 1, min(rec.seq, holes_end)):
            if hole not in skips:
                return bad("missing", hole, f"event {hole} is missing: after event {seq} comes event {rec.seq}")
        if seq < anchor_seq < rec.seq:
            return bad("missing", anchor_seq, f"event {anchor_seq}, the end of the legacy chain, is missing")
        if rec.prev_hash != UNLINKED:
            if rec.prev_hash != chain_hash:
                return bad("broken_link", rec.seq, f"event {rec.seq} does not link to the event before it: an event "
                                                   "was rewritten with a recomputed hash, or replaced")
            chain_hash = rec.hash
        else:
            chain_hash = UNLINKED
        if rec.seq == anchor_seq and (rec.hash != anchor_hash or rec.prev_hash == UNLINKED):
            return bad("broken_link", rec.seq, f"event {rec.seq} is not the end of the legacy chain its anchor records")
        if rec.seq < st.next_seq:
            if idx != compact.size:
                if idx is None:
                    return bad("missing", rec.seq, f"event {rec.seq} is not in the log's tree: its leaf was removed")
                return bad("reordered", rec.seq, f"event {rec.seq} is leaf {idx} of the log's tree where leaf "
                                                 f"{compact.size} was expected: the log was reordered")
            compact.append(merkle.leaf_hash(bytes.fromhex(rec.hash)))
            while h < len(heads) and heads[h].size == compact.size:
                problem = head_ok(heads[h])
                if problem:
                    return bad("bad_tree", rec.seq, problem)
                h += 1
        elif idx is not None:
            return bad("reordered", rec.seq, f"event {rec.seq} is a leaf beyond the tree's end")
        seq, count, last_hash = rec.seq, count + 1, rec.hash
        if rec.seq < st.next_seq:
            tree_end = (seq, count, last_hash, chain_hash)
    for hole in range(seq + 1, st.next_seq):
        if hole not in skips:
            return bad("missing", hole, f"the log's tree holds events up to {st.next_seq - 1} but event {hole} is "
                                        "missing: events at the end were removed")
    if anchor_seq > seq:
        return bad("missing", seq + 1, f"the chain ends at event {seq} but its head records event {anchor_seq}: "
                                       "events at the end were removed")
    if compact.size != st.size:
        return bad("missing", seq + 1, f"the log's tree has {st.size} leaves but only {compact.size} events are "
                                       "in it: events were removed")
    if compact.size and compact.root() != frontier_of(st.frontier, st.size).root():
        return bad("bad_tree", seq + 1, "the log's stored root does not match the events")
    if h < len(heads):
        return bad("bad_tree", seq + 1, f"a tree head covers {heads[h].size} events but the log holds {compact.size}")
    pending = count - tree_end[1]
    detail = (f"{count} events verified ({compact.size} in the log's tree, root {compact.root().hex()}; "
              f"{pending} waiting to enter it)")
    end = Prefix(tree_end[0], tree_end[1], tree_end[2], tree_end[3], compact)
    return ChainReport(True, count, last_hash, None, None, detail), end


def full(session: Session, keys: Mapping[str, bytes] | None = None) -> ChainReport:
    """Walk every event from the first."""
    return _walk(session, Prefix(0, 0, GENESIS, GENESIS, merkle.CompactRange()), keys)[0]


def stored_prefix(session: Session) -> Prefix:
    st = state(session)
    last = session.execute(select(AuditEvent.hash).where(AuditEvent.seq == st.verified_seq)).scalar_one_or_none()
    return Prefix(st.verified_seq, st.verified_size, last or GENESIS, st.chain_hash,
                  frontier_of(st.verified_frontier, st.verified_size))


def incremental(session: Session, keys: Mapping[str, bytes] | None = None) -> tuple[ChainReport, Prefix]:
    """Walk from the stored verified prefix; returns the report and the prefix to store when it is ok.

    ``count`` counts every event, as the full walk does: the prefix's leaves are one per event."""
    return _walk(session, stored_prefix(session), keys)


def save_prefix(session: Session, prefix: Prefix) -> None:
    """Record a verified prefix (in a write transaction); an older one never replaces a newer one."""
    st = state(session, lock=True)
    if prefix.frontier.size > st.verified_size or prefix.seq > st.verified_seq:
        st.verified_size, st.verified_seq = prefix.frontier.size, prefix.seq
        st.verified_frontier, st.chain_hash = frontier_text(prefix.frontier), prefix.chain_hash


def prefix_doc(prefix: Prefix) -> dict[str, object]:
    return {"size": prefix.frontier.size, "seq": prefix.seq, "root": prefix.frontier.root().hex(),
            "frontier": json.loads(frontier_text(prefix.frontier))}
