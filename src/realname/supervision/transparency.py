"""The transparency log's use cases, over :class:`~realname.context.Services`: publish a signed tree head, check
the trail (incrementally by default), prove a registration's events, prove that one head extends another. The CLI
and the API are thin layers over these. They live here, not in :mod:`realname.audit`, because they combine the log
with roles and registrations (and ``audit`` must not import ``operators``, which appends to it).
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from sqlalchemy import select

from realname.audit import tree
from realname.audit.chain import ChainReport
from realname.audit.proofs import consistency, inclusion
from realname.audit.tree_heads import TreeHead, public_keys
from realname.audit.verification import full, incremental, save_prefix
from realname.context import Actor, Services
from realname.errors import ConfigError, IntegrityError, NotFoundError
from realname.operators.auth import require
from realname.registry.tables import Registration


def log_keys(svc: Services) -> dict[str, bytes]:
    """The log's public keys (old ones included); empty for a keyring that has no log key yet."""
    return public_keys(svc.keyring)


def integrate(svc: Services) -> int:
    """Bring the tree up to the committed end (as far as no transaction may still fill a hole)."""
    return tree.catch_up(svc.db.write)


def publish_head(svc: Services) -> TreeHead:
    """Integrate, then sign and store a tree head for the whole tree (on demand, and from the periodic task)."""
    tree.catch_up(svc.db.write)
    with svc.db.write() as s:
        return tree.publish(s, svc.keyring, svc.now())


def publish_due(svc: Services, every_seconds: float) -> TreeHead | None:
    """The periodic task's step: publish unless another worker did within the period (workers of one service
    all run it; the state row's lock makes them take turns)."""
    tree.catch_up(svc.db.write)
    with svc.db.write() as s:
        tree.state(s, lock=True)
        last = tree.latest_head(s)
        now = svc.now()
        if last is not None and now.timestamp() * 1000 - last.timestamp < every_seconds * 900:  # 90% of it
            return None
        return tree.publish(s, svc.keyring, now)


def latest_head(svc: Services) -> TreeHead | None:
    with svc.db.read() as s:
        return tree.latest_head(s)


def status(svc: Services, *, whole: bool = False) -> ChainReport:
    """The trail checked against itself and its tree heads. Incremental: from the last verified prefix, which
    advances when the check passes; ``whole``: the full walk from the first event. Pending events are brought
    into the tree first; an event altered before it entered the tree stops the batcher and is reported here."""
    with suppress(IntegrityError):  # the walk below names the altered event
        tree.catch_up(svc.db.write)
    try:
        keys = log_keys(svc) or None
    except ConfigError:  # no keyring here: the roots are still checked, the signatures are not
        keys = None
    with svc.db.read() as s:
        if whole:
            return full(s, keys)
        report, prefix = incremental(s, keys)
    if report.ok:
        with svc.db.write() as s:
            save_prefix(s, prefix)
    return report


def prove_registration(svc: Services, actor: Actor, registration_id: str) -> dict[str, Any]:
    """The events of a registration (its own and its verification's) with inclusion proofs against a signed tree
    head that covers them: the latest one, or a new one when the latest does not yet."""
    require(actor, "compliance.read")
    with svc.db.read() as s:
        reg = s.execute(select(Registration.id, Registration.verification_id)
                        .where(Registration.id == registration_id)).one_or_none()
    if reg is None:
        raise NotFoundError("no such registration")
    subjects = [reg.id] + ([reg.verification_id] if reg.verification_id else [])
    with svc.db.read() as s:
        head = tree.latest_head(s)
        try:
            if head is not None:
                return inclusion(s, head, subjects, registration_id)
        except NotFoundError:
            pass
    head = publish_head(svc)
    with svc.db.read() as s:
        return inclusion(s, head, subjects, registration_id)


def consistency_between(svc: Services, old: TreeHead, new: TreeHead) -> dict[str, Any]:
    """The consistency proof between two heads the caller holds, from this log's stored nodes (for ``audit
    check-head`` without a proof file)."""
    with svc.db.read() as s:
        return consistency(s, old, new)


def prove_consistency(svc: Services, actor: Actor, old_size: int, new_size: int | None = None) -> dict[str, Any]:
    """The consistency proof between the published heads of those sizes (``new_size``: the latest head)."""
    require(actor, "compliance.read")
    with svc.db.read() as s:
        new = tree.latest_head(s) if new_size is None else tree.head_of_size(s, new_size)
        if new is None:
            raise NotFoundError("no tree head was published yet", code="no_tree_head")
        return consistency(s, tree.head_of_size(s, old_size), new)
