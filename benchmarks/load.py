"""`make load`: the service under load on PostgreSQL, with 1, 2 and 4 uvicorn workers, then a SIGKILL mid-run.

For each worker count: a fresh PostgreSQL schema (migrated, demo data, a large number stock), `realname serve
--workers N` in test mode (fixed live check: no face is computed, so this measures the service and the database,
not the face engine), and Locust headless for --seconds with kiosks doing the whole flow and inspectors reading
(benchmarks/locustfile.py). Afterwards every committed event must be in the log (a tree head is published) and the
full walk must pass. The SIGKILL run kills the whole server (master and workers) mid-run, restarts it, and checks
that every registration a kiosk was told about exists, that none of the events is missing from the log and that
the log verifies. Writes load.json and prints the table for the README.

PostgreSQL: REALNAME_BENCH_PG (default the local test server).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
PG = os.environ.get("REALNAME_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ROUTES = ("POST /v1/verifications", "POST /v1/verifications/[id]/start", "POST /v1/verifications/[id]/capture",
          "POST /v1/registrations", "GET /v1/audit/head", "GET /v1/audit/proof/[id]", "GET /v1/inspect/summary")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Setup:
    def __init__(self, tmp: Path) -> None:
        self.schema = f"load_{uuid.uuid4().hex[:10]}"
        self.url = f"{PG}?options=-csearch_path%3D{self.schema}"
        self.tmp = tmp
        self.env = {**os.environ, "REALNAME_DATABASE_URL": self.url, "REALNAME_KEYRING_FILE": str(tmp / "keys.json"),
                    "REALNAME_TEST_MODE": "1", "REALNAME_FIXED_LIVE_CHECK": "pass", "REALNAME_LIGHT_CHECK": "0",
                    "REALNAME_LOG_HEAD_SECONDS": "10", "REALNAME_ENGINE": "fake"}
        self.env.pop("REALNAME_KEYRING", None)
        admin = sa.create_engine(PG)
        with admin.begin() as c:
            c.execute(sa.text(f"CREATE SCHEMA {self.schema}"))
        admin.dispose()
        self.cli("db", "upgrade")
        self.cli("keys", "init")
        self.cli("demo")
        numbers = tmp / "numbers.csv"
        numbers.write_text("msisdn\n" + "".join(f"+86{19_900_000_000 + i}\n" for i in range(60_000)))
        self.cli("numbers", "import", "DEMO", str(numbers))

    def cli(self, *args: str, check: bool = True) -> str:
        r = subprocess.run([str(BIN / "realname"), *args], env=self.env, capture_output=True, text=True)
        if check and r.returncode != 0:
            raise SystemExit(f"realname {' '.join(args)} failed: {r.stdout}{r.stderr}")
        return r.stdout

    def drop(self) -> None:
        admin = sa.create_engine(PG)
        with admin.begin() as c:
            c.execute(sa.text(f"DROP SCHEMA {self.schema} CASCADE"))
        admin.dispose()


def start(setup: Setup, workers: int, log: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    proc = subprocess.Popen([str(BIN / "realname"), "serve", "--workers", str(workers), "--port", str(port)],
                            env=setup.env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return url, proc
        except httpx.HTTPError:
            time.sleep(0.3)
    raise SystemExit("server did not start")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def locust(url: str, users: int, seconds: int, prefix: Path, ids: Path) -> subprocess.Popen[bytes]:
    cmd = [str(BIN / "locust"), "-f", str(HERE / "locustfile.py"), "--headless", "-u", str(users), "-r",
           str(max(1, users // 2)), "-t", f"{seconds}s", "--host", url, "--csv", str(prefix), "--only-summary"]
    return subprocess.Popen(cmd, env={**os.environ, "LOAD_IDS_FILE": str(ids)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def stats(prefix: Path, seconds: float) -> dict[str, Any]:
    with Path(f"{prefix}_stats.csv").open() as fh:
        rows = {r["Name"]: r for r in csv.DictReader(fh)}
    out: dict[str, Any] = {"routes": {}}
    for name in ROUTES:
        r = rows.get(name)
        if r is None:
            continue
        out["routes"][name] = {"requests": int(r["Request Count"]), "failures": int(r["Failure Count"]),
                               "p50_ms": float(r["50%"]), "p99_ms": float(r["99%"]),
                               "per_s": round(int(r["Request Count"]) / seconds, 2)}
    agg = rows["Aggregated"]
    out["requests"], out["failures"] = int(agg["Request Count"]), int(agg["Failure Count"])
    out["registrations_per_s"] = round(out["routes"].get("POST /v1/registrations", {}).get("requests", 0)
                                       / seconds, 2)
    return out


def log_check(setup: Setup, ids_file: Path) -> dict[str, Any]:
    """Every registration a kiosk was told about exists; every committed event is a leaf; the full walk passes."""
    head = json.loads(setup.cli("audit", "publish-head"))
    verify = subprocess.run([str(BIN / "realname"), "audit", "verify", "--full", "--json"], env=setup.env,
                            capture_output=True, text=True)
    report = json.loads(verify.stdout)
    told = set(ids_file.read_text().split()) if ids_file.exists() else set()
    engine = sa.create_engine(setup.url)
    with engine.connect() as c:
        events = c.execute(sa.text("SELECT count(*) FROM audit_events")).scalar_one()
        leaves = c.execute(sa.text("SELECT count(*) FROM audit_leaves")).scalar_one()
        skips = c.execute(sa.text("SELECT count(*) FROM audit_skips")).scalar_one()
        regs = set(c.execute(sa.text("SELECT id FROM registrations")).scalars())
        assigned = set(c.execute(sa.text("SELECT subject FROM audit_events WHERE action = 'number_assigned'"))
                       .scalars())
    engine.dispose()
    return {"tree_size": head["size"], "events": events, "leaves": leaves, "skipped_seqs": skips,
            "lost_events": events - leaves, "registrations": len(regs), "told_registrations": len(told),
            "lost_registrations": len(told - regs), "registrations_without_event": len(regs - assigned),
            "log_verifies": bool(report["ok"]), "verify_detail": report["detail"]}


def run(workers: int, users: int, seconds: int, out: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as t:
        setup = Setup(Path(t))
        try:
            url, proc = start(setup, workers, out / f"serve-{workers}.log")
            ids = Path(t) / "ids.txt"
            t0 = time.monotonic()
            locust(url, users, seconds, out / f"w{workers}", ids).wait()
            elapsed = time.monotonic() - t0
            stop(proc)
            result = {"workers": workers, "users": users, "seconds": round(elapsed, 1),
                      **stats(out / f"w{workers}", elapsed), "log": log_check(setup, ids)}
        finally:
            setup.drop()
    return result


def kill_run(workers: int, users: int, seconds: int, out: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as t:
        setup = Setup(Path(t))
        try:
            log = out / "serve-kill.log"
            url, proc = start(setup, workers, log)
            port = url.rsplit(":", 1)[1]
            ids = Path(t) / "ids.txt"
            load = locust(url, users, seconds, out / "kill", ids)
            time.sleep(seconds / 3)
            stop(proc, signal.SIGKILL)  # master and workers, mid-request
            killed_at = time.monotonic()
            setup.env["REALNAME_PORT"] = port
            proc2 = subprocess.Popen([str(BIN / "realname"), "serve", "--workers", str(workers), "--port", port],
                                     env=setup.env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
            while True:
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            down = time.monotonic() - killed_at
            load.wait()
            stop(proc2)
            result = {"workers": workers, "down_seconds": round(down, 1), **stats(out / "kill", seconds),
                      "log": log_check(setup, ids)}
        finally:
            setup.drop()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=HERE.parent / "bench-out" / "load")
    ap.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4])
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--no-kill", action="store_true")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"runs": []}
    for n in args.workers:
        r = run(n, args.users, args.seconds, args.out)
        results["runs"].append(r)
        print(json.dumps({k: r[k] for k in ("workers", "registrations_per_s", "requests", "failures")} |
                         {"lost": r["log"]["lost_events"], "verifies": r["log"]["log_verifies"]}), flush=True)
    if not args.no_kill:
        results["sigkill"] = kill_run(2, args.users, args.seconds, args.out)
        print(json.dumps(results["sigkill"]["log"]), flush=True)
    (args.out / "load.json").write_text(json.dumps(results, indent=2))
    print("\n| workers | registrations/s | " + " | ".join(f"{r} p50/p99 ms" for r in ROUTES) + " | errors |")
    for r in results["runs"]:
        cells = [f"{r['routes'][x]['p50_ms']:.0f}/{r['routes'][x]['p99_ms']:.0f}" if x in r["routes"] else "-"
                 for x in ROUTES]
        print(f"| {r['workers']} | {r['registrations_per_s']} | " + " | ".join(cells) + f" | {r['failures']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
