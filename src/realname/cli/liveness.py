"""``realname liveness``: run a recorded clip against a challenge, print the actions it shows, or evaluate a
manifest of clips (APCER / BPCER)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from realname.cli.common import err, errors_as_exit, out, progress
from realname.errors import DataSourceError

if TYPE_CHECKING:
    from realname.evaluation.liveness.evaluate import Summary

app = typer.Typer(help="Active liveness on recorded clips.", no_args_is_help=True)


@app.command("run")
def run_cmd(
    video: Annotated[Path, typer.Argument(help="a recorded clip (MP4, AVI, WebM, Y4M)")],
    challenge: Annotated[str | None, typer.Option(help="actions in order, e.g. turn_left,blink,look_up "
                                                       "(default: the actions the clip shows)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="every check with its value and limit")] = False,
) -> None:
    """Decide a clip against a challenge (no signature needed offline). Exit 0 passed, 1 failed, 2 bad input."""
    from realname.engine import build_engine
    from realname.evaluation.liveness.clips import run_clip
    from realname.liveness.challenges import parse_actions
    from realname.liveness.video import frames_in

    with errors_as_exit():
        actions = parse_actions(challenge) if challenge else None
        passes = 1 if actions is not None else 2  # without a challenge the clip is read twice (first its actions)
        with progress(video.name, passes * frames_in(video)) as advance:
            result = run_clip(video, actions, build_engine("local"), tick=advance)
    record = result.as_dict()
    if as_json:
        out.print_json(json.dumps(record))
    else:
        out.print("Live check: " + ("[bold green]PASSED[/]" if result.passed else "[bold red]FAILED[/]"))
        for line in result.advice:
            out.print(f"  - {line}")
    raise typer.Exit(0 if result.passed else 1)


@app.command("timeline")
def timeline_cmd(video: Annotated[Path, typer.Argument(help="a recorded clip")],
                 as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The actions seen in a clip over time."""
    from realname.evaluation.liveness.clips import timeline
    from realname.liveness.video import frames_in

    with errors_as_exit(), progress(video.name, frames_in(video)) as advance:
        events = timeline(video, tick=advance)
    if as_json:
        out.print_json(json.dumps([{"action": e.action.value, "start": e.start, "peak": e.peak, "end": e.end,
                                    "value": e.value} for e in events]))
        return
    table = Table(title=f"{video.name}: {len(events)} actions")
    for col in ("action", "start s", "peak s", "end s", "peak value"):
        table.add_column(col, justify="right")
    for e in events:
        table.add_row(e.action.value, f"{e.start:.2f}", f"{e.peak:.2f}", f"{e.end:.2f}", f"{e.value:.2f}")
    out.print(table)


@app.command("eval")
def eval_cmd(
    manifest: Annotated[Path, typer.Argument(help="CSV with path,label,attack_type,challenge (label: genuine, "
                                                  "attack or blink; paths relative to the manifest)")],
    out_dir: Annotated[Path, typer.Option("--out", help="where report.json and det.png go")],
    workers: Annotated[int | None, typer.Option(help="processes (default: up to 2)")] = None,
    untimed: Annotated[bool, typer.Option("--untimed", help="the clips were not recorded following the challenge's "
                                          "prompts: do not check the time allowed for each action")] = False,
) -> None:
    """APCER per attack type, BPCER and blink recall over a manifest of clips (ISO/IEC 30107-3 style)."""
    import functools

    from realname.engine import build_engine
    from realname.evaluation.liveness.evaluate import evaluate, read_manifest, write_report

    with errors_as_exit():
        if workers is not None and workers < 1:
            raise DataSourceError(f"--workers {workers}: must be at least 1")
        rows = read_manifest(manifest, untimed=untimed)
        with progress(f"{len(rows)} clips", len(rows)) as advance:
            report = evaluate(rows, functools.partial(build_engine, "local"), workers, advance)
        write_report(report, out_dir, title=manifest.name)
    _print_eval(report.summary, manifest.name)
    err.print(f"wrote {out_dir / 'report.json'}, {out_dir / 'det.png'}")


def _print_eval(s: Summary, name: str) -> None:
    table = Table(title=f"{name}: {sum(a.clips for a in s.attacks.values())} attack clips")
    for col in ("attack type", "clips", "passed", "APCER"):
        table.add_column(col, justify="right")
    for kind, a in s.attacks.items():
        table.add_row(kind, str(a.clips), str(a.passed), _pct(a.apcer))
    out.print(table)
    out.print(f"max APCER: {_pct(s.max_apcer)}" + (f" ({s.worst_attack_type})" if s.worst_attack_type else ""))
    out.print(f"BPCER: {_pct(s.bpcer)} ({s.genuine_rejected} of {s.genuine} genuine clips rejected)")
    if s.rejection_reasons:
        out.print("  genuine rejected for: " + ", ".join(f"{k} {v}" for k, v in s.rejection_reasons.items()))
    out.print(f"ACER (reference only): {_pct(s.acer)}")
    out.print(f"blink recall: {_pct(s.blink_recall)} ({s.blinks_detected} of {s.blinks} blink clips)")


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


@app.command("make-attacks")
def make_attacks_cmd(
    photos: Annotated[Path, typer.Option(help="folder of identity folders of face photos (e.g. LFW)")],
    out_dir: Annotated[Path, typer.Option("--out", help="where the clips and manifest.csv go")],
    genuine: Annotated[Path | None, typer.Option(help="a genuine clip with head moves, for identity_switch and "
                                                      "wrong_order")] = None,
    per_type: Annotated[int, typer.Option(help="clips per attack type")] = 100,
    seed: Annotated[int, typer.Option(help="same seed, same clips")] = 0,
) -> None:
    """Generate labelled attack clips (printed photo moved, two stills, identity switch, wrong order)."""
    from realname.cli.common import progress
    from realname.evaluation.liveness.attacks import ATTACK_TYPES, NEEDS_GENUINE, make_attacks

    kinds = [k for k in ATTACK_TYPES if genuine is not None or k not in NEEDS_GENUINE]
    with errors_as_exit(), progress("attack clips", per_type * len(kinds)) as advance:
        manifest = make_attacks(photos, out_dir, genuine_clip=genuine, per_type=per_type, seed=seed,
                                progress=lambda _n: advance(1))
    out.print(f"wrote {manifest}")


@app.command("make-flash")
def make_flash_cmd(
    liveness: Annotated[Path, typer.Option(help="the liveness data folder (genuine/, more/clips.csv)")],
    out_dir: Annotated[Path, typer.Option("--out", help="where the clips and the manifests go")],
    strengths: Annotated[str, typer.Option(help="light added to the face, as shares of its own brightness")]
    = "0.04,0.06,0.08,0.12,0.16",
    per_clip: Annotated[int, typer.Option(help="colour sequences per genuine clip and strength")] = 3,
    seed: Annotated[int, typer.Option(help="same seed, same clips")] = 0,
    workers: Annotated[int | None, typer.Option(help="processes (default: up to 2)")] = None,
) -> None:
    """Simulate the kiosk's screen light on recorded clips: genuine clips lit at each strength, and the attacks on
    the light check (no reflection, whole picture tinted, late, wrong sequence, screen held up)."""
    from realname.evaluation.liveness.flash import ATTACKS, make_flash_set, sources

    with errors_as_exit():
        try:
            ks = [float(x) for x in strengths.split(",") if x.strip()]
        except ValueError:
            raise DataSourceError(f"--strengths {strengths!r}: numbers separated by commas") from None
        if not ks or not all(0 < k <= 1 for k in ks) or per_clip < 1:
            raise DataSourceError("--strengths must be in (0, 1] and --per-clip at least 1")
        found = sources(liveness)
        genuine = sum(s.label == "genuine" for s in found)
        total = genuine * per_clip * len(ks) + len(found) * len(ATTACKS)
        with progress("flash clips", total) as advance:
            manifests = make_flash_set(liveness, out_dir, ks, per_clip=per_clip, seed=seed, workers=workers,
                                       progress=lambda n: advance(n))
    for m in manifests:
        out.print(f"wrote {m}")
