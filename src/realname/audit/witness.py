"""The regulator's witness: a small local file of the operator's log public keys and the tree heads seen so far,
usable without the operator's database.

A head is only added when it is consistent with the heads already held: the same root for the same size, and a
consistency proof (fetched from the operator: ``realname audit consistency`` or the API) to or from the largest
held head. A log rewritten after a head was witnessed can produce no such proof, so the rewrite is refused and
named. Inclusion proofs are then checked against heads the witness holds.

The file is JSON (``{"keys": {...}, "heads": [...]}``) written atomically; one witness file per operator's log.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from realname.audit.proofs import CONSISTENCY_KIND, INCLUSION_KIND, Checked, check_consistency, check_inclusion
from realname.audit.tree_heads import TreeHead, check, keys_document, parse_keys
from realname.errors import BadInputError, ConflictError, IntegrityError, NotFoundError


class Witness:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFoundError(f"no witness file at {path}: create it with `realname witness init --key KEYS`",
                                code="no_witness") from None
        except (OSError, ValueError) as exc:
            raise BadInputError(f"cannot read the witness file {path}: {exc}", code="bad_witness") from None
        self.keys = parse_keys(doc.get("keys") if isinstance(doc, dict) else None)
        heads = doc.get("heads", [])
        if not isinstance(heads, list):
            raise BadInputError(f"the witness file {path} is damaged: 'heads' is not a list", code="bad_witness")
        self.heads = sorted((TreeHead.from_dict(h) for h in heads), key=lambda h: h.size)

    @staticmethod
    def init(path: Path, keys_doc: Any) -> Witness:
        if path.exists():
            raise ConflictError(f"{path} exists: a witness keeps its history (add keys with `witness keys`)",
                                code="witness_exists")
        _write(path, {"keys": keys_document(parse_keys(keys_doc))["keys"], "heads": []})
        return Witness(path)

    def add_keys(self, keys_doc: Any) -> list[str]:
        """Add the operator's new log keys (after a rotation); a known key id with another key is refused."""
        new = parse_keys(keys_doc)
        clash = [k for k, v in new.items() if k in self.keys and self.keys[k] != v]
        if clash:
            raise IntegrityError(f"log key {clash[0]!r} is already held with another value", code="key_changed")
        added = sorted(set(new) - set(self.keys))
        self.keys = {**self.keys, **new}
        self._save()
        return added

    def latest(self) -> TreeHead | None:
        return self.heads[-1] if self.heads else None

    def held(self, size: int) -> TreeHead | None:
        return next((h for h in self.heads if h.size == size), None)

    def add(self, head_doc: Any, proof_doc: Any | None = None) -> str:
        """Add a head: signed by a held key, and consistent with the largest head held. Returns what was done."""
        head = TreeHead.from_dict(head_doc)
        check(head, self.keys)
        latest, same = self.latest(), self.held(head.size)
        if same is not None:
            if same.root != head.root:
                raise IntegrityError(f"two different logs of {head.size} events were signed (roots "
                                     f"{same.root.hex()[:16]}… and {head.root.hex()[:16]}…): history was rewritten",
                                     code="log_forked")
            return f"the head of size {head.size} is already held"
        if latest is not None:
            if proof_doc is None:
                raise BadInputError(f"a consistency proof between sizes {min(latest.size, head.size)} and "
                                    f"{max(latest.size, head.size)} is needed (realname audit consistency)",
                                    code="proof_needed")
            old, new = (latest, head) if head.size > latest.size else (head, latest)
            result = check_consistency(proof_doc, self.keys, old, new)
            if not result.ok:
                raise IntegrityError(result.detail, code="inconsistent_head")
        self.heads = sorted([*self.heads, head], key=lambda h: h.size)
        self._save()
        return f"added the head of size {head.size}" + (f", consistent with size {latest.size}" if latest else "")

    def check(self, doc: Any) -> Checked:
        """An inclusion proof against a held head, or a consistency proof whose heads agree with the held ones."""
        kind = doc.get("kind") if isinstance(doc, dict) else None
        if kind == INCLUSION_KIND:
            head = TreeHead.from_dict(doc.get("tree_head"))
            held = self.held(head.size)
            if held is None:
                return Checked(False, f"the proof is against a head of size {head.size} the witness does not hold: "
                                      "add that head first (with a consistency proof)", head)
            if held.root != head.root:
                return Checked(False, f"the proof's head of size {head.size} has another root than the one "
                                      "witnessed: history was rewritten", head)
            return check_inclusion(doc, self.keys)
        if kind == CONSISTENCY_KIND:
            old, new = TreeHead.from_dict(doc.get("old")), TreeHead.from_dict(doc.get("new"))
            return check_consistency(doc, self.keys, self.held(old.size), self.held(new.size))
        raise BadInputError("expected an inclusion or a consistency proof document", code="bad_proof")

    def _save(self) -> None:
        _write(self.path, {"keys": keys_document(self.keys)["keys"], "heads": [h.as_dict() for h in self.heads]})


def _write(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(doc, indent=2) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
