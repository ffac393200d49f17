"""Supervision from the command line: reports, evidence samples, fraud signals, compliance evidence, and the
seeded synthetic data set they are tested and benchmarked on. Thin wrappers over :mod:`realname.services`, run as
the ``SYSTEM`` actor (the server's own command line); every report is recorded in the audit chain."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from realname.cli.common import out, progress
from realname.cli.registry import JsonOpt, _json, _registry_errors, _say, _services

if TYPE_CHECKING:
    from realname.supervision.period import Period

FromOpt = Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD (default: 30 days ago)")]
ToOpt = Annotated[str | None, typer.Option("--to", help="last day, YYYY-MM-DD, inclusive (default: today)")]
OperatorOpt = Annotated[str | None, typer.Option("--operator", help="operator code")]
OutletOpt = Annotated[str | None, typer.Option("--outlet", help="outlet code")]
AgentOpt = Annotated[str | None, typer.Option("--agent", help="agent's username")]


def register(app: typer.Typer) -> None:
    app.command("report")(report_cmd)
    app.command("sample")(sample_cmd)
    app.command("signals")(signals_cmd)
    app.command("compliance")(compliance_cmd)
    app.command("generate")(generate_cmd)


def _period(start: str | None, end: str | None) -> Period:
    """The same days and defaults as the API: strict YYYY-MM-DD in range, by default the last 30 days."""
    from realname.supervision.inspection import period
    from realname.supervision.period import parse_day

    return period(_services(), parse_day(start, "--from") if start else None, parse_day(end, "--to") if end else None)


def report_cmd(
    start: FromOpt = None, end: ToOpt = None, operator: OperatorOpt = None, outlet: OutletOpt = None,
    agent: AgentOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="csv, json or pdf")] = "json",
    output: Annotated[Path | None, typer.Option("--out", help="file to write (default: standard output)")] = None,
) -> None:
    """Registrations, verification outcomes by reason, reviews, cap refusals, cancellations, re-verifications and
    suspensions, per outlet and agent, with the audit chain's status. The report is itself audited."""
    from realname.context import SYSTEM
    from realname.supervision import report_files
    from realname.supervision.reports import Scope, build_report

    if fmt not in ("csv", "json", "pdf"):
        raise typer.BadParameter("csv, json or pdf", param_hint="--format")
    with _registry_errors():
        report = build_report(_services(), SYSTEM, _period(start, end), Scope(operator, outlet, agent))
        data = {"csv": report_files.to_csv, "json": report_files.to_json, "pdf": report_files.to_pdf}[fmt](report)
    if output is not None:
        output.write_bytes(data)
        chain = "intact" if report.chain["ok"] else "BROKEN"
        _say(f"Wrote {output} ({len(data):,} bytes): {report.summary.totals.registrations} registrations, "
             f"audit chain {chain}; recorded as audit event {report.audit_event['seq']}")
    elif fmt == "pdf":
        sys.stdout.buffer.write(data)
    else:
        sys.stdout.write(data.decode("utf-8"))


def sample_cmd(
    start: FromOpt = None, end: ToOpt = None, operator: OperatorOpt = None, outlet: OutletOpt = None,
    agent: AgentOpt = None,
    size: Annotated[int, typer.Option("--size", help="registrations to draw")] = 20,
    seed: Annotated[int, typer.Option("--seed", help="the same seed draws the same sample")] = 1,
) -> None:
    """A reproducible random sample of registrations with their evidence (JSON lines), no biometric data."""
    from realname.context import SYSTEM
    from realname.supervision.reports import Scope, sample

    with _registry_errors():
        rows = sample(_services(), SYSTEM, _period(start, end), size, seed,
                      Scope(operator, outlet, agent))
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


def signals_cmd(
    start: FromOpt = None, end: ToOpt = None, operator: OperatorOpt = None,
    reverify: Annotated[bool, typer.Option("--reverify", help="open re-verification orders for the numbers "
                                                               "concerned")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Fraud signals with the evidence behind each. Exit 0 when there are none, 1 when there are."""
    from realname.cli.registry import _operator_id
    from realname.context import SYSTEM
    from realname.supervision.signals import find_signals, reverify_for

    with _registry_errors():
        svc = _services()
        op = _operator_id(svc, operator) if operator else None
        found = find_signals(svc, SYSTEM, _period(start, end), op)
        orders = {i: reverify_for(svc, SYSTEM, sig) for i, sig in enumerate(found)} if reverify else {}
    if as_json:
        _json([{"kind": s.kind, "subject": s.subject, "summary": s.summary, "evidence": s.evidence,
                "registrations": s.registrations, "orders": orders.get(i, [])} for i, s in enumerate(found)])
    else:
        if not found:
            _say("No signals in the period.")
        for i, s in enumerate(found):
            _say(f"[{s.kind}] {s.subject}: {s.summary} ({len(s.registrations)} numbers)")
            if i in orders:
                _say(f"    {len(orders[i])} re-verification orders opened")
    raise typer.Exit(1 if found else 0)


def compliance_cmd(as_json: JsonOpt = False) -> None:
    """Face data against the filing threshold, retention runs, key age, audit chain, consent coverage, settings.
    Exit 0 when nothing needs attention, 1 otherwise."""
    from realname.context import SYSTEM
    from realname.supervision.compliance import compliance

    with _registry_errors():
        report = compliance(_services(), SYSTEM)
    d = report.as_dict()
    if as_json:
        _json({**d, "problems": report.problems})
    else:
        f, r, k, c, n = d["face_data"], d["retention"], d["keys"], d["audit_chain"], d["consent"]
        _say(f"Face data stored for {f['people']} people (filing required at {f['filing_threshold']}); template "
             f"retention {'on' if f['retention_enabled'] else 'off'}")
        _say(f"Retention: sessions {r['verification_sessions_days']} days, registrations "
             f"{r['registrations_years_after_service']} years after service; last purge {r['last_run'] or 'never'}")
        for run in r["runs"]:
            _say(f"    purge #{run['seq']} at {run['at'][:19]}: {run['deleted']}")
        _say(f"Keys: active {k['active']} ({k['keys']} in the keyring), last rotation {k['last_rotation'] or 'never'}, "
             f"age {k['age_days'] if k['age_days'] is not None else 'unknown'} days")
        _say(f"Audit chain: {'intact' if c['ok'] else 'BROKEN: ' + c['detail']} ({c['events']} events)")
        _say(f"Consent: {n['coverage']:.1%} of {n['verifications']} verifications; templates without consent: "
             f"{n['templates_without_consent']}")
        s = d["settings"]
        _say(f"Settings: caps {s['caps_per_person']}, total cap {s['cap_total']}, {s['challenge_actions']} actions per "
             f"challenge, engine {s['engine']}, thresholds {s['thresholds_file']} "
             f"(FMR {s['thresholds_provenance']['target_fmr']}, {s['thresholds_provenance']['dataset'][:60]})")
        light = s["light_check"]
        _say("Screen-light check: " + (", ".join(f"{code} {'on' if on else 'OFF'}" for code, on in light.items())
                                      or "no operators"))
        for problem in report.problems:
            out.print(f"[yellow]attention[/]: {problem}", highlight=False)
    raise typer.Exit(1 if report.problems else 0)


def generate_cmd(
    registrations: Annotated[int, typer.Option(help="how many registrations")] = 100_000,
    outlets: Annotated[int, typer.Option(help="outlets")] = 50,
    agents: Annotated[int, typer.Option(help="agents, spread over the outlets")] = 500,
    start: Annotated[str, typer.Option("--start", help="first day")] = "2026-01-01",
    days: Annotated[int, typer.Option(help="days covered")] = 365,
    seed: Annotated[int, typer.Option(help="the same seed gives the same data")] = 1,
    plant: Annotated[bool, typer.Option("--plant", help="add known fraud patterns")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Fill an empty registry with a seeded synthetic data set (for tests, benchmarks and demonstrations)."""
    import dataclasses
    import time

    from realname.evaluation.synthetic import GenerationSpec, generate
    from realname.registry.migrate import upgrade

    kind: Literal["plant", "clean"] = "plant" if plant else "clean"
    with _registry_errors():
        svc = _services()
        upgrade(svc.settings.database_url)
        t0 = time.perf_counter()
        spec = GenerationSpec(registrations=registrations, outlets=outlets, agents=agents,
                              start=date.fromisoformat(start), days=days, seed=seed, plant=plant)
        with progress(f"{registrations:,} registrations", 2 * registrations) as advance:
            planted = generate(svc, spec, progress=advance)
    if as_json:
        _json({"registrations": registrations, "seed": seed, "data": kind, "planted": dataclasses.asdict(planted),
               "seconds": round(time.perf_counter() - t0, 1)})
    else:
        _say(f"Generated {registrations:,} registrations ({kind}, seed {seed}) in {time.perf_counter() - t0:.1f} s")
        if plant:
            for k, v in dataclasses.asdict(planted).items():
                _say(f"    planted {k}: {v}")
