"""Reports and signals over a generated registry of 100,000 registrations (50 outlets, 500 agents), on SQLite
and on PostgreSQL: generation time, a one-month report (JSON, CSV and PDF, including the audit chain's
verification), a year of signals. Writes report.json under --out.

PostgreSQL: REALNAME_BENCH_PG (default the local test server); a fresh schema is created and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from realname.config import Settings
from realname.context import SYSTEM, Services
from realname.evaluation.synthetic import GenerationSpec, generate
from realname.privacy.keyring import Keyring
from realname.registry.db import Database
from realname.registry.migrate import upgrade
from realname.supervision import report_files
from realname.supervision.period import Period
from realname.supervision.reports import build_report
from realname.supervision.signals import find_signals

PG = os.environ.get("REALNAME_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def timed(fn: Any, *args: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def run(url: str, n: int) -> dict[str, Any]:
    upgrade(url)
    svc = Services(Settings(database_url=url), db=Database(url), keyring=Keyring.generate("kbench"))
    _, gen = timed(generate, svc, GenerationSpec(registrations=n, plant=True))
    month = Period(date(2026, 3, 1), date(2026, 3, 31))
    result: dict[str, Any] = {"registrations": n, "generate_s": round(gen, 1)}
    report, secs = timed(build_report, svc, SYSTEM, month)
    result["report_month_json_s"] = round(secs + timed(report_files.to_json, report)[1], 2)
    result["report_month_csv_s"] = round(timed(build_report, svc, SYSTEM, month)[1]
                                         + timed(report_files.to_csv, report)[1], 2)
    result["report_month_pdf_s"] = round(timed(build_report, svc, SYSTEM, month)[1]
                                         + timed(report_files.to_pdf, report)[1], 2)
    result["month_registrations"] = report.summary.totals.registrations
    result["audit_events"] = report.chain["events"]
    found, secs = timed(find_signals, svc, SYSTEM, Period(date(2026, 1, 1), date(2026, 12, 31)))
    result["signals_year_s"] = round(secs, 2)
    result["signals"] = sorted(s.kind for s in found)
    svc.db.dispose()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, help="unused (the data set is generated)")
    ap.add_argument("--out", type=Path, default=Path("bench-out/supervision"))
    ap.add_argument("--registrations", type=int, default=100_000)
    args = ap.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = run(f"sqlite:///{tmp}/bench.db", args.registrations)
        print("sqlite", results["sqlite"], flush=True)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG)
    try:
        with admin.begin() as c:
            c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    except sa.exc.OperationalError as exc:
        print(f"skip postgresql: {exc.orig}", flush=True)
    else:
        try:
            results["postgresql"] = run(f"{PG}?options=-csearch_path%3D{schema}", args.registrations)
            print("postgresql", results["postgresql"], flush=True)
        finally:
            with admin.begin() as c:
                c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
