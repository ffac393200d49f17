"""Proof documents: inclusion of events in a signed tree head, and consistency between two heads. Built from the
database here; checked offline (:func:`check_inclusion`, :func:`check_consistency`) with nothing but the documents
and the operator's log public keys: O(log n) hashes, no database.

An inclusion proof carries the events themselves (every field that is hashed), so the checker recomputes each
event's hash, its leaf hash ``SHA-256(0x00 || event hash)`` and the audit path up to the head's root. A changed
event changes its hash; a removed, reordered or re-inserted one sits at another leaf index; a rebuilt log has
another root: each fails against a head the inspector holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from realname.audit import merkle
from realname.audit.chain import EventRecord, event_hash
from realname.audit.log import COLUMNS, row_record
from realname.audit.tree import hashes
from realname.audit.tree_heads import TreeHead, check, hex_hash
from realname.errors import BadInputError, IntegrityError, NotFoundError
from realname.registry.tables import AuditEvent, AuditLeaf

INCLUSION_KIND = "realname-inclusion-proof/v1"
CONSISTENCY_KIND = "realname-consistency-proof/v1"


def event_doc(e: EventRecord) -> dict[str, Any]:
    return {"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "subject": e.subject,
            "payload": dict(e.payload), "prev_hash": e.prev_hash, "hash": e.hash}


def inclusion(session: Session, head: TreeHead, subjects: Sequence[str], label: str) -> dict[str, Any]:
    """The events about ``subjects`` that ``head`` covers, each with its leaf index and audit path."""
    rows = session.execute(select(*COLUMNS, AuditLeaf.idx).join(AuditLeaf, AuditLeaf.seq == AuditEvent.seq)
                           .where(AuditEvent.subject.in_(list(subjects)), AuditLeaf.idx < head.size)
                           .order_by(AuditEvent.seq)).all()
    if not rows:
        raise NotFoundError(f"no audit event about {label} is covered by the tree head of size {head.size}",
                            code="no_events")
    out = []
    for row in rows:
        idx = int(row[8])
        path = hashes(session, merkle.inclusion_ranges(idx, head.size))
        out.append({"event": event_doc(row_record(row)), "leaf_index": idx, "path": [p.hex() for p in path]})
    return {"kind": INCLUSION_KIND, "subject": label, "tree_head": head.as_dict(), "events": out}


def consistency(session: Session, old: TreeHead, new: TreeHead) -> dict[str, Any]:
    if old.size > new.size:
        raise BadInputError(f"the old tree head ({old.size} events) is larger than the new one ({new.size})",
                            code="bad_head_order")
    path = hashes(session, merkle.consistency_ranges(old.size, new.size))
    return {"kind": CONSISTENCY_KIND, "old": old.as_dict(), "new": new.as_dict(), "path": [p.hex() for p in path]}


# --- offline checks ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Checked:
    ok: bool
    detail: str
    head: TreeHead | None = None
    events: int = 0


def _kind(doc: Any, kind: str) -> dict[str, Any]:
    if not isinstance(doc, dict) or doc.get("kind") != kind:
        raise BadInputError(f"not a {kind} document", code="bad_proof")
    return doc


def _path(value: Any) -> list[bytes]:
    if not isinstance(value, list):
        raise BadInputError("a proof's path must be a list of hex hashes", code="bad_proof")
    return [hex_hash(v, "a proof hash") for v in value]


def _record(doc: Any) -> EventRecord:
    fields = ("seq", "at", "actor", "action", "subject", "payload", "prev_hash", "hash")
    if not isinstance(doc, dict) or any(f not in doc for f in fields) or not isinstance(doc["seq"], int) \
            or not isinstance(doc["payload"], dict) or not all(isinstance(doc[f], str) for f in fields[1:5]) \
            or not isinstance(doc["prev_hash"], str) or not isinstance(doc["hash"], str):
        raise BadInputError("an event in the proof lacks a field or has one of the wrong type", code="bad_proof")
    return EventRecord(doc["seq"], doc["at"], doc["actor"], doc["action"], doc["subject"], doc["payload"],
                       doc["prev_hash"], doc["hash"])


def check_inclusion(doc: Any, keys: Mapping[str, bytes]) -> Checked:
    """Is every event in the document in the signed tree head it names, at its place? Bad input (a document
    that is not a proof) raises BadInputError; a proof that does not hold is ``ok=False`` with the reason."""
    d = _kind(doc, INCLUSION_KIND)
    head = TreeHead.from_dict(d.get("tree_head"))
    try:
        check(head, keys)
    except IntegrityError as exc:
        return Checked(False, exc.message, head)
    items = d.get("events")
    if not isinstance(items, list) or not items:
        raise BadInputError("an inclusion proof lists at least one event", code="bad_proof")
    last_seq, last_idx = 0, -1
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("leaf_index"), int):
            raise BadInputError("each proven event has 'event', 'leaf_index' and 'path'", code="bad_proof")
        rec, idx, path = _record(item.get("event")), item["leaf_index"], _path(item.get("path"))
        digest = event_hash(rec.seq, rec.at, rec.actor, rec.action, rec.subject, rec.payload, rec.prev_hash)
        if digest != rec.hash:
            return Checked(False, f"event {rec.seq} was altered: its content no longer matches its hash", head)
        if rec.seq <= last_seq or idx <= last_idx:
            return Checked(False, f"event {rec.seq} is out of order in the proof", head)
        if not merkle.verify_inclusion(idx, head.size, merkle.leaf_hash(bytes.fromhex(digest)), path, head.root):
            return Checked(False, f"event {rec.seq} is not leaf {idx} of the signed tree of {head.size} events: the "
                                  "log was changed since that head, or the event was", head)
        last_seq, last_idx = rec.seq, idx
    return Checked(True, f"{len(items)} events are in the signed tree head of {head.size} events "
                         f"(root {head.root.hex()}, key {head.key_id})", head, len(items))


def check_consistency(doc: Any, keys: Mapping[str, bytes], old: TreeHead | None = None,
                      new: TreeHead | None = None) -> Checked:
    """Does the document's new head extend its old one? ``old``/``new``, when given (heads the checker already
    holds), must be the ones the document names."""
    d = _kind(doc, CONSISTENCY_KIND)
    d_old, d_new = TreeHead.from_dict(d.get("old")), TreeHead.from_dict(d.get("new"))
    for mine, theirs, which in ((old, d_old, "old"), (new, d_new, "new")):
        if mine is not None and (mine.size, mine.root) != (theirs.size, theirs.root):
            return Checked(False, f"the proof is about another {which} head (size {theirs.size}) than the one given "
                                  f"(size {mine.size})", d_new)
    for head in (d_old, d_new):
        try:
            check(head, keys)
        except IntegrityError as exc:
            return Checked(False, exc.message, d_new)
    if not merkle.verify_consistency(d_old.size, d_new.size, d_old.root, d_new.root, _path(d.get("path"))):
        return Checked(False, f"the log of {d_new.size} events does not extend the one of {d_old.size} events "
                              "the old head signed: history was rewritten", d_new)
    return Checked(True, f"the log of {d_new.size} events extends the one of {d_old.size} events", d_new)
