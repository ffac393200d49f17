"""The transparency log on real databases (SQLite and PostgreSQL): batching, tree heads, proofs checked offline,
and tampering (a changed, removed or reordered event, a rebuilt log) caught by the full walk, by proofs against an
earlier head and by the witness."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import delete, func, select, update
from tests.registry_support import KEYRING, make_services, noise_frames, portrait_bytes, prc_card, seeded

from realname.audit import merkle, tree
from realname.audit.chain import UNLINKED, event_hash
from realname.audit.log import append, verify_chain
from realname.audit.proofs import check_consistency, check_inclusion, consistency, inclusion
from realname.audit.tree_heads import TreeHead, public_keys
from realname.audit.witness import Witness
from realname.context import SYSTEM, Services
from realname.errors import IntegrityError
from realname.operators.auth import authenticate, login
from realname.operators.demo import DEMO_PASSWORD
from realname.registration import registrations, verifications
from realname.registry.tables import AuditEvent, AuditLeaf, AuditSkip
from realname.supervision.transparency import prove_registration, publish_head, status

KEYS = public_keys(KEYRING)


def add(svc: Services, n: int, subject: str = "s") -> None:
    for i in range(n):
        with svc.db.write() as s:
            append(s, at=svc.now(), actor="t", action="x", subject=f"{subject}{i % 3}", payload={"i": i})


def leaf_hashes(svc: Services) -> list[bytes]:
    with svc.db.read() as s:
        rows = s.execute(select(AuditEvent.hash).join(AuditLeaf, AuditLeaf.seq == AuditEvent.seq)
                         .order_by(AuditLeaf.idx)).scalars()
        return [merkle.leaf_hash(bytes.fromhex(h)) for h in rows]


def test_batches_heads_and_proofs(db_url: str) -> None:
    svc = make_services(db_url)
    add(svc, 7)
    with svc.db.read() as s:
        assert s.execute(select(func.count()).select_from(AuditLeaf)).scalar_one() == 0  # appends do not batch
    first = publish_head(svc)
    assert first.size == 7 and first.root == merkle.root(leaf_hashes(svc))
    add(svc, 6)
    second = publish_head(svc)
    assert second.size == 13 and second.root == merkle.root(leaf_hashes(svc))
    with svc.db.read() as s:
        for size in range(1, 14):  # any size's root from the stored nodes
            assert tree.root_at(s, size) == merkle.root(leaf_hashes(svc)[:size])
        doc = json.loads(json.dumps(inclusion(s, second, ["s1"], "s1")))
        proof = json.loads(json.dumps(consistency(s, first, second)))
    assert [e["event"]["subject"] for e in doc["events"]] == ["s1"] * 4
    assert check_inclusion(doc, KEYS).ok and check_consistency(proof, KEYS, first, second).ok
    assert status(svc).ok and status(svc, whole=True).ok
    with svc.db.read() as s:
        assert tree.state(s).verified_size == 13  # the incremental check advanced its prefix


def test_a_proof_document_fails_when_any_part_is_changed(db_url: str) -> None:
    svc = make_services(db_url)
    add(svc, 9)
    head = publish_head(svc)
    with svc.db.read() as s:
        doc = inclusion(s, head, ["s0", "s2"], "s")
    assert check_inclusion(doc, KEYS).ok

    def changed(edit: Any) -> bool:
        copy = json.loads(json.dumps(doc))
        edit(copy)
        return check_inclusion(copy, KEYS).ok

    assert not changed(lambda d: d["events"][1]["event"]["payload"].update(i=99))  # altered event
    assert not changed(lambda d: d["events"][1].update(leaf_index=d["events"][2]["leaf_index"]))  # moved
    assert not changed(lambda d: d["events"].reverse())  # reordered
    assert not changed(lambda d: d["tree_head"].update(size=8))  # another head
    assert not changed(lambda d: d["events"][0]["path"].pop())
    assert not check_inclusion(doc, public_keys(type(KEYRING).generate())).ok  # another operator's key


def _registered(db_url: str) -> tuple[Services, str]:
    svc, _ = seeded(db_url)
    agent = authenticate(svc, login(svc, "agent1", DEMO_PASSWORD)[0])
    opened = verifications.open_verification(svc, agent, prc_card(), portrait_bytes(), consent=True)
    verifications.start_capture(svc, agent, opened.verification.id, opened.challenge)
    v, _ = verifications.submit_capture(svc, agent, opened.verification.id, noise_frames())
    return svc, registrations.register(svc, agent, v.id).id


def _rehash(s: sa.orm.Session, seq: int, **values: Any) -> None:
    """Rewrite an event as someone who knows the format would: its hash recomputed."""
    e = s.get(AuditEvent, seq)
    assert e is not None
    for k, v in values.items():
        setattr(e, k, v)
    e.hash = event_hash(e.seq, e.at, e.actor, e.action, e.subject, e.payload, e.prev_hash)


def _swap(s: sa.orm.Session, a: int, b: int) -> None:
    ea, eb = s.get(AuditEvent, a), s.get(AuditEvent, b)
    assert ea is not None and eb is not None
    fields = ("at", "actor", "action", "subject", "payload")
    va, vb = ({f: getattr(ea, f) for f in fields}, {f: getattr(eb, f) for f in fields})
    _rehash(s, a, **vb)
    _rehash(s, b, **va)


TAMPER = {
    "changed": lambda s, seq: _rehash(s, seq, actor="someone-else"),
    "removed": lambda s, seq: s.execute(delete(AuditEvent).where(AuditEvent.seq == seq)),
    "reordered": lambda s, seq: _swap(s, seq, seq + 1),
}


@pytest.mark.parametrize("how", sorted(TAMPER))
def test_tampering_is_caught_in_place_and_after_a_rebuild(db_url: str, tmp_path: Path, how: str) -> None:
    svc, reg_id = _registered(db_url)
    old = publish_head(svc)
    proof = prove_registration(svc, SYSTEM, reg_id)
    assert check_inclusion(proof, KEYS).ok
    witness = Witness.init(tmp_path / "w.json", {"keys": {k: v for k, v in _b64(KEYS).items()}})
    witness.add(old.as_dict())
    assert witness.check(proof).ok
    target = proof["events"][0]["event"]["seq"]  # an event of the registration, covered by the old head

    with svc.db.write() as s:  # in place: the stored tree and heads are left as they were
        TAMPER[how](s, target)
    report = status(svc, whole=True)
    assert not report.ok and report.problem in ("missing", "reordered", "bad_tree", "altered")
    with svc.db.read() as s:
        assert not verify_chain(s).ok

    # A rebuilt log: the operator (who holds the log key) recomputes the tree and signs a new head.
    with svc.db.write() as s:
        tree.clear(s)
        if how == "removed":  # the forger declares the removed event's number a rolled-back transaction
            s.add(AuditSkip(seq=target, noted_at="forged", reason="rolled back"))
    add(svc, 2)
    new = publish_head(svc)
    assert status(svc, whole=True).ok  # consistent with itself...
    with svc.db.read() as s:
        rebuilt = consistency(s, old, new) if new.size >= old.size else None
        again = inclusion(s, TreeHead(old.size, old.root, old.timestamp, old.key_id, old.signature),
                          [reg_id, proof["events"][-1]["event"]["subject"]], reg_id)
    # ...but not with the head the regulator holds: proofs against it and from it fail.
    assert not check_inclusion(again, KEYS).ok
    if rebuilt is not None:
        assert not check_consistency(rebuilt, KEYS, old, new).ok
        with pytest.raises(IntegrityError):
            witness.add(new.as_dict(), rebuilt)
    assert [h.size for h in Witness(tmp_path / "w.json").heads] == [old.size]


def _b64(keys: dict[str, bytes]) -> dict[str, str]:
    import base64

    return {k: base64.b64encode(v).decode() for k, v in keys.items()}


def test_witness_follows_an_honest_log(db_url: str, tmp_path: Path) -> None:
    svc = make_services(db_url)
    witness = Witness.init(tmp_path / "w.json", {"keys": _b64(KEYS)})
    add(svc, 3)
    heads = [publish_head(svc)]
    witness.add(heads[0].as_dict())
    for n in (1, 5, 8):
        add(svc, n)
        heads.append(publish_head(svc))
        with svc.db.read() as s:
            proof = consistency(s, heads[-2], heads[-1])
        assert "consistent" in witness.add(heads[-1].as_dict(), proof)
    with svc.db.read() as s:
        assert witness.check(inclusion(s, heads[2], ["s0"], "s0")).ok
        assert witness.check(consistency(s, heads[0], heads[-1])).ok
    assert [h.size for h in Witness(tmp_path / "w.json").heads] == [3, 4, 9, 17]


def _integrate_until_settled(svc: Services, seconds: float = 30.0) -> tree.Batch:
    """Batch until the tree no longer waits on a hole. The batcher waits for every writing transaction of the
    database that was open when it first saw the hole; under ``pytest -n`` other workers' tests write in other
    schemas of the same database, so a few of theirs may be open then and the tree waits until they end."""
    deadline = time.monotonic() + seconds
    while True:
        with svc.db.write() as s:
            batch = tree.integrate(s)
        if batch.waiting_for is None or time.monotonic() > deadline:
            return batch
        time.sleep(0.05)


def test_a_hole_waits_for_its_transaction_and_is_skipped_once_it_rolled_back(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite's write transactions are exclusive: no hole can be in flight")
    svc = make_services(db_url)
    add(svc, 2)
    engine = sa.create_engine(db_url)
    for outcome in ("commit", "rollback"):
        slow = engine.connect()
        slow_tx = slow.begin()
        with sa.orm.Session(bind=slow) as held:  # takes a seq and holds its transaction open
            rec = append(held, at=svc.now(), actor="slow", action="x", subject=outcome)
            held.flush()
            add(svc, 2, subject="after")  # later seqs commit first
            with svc.db.write() as s:
                batch = tree.integrate(s)
            assert batch.waiting_for == rec.seq  # the tree stops before the hole, not after it
            with svc.db.read() as s:
                assert s.execute(select(func.max(AuditLeaf.seq))).scalar_one() == rec.seq - 1
            slow_tx.commit() if outcome == "commit" else slow_tx.rollback()
        slow.close()
        batch = _integrate_until_settled(svc)
        assert batch.waiting_for is None and batch.skipped == ([] if outcome == "commit" else [rec.seq])
    engine.dispose()
    with svc.db.read() as s:
        seqs = s.execute(select(AuditLeaf.seq).order_by(AuditLeaf.idx)).scalars().all()
        assert seqs == sorted(seqs) and len(seqs) == 2 + 3 + 2  # the rolled-back seq is not a leaf
        assert s.execute(select(AuditSkip.seq)).scalars().all() == [seqs[-1] - 2]
        assert verify_chain(s).ok


def test_events_are_unlinked_and_the_legacy_chain_still_verifies(db_url: str) -> None:
    from tests.registry_support import Clock

    from realname.evaluation.synthetic import GenerationSpec, generate

    svc = make_services(db_url, clock=Clock())
    generate(svc, GenerationSpec(registrations=100, outlets=2, agents=4, plant=False, seed=1))  # linked events
    add(svc, 3)
    with svc.db.read() as s:
        assert s.execute(select(func.count()).select_from(AuditEvent).where(AuditEvent.prev_hash == UNLINKED)
                         ).scalar_one() == 3
    assert status(svc, whole=True).ok and publish_head(svc).size > 3
    with svc.db.write() as s:  # a legacy event rewritten with a recomputed hash breaks the next link
        s.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(actor="x"))
        _rehash(s, 2)
    with svc.db.read() as s:
        bad = verify_chain(s)
    assert not bad.ok and bad.problem in ("broken_link", "bad_tree")


def test_an_event_deleted_before_it_is_batched_is_refused_on_sqlite(db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("on PostgreSQL such a hole reads as a rolled-back transaction (see realname.audit.tree)")
    svc = make_services(db_url)
    add(svc, 5)
    with svc.db.write() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.seq == 3))
    with pytest.raises(IntegrityError) as refused, svc.db.write() as s:
        tree.integrate(s)
    assert refused.value.code == "audit_event_missing"
    report = status(svc)
    assert (report.ok, report.problem, report.first_bad_seq) == (False, "missing", 3)
