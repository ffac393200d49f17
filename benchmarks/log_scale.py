"""`make log-scale`: the transparency log at scale, on PostgreSQL. Writes log_scale.json and prints README tables.

1. Appends: events/s with 1, 2, 4 and 8 concurrent writers, each transaction holding 5 ms of other work after its
   append (as a registration's transaction does), with the sequence (now) and with the old single audit_head row
   lock (``SELECT ... FOR UPDATE`` in every transaction, emulated), so the serialisation shows.
2. Tree heads: the time to integrate a batch of 1,000 events and sign a head; the signature alone.
3. Size ladder (default 100k, 1M, 10M events, grown in one schema): events generated with precomputed hashes
   and their tree, written by COPY; then, at each size, with the verified prefix at the generated end: 500 new
   events through the normal append, and the time of the incremental check (what a report runs) and of a whole
   one-month report; an inclusion and a consistency proof (build from the database, JSON size, offline check).

PostgreSQL: REALNAME_BENCH_PG (default the local test server); a fresh schema, dropped at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from realname.audit import merkle, tree
from realname.audit.chain import UNLINKED
from realname.audit.log import append
from realname.audit.proofs import check_consistency, check_inclusion, consistency, inclusion
from realname.audit.tree_heads import public_keys, sign
from realname.config import Settings
from realname.context import SYSTEM, Services
from realname.operators.demo import seed_demo
from realname.privacy.keyring import Keyring
from realname.registry.db import Database
from realname.registry.migrate import upgrade
from realname.registry.tables import AuditTreeHead
from realname.supervision.period import Period
from realname.supervision.reports import build_report
from realname.supervision.transparency import publish_head, status

PG = os.environ.get("REALNAME_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
HERE = Path(__file__).resolve().parent
CHUNK = 200_000


def canonical_hash(seq: int, at: str, subject: str, payload_text: str) -> str:
    """The event hash of :func:`realname.audit.chain.event_hash` for the generated events' fixed shape, spelled
    out (sorted keys) so ten million of them are not ten million json.dumps calls."""
    doc = (f'{{"action":"generated","actor":"bench","at":"{at}","payload":{payload_text},"prev_hash":"",'
           f'"seq":{seq},"subject":"{subject}"}}')
    return hashlib.sha256(doc.encode()).hexdigest()


def grow(db: Database, keyring: Keyring, count: int, progress: bool = True) -> float:
    """Append ``count`` generated events after the current end, with their leaves and tree nodes, by COPY; the
    verified prefix is moved to the new end (as if checked at the last head) and a head is signed there."""
    t0 = time.perf_counter()
    with db.write() as s:
        st = tree.state(s, lock=True)
        start = int(s.execute(sa.text("SELECT coalesce(max(seq), 0) FROM audit_events")).scalar_one()) + 1
        if st.next_seq != start:
            raise SystemExit("grow() needs every event in the tree first")
        compact = tree.frontier_of(st.frontier, st.size)
        raw = s.connection().connection.driver_connection
        assert raw is not None
        base = datetime(2020, 1, 1, tzinfo=UTC)
        with raw.cursor() as cur:
            for lo in range(0, count, CHUNK):
                events, leaves, nodes = [], [], []
                for seq in range(start + lo, start + min(count, lo + CHUNK)):
                    at = (base + timedelta(seconds=seq * 10)).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
                    subject, payload = f"g{seq % 100_000}", f'{{"n":{seq}}}'
                    digest = canonical_hash(seq, at, subject, payload)
                    events.append((seq, at, "bench", "generated", subject, payload, UNLINKED, digest))
                    leaves.append((compact.size, seq))
                    nodes.extend(compact.append(merkle.leaf_hash(bytes.fromhex(digest))))
                for sql, rows in (("COPY audit_events (seq, at, actor, action, subject, payload, prev_hash, hash) "
                                   "FROM STDIN", events), ("COPY audit_leaves (idx, seq) FROM STDIN", leaves),
                                  ("COPY audit_tree_nodes (level, idx, hash) FROM STDIN", nodes)):
                    with cur.copy(sql) as cp:
                        for row in rows:
                            cp.write_row(row)
                if progress and lo and lo % 1_000_000 == 0:
                    print(f"  generated {lo:,}", file=sys.stderr, flush=True)
        st.size, st.next_seq, st.frontier = compact.size, start + count, tree.frontier_text(compact)
        st.verified_size, st.verified_seq, st.verified_frontier = compact.size, start + count - 1, st.frontier
        st.chain_hash = UNLINKED
        s.execute(sa.text(f"SELECT setval('audit_events_seq', {start + count - 1})"))
        head = sign(keyring, compact.size, compact.root(), int(time.time() * 1000))
        s.add(AuditTreeHead(size=head.size, root=head.root.hex(), timestamp=head.timestamp,
                                 key_id=head.key_id, signature=head.as_dict()["signature"]))
    with db.engine.begin() as c:
        c.execute(sa.text("ANALYZE audit_events; ANALYZE audit_leaves; ANALYZE audit_tree_nodes"))
    return time.perf_counter() - t0


def appends(url: str, keyring: Keyring, writers: int, per_writer: int, legacy: bool) -> float:
    svc = Services(Settings(database_url=url, test_mode=True), keyring=keyring)
    barrier = threading.Barrier(writers)

    def work(w: int) -> None:
        barrier.wait()
        for i in range(per_writer):
            with svc.db.write() as s:
                if legacy:  # the old design: every append locks the one audit_head row
                    s.execute(sa.text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"))
                append(s, at=datetime.now(UTC), actor="bench", action="append", subject=f"w{w}", payload={"i": i})
                time.sleep(0.005)  # the rest of the registration's transaction
    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - t0
    svc.db.dispose()
    return writers * per_writer / took


def timed(fn: Any, *args: Any, **kw: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0


def at_size(svc: Services, keys: dict[str, bytes]) -> dict[str, Any]:
    with svc.db.write() as s:
        for i in range(500):  # what happened since the last verified head
            append(s, at=svc.now(), actor="bench", action="new", subject=f"new{i % 7}", payload={"i": i})
    report_check, t_check = timed(status, svc)
    assert report_check.ok, report_check.detail
    with svc.db.write() as s:
        for i in range(500):
            append(s, at=svc.now(), actor="bench", action="new", subject=f"new{i % 7}", payload={"i": i})
    today = svc.now().date()
    _, t_report = timed(build_report, svc, SYSTEM, Period(today.replace(day=1), today))
    head, t_publish = timed(publish_head, svc)
    with svc.db.read() as s:
        old = tree.heads_between(s, 0, head.size - 1)[-1]
        doc, t_prove = timed(inclusion, s, head, ["new3"], "new3")
        cons, t_cons = timed(consistency, s, old, head)
    checked, t_offline = timed(check_inclusion, json.loads(json.dumps(doc)), keys)
    cchecked, t_coffline = timed(check_consistency, json.loads(json.dumps(cons)), keys)
    assert checked.ok and cchecked.ok
    one = {**doc, "events": doc["events"][:1]}
    return {"events": head.size, "incremental_check_s": round(t_check, 3), "report_s": round(t_report, 3),
            "publish_head_s": round(t_publish, 3),
            "inclusion_proof": {"hashes": len(doc["events"][0]["path"]), "json_bytes_one_event": len(json.dumps(one)),
                                "build_ms_per_event": round(1000 * t_prove / len(doc["events"]), 2),
                                "check_offline_ms_per_event": round(1000 * t_offline / len(doc["events"]), 3)},
            "consistency_proof": {"from": old.size, "hashes": len(cons["path"]), "json_bytes": len(json.dumps(cons)),
                                  "build_ms": round(1000 * t_cons, 2), "check_offline_ms": round(1000 * t_coffline, 3)}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=HERE.parent / "bench-out" / "log-scale")
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000, 10_000_000])
    ap.add_argument("--writers", type=int, nargs="*", default=[1, 2, 4, 8])
    ap.add_argument("--per-writer", type=int, default=150)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    schema = f"scale_{uuid.uuid4().hex[:10]}"
    url = f"{PG}?options=-csearch_path%3D{schema}"
    admin = sa.create_engine(PG)
    with admin.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    results: dict[str, Any] = {"appends": [], "sizes": []}
    try:
        upgrade(url)
        keyring = Keyring.generate()
        keys = public_keys(keyring)
        with sa.create_engine(url).begin() as c:
            c.execute(sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :g)"), {"g": "0" * 64})
        for n in args.writers:
            row = {"writers": n, "events_per_s": round(appends(url, keyring, n, args.per_writer, False), 1),
                   "events_per_s_audit_head_lock": round(appends(url, keyring, n, args.per_writer, True), 1)}
            results["appends"].append(row)
            print(json.dumps(row), flush=True)
        svc = Services(Settings(database_url=url, test_mode=True, timezone="UTC"), keyring=keyring)
        seed_demo(svc, numbers=10)
        tree.catch_up(svc.db.write)
        with svc.db.write() as s:
            for i in range(1000):
                append(s, at=svc.now(), actor="bench", action="batch", subject="b", payload={"i": i})
        _, t_batch = timed(tree.catch_up, svc.db.write)
        with svc.db.read() as s:
            st = tree.state(s)
            root = tree.frontier_of(st.frontier, st.size).root()
        _, t_sign = timed(sign, keyring, st.size, root, 0)
        results["tree_heads"] = {"integrate_1000_events_s": round(t_batch, 3), "sign_ms": round(1000 * t_sign, 3)}
        _, t_publish = timed(publish_head, svc)
        results["tree_heads"]["publish_head_s"] = round(t_publish, 3)
        print(json.dumps(results["tree_heads"]), flush=True)
        done = st.size
        for target in args.sizes:
            status(svc)  # the prefix at the current end
            took = grow(svc.db, keyring, max(0, target - done))
            row = {"generated_s": round(took, 1), **at_size(svc, keys)}
            done = row["events"]
            results["sizes"].append(row)
            print(json.dumps(row), flush=True)
            (args.out / "log_scale.json").write_text(json.dumps(results, indent=2))
        svc.db.dispose()
    finally:
        with admin.begin() as c:
            c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    (args.out / "log_scale.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
