"""``realname bench pairs`` and ``realname calibrate``: measuring and calibrating on pair sets."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import numpy as np
import numpy.typing as npt
import typer
from rich.table import Table

from realname.cli.common import err, errors_as_exit, out, progress
from realname.errors import DataSourceError
from realname.evaluation.extract import Extracted
from realname.evaluation.pairs import PairSet

app = typer.Typer(help="Accuracy and speed measurements.", no_args_is_help=True)

STRATEGIES = ("cascade", "fusion", "sface", "dlib")


def _extract(pairs: PairSet, degrade: bool, workers: int | None) -> dict[tuple[Path, bool], Extracted]:
    from realname.engine import build_engine
    from realname.evaluation.extract import extract_all

    jobs = {(p.left, False) for p in pairs.pairs} | {(p.right, degrade) for p in pairs.pairs}
    with progress(f"templates for {len(jobs)} images", len(jobs)) as advance:
        return extract_all(functools.partial(build_engine, "local"), jobs, workers, advance)


@app.command("pairs")
def pairs_cmd(
    source: Annotated[Path, typer.Argument(help="LFW folder (with pairs.txt), identity folders, or a CSV "
                                                "with left,right,same")],
    out_dir: Annotated[Path, typer.Option("--out", help="where report.json, roc.png and det.png go")],
    identities: Annotated[Path | None, typer.Option(help="with an LFW folder: build pairs within/between "
                                                             "these identities")] = None,
    degrade: Annotated[str | None, typer.Option(help="idchip: make the second image of each pair an "
                                                        "ID-chip-like 102x126 JPEG portrait")] = None,
    engine: Annotated[str | None, typer.Option(help="one strategy (cascade, fusion, sface, dlib); "
                                                       "default all")] = None,
    thresholds: Annotated[Path | None, typer.Option(help="thresholds file (default: packaged)")] = None,
    workers: Annotated[int | None, typer.Option(help="processes (default: up to 2)")] = None,
) -> None:
    """Mean accuracy (10-fold), EER, TAR at FAR 1e-2/1e-3/1e-4, failures to acquire and latency."""
    from realname.evaluation.bench import run_report
    from realname.evaluation.pairs import load_source
    from realname.verification.thresholds import load_thresholds

    with errors_as_exit():
        if degrade not in (None, "idchip"):
            raise DataSourceError(f"--degrade {degrade!r}: the only degradation is 'idchip'")
        if engine is not None and engine not in STRATEGIES:
            raise DataSourceError(f"--engine {engine!r}: choose from {', '.join(STRATEGIES)}")
        pairs = load_source(source, identities)
        th = load_thresholds(thresholds)
        extracted = _extract(pairs, degrade == "idchip", workers)
        strategies = (engine,) if engine else STRATEGIES
        report = run_report(pairs, extracted, th, strategies, degrade == "idchip", out_dir)  # type: ignore[arg-type]
    _print_report(report)
    err.print(f"wrote {out_dir / 'report.json'}, {out_dir / 'roc.png'}, {out_dir / 'det.png'}")


def _print_report(report: dict) -> None:  # type: ignore[type-arg]
    fta, refused = report["failures_to_acquire"], report["quality_refusals"]
    title = (f"{report['source']}{' (idchip)' if report['degrade'] else ''}: {report['pairs']['genuine']} "
             f"genuine + {report['pairs']['impostor']} impostor pairs, {fta['images']} images without a face, "
             f"{refused['pairs']} pairs refused for quality ({refused['rate'] * 100:.2f}%)")
    table = Table(title=title)
    for col in ("engine", "pairs", "accuracy", "EER", "TAR@1e-2", "TAR@1e-3", "TAR@1e-4", "ms/image",
                "FMR@thr", "FNMR@thr"):
        table.add_column(col, justify="right")
    for name, r in report["strategies"].items():
        for which, f in (("all", r), ("accepted", r["accepted_pairs"])):
            t = f["tar_at_far"]
            p = f["at_packaged_threshold"]
            ms = r["median_ms_per_image"]
            table.add_row(name if which == "all" else "", which,
                          f"{f['accuracy_mean'] * 100:.2f}±{f['accuracy_std'] * 100:.2f}%",
                          f"{f['eer'] * 100:.2f}%", *(f"{t[k] * 100:.2f}%" for k in ("0.01", "0.001", "0.0001")),
                          f"{ms:.1f}" if ms and which == "all" else "",
                          f"{p['false_match_rate'] * 100:.3f}%", f"{p['false_non_match_rate'] * 100:.2f}%")
    out.print(table)


def calibrate_cmd(
    source: Annotated[Path, typer.Argument(help="LFW folder (uses pairsDevTrain.txt), identity folders, or "
                                                "a CSV with left,right,same[,group]; with a group column, "
                                                "FMR and FNMR per group go to <out>.groups.json")],
    out_file: Annotated[Path, typer.Option("--out", help="thresholds file to write")],
    fmr: Annotated[float, typer.Option(help="target false-match rate")] = 1e-4,
    sface_weight: Annotated[float, typer.Option(help="SFace's share of the fused score")] = 0.7,
    all_impostors: Annotated[bool, typer.Option(
        help="with identity-labelled images (LFW, identity folders): score every cross-identity pair of "
             "the images, not only the listed impostor pairs, so low FMRs can be measured")] = True,
    workers: Annotated[int | None, typer.Option(help="processes (default: up to 2)")] = None,
) -> None:
    """Calibrate the thresholds for a target false-match rate on your own pairs."""
    from realname.evaluation.calibrate import calibrate
    from realname.evaluation.groups import write_group_report
    from realname.evaluation.pairs import load_source
    from realname.verification.thresholds import save_thresholds

    with errors_as_exit():
        if not 0 < fmr < 1:
            raise DataSourceError(f"--fmr {fmr}: must be between 0 and 1")
        protocol = "pairsDevTrain.txt" if (source / "pairsDevTrain.txt").is_file() else "pairs.txt"
        pairs = load_source(source, None, protocol=protocol)
        extracted = _extract(pairs, False, workers)
        genuine, impostor, described = _calibration_scores(pairs, extracted, all_impostors and
                                                           pairs.protocol != "csv-10fold")
        th = calibrate(genuine, impostor, target_fmr=fmr, dataset=f"{source.name}: {pairs.name}; {described}",
                       sface_weight=sface_weight)
        out_file.parent.mkdir(parents=True, exist_ok=True)
        save_thresholds(th, out_file)
        by_group = (write_group_report(pairs, extracted, th, False, out_file.with_suffix(".groups.json"))
                    if pairs.grouped else None)
    table = Table(title=f"calibrated for FMR {fmr:g} on {th.provenance.genuine_pairs} genuine / "
                        f"{th.provenance.impostor_pairs} impostor pairs")
    for col in ("engine", "threshold", "review band", "FMR", "FNMR"):
        table.add_column(col, justify="right")
    for name, p in th.strategies.items():
        table.add_row(name, f"{p.threshold:.4f}", f"[{p.review_low:.4f}, {p.review_high:.4f})",
                      f"{p.measured_fmr:.2e}", f"{p.measured_fnmr * 100:.2f}%")
    out.print(table)
    err.print(f"wrote {out_file}")
    if by_group is not None:
        _print_groups(by_group)
        err.print(f"wrote {out_file.with_suffix('.groups.json')}")


Cosines = dict[str, npt.NDArray[np.float64]]


def _calibration_scores(pairs: PairSet, extracted: dict[tuple[Path, bool], Extracted],
                        all_impostors: bool) -> tuple[Cosines, Cosines, str]:
    """Cosines per model for genuine and impostor pairs; with ``all_impostors``, every cross-identity pair
    of the acquired images (identity = the image's folder)."""
    from realname.evaluation.bench import pair_cosines

    pc = pair_cosines(pairs, extracted, False)
    genuine = {m: v[pc.same] for m, v in pc.cos.items()}
    impostor = {m: v[~pc.same] for m, v in pc.cos.items()}
    if not all_impostors:
        return genuine, impostor, "listed pairs"
    images = sorted({k for k, e in extracted.items() if e.acquired})
    ident = np.array([p.parent.name for p, _ in images])
    iu = np.triu_indices(len(images), 1)
    cross = (ident[:, None] != ident[None, :])[iu]
    mats = {}
    for m in ("sface", "sface_tta", "dlib"):
        a = np.stack([extracted[k].templates[m].vector for k in images]).astype(np.float64)
        a /= np.linalg.norm(a, axis=1, keepdims=True)
        mats[m] = (a @ a.T)[iu][cross]
    # Failures to acquire among the listed impostor pairs stay in: they are correct rejections.
    fta = {m: impostor[m][~np.isfinite(impostor[m])] for m in impostor}
    impostor = {m: np.concatenate([mats[m], fta[m]]) for m in mats}
    return genuine, impostor, f"listed genuine pairs; impostors = all {int(cross.sum())} cross-identity pairs"


@app.command("groups")
def groups_cmd(
    source: Annotated[Path, typer.Argument(help="CSV with left,right,same,group (paths relative to the CSV)")],
    out_dir: Annotated[Path, typer.Option("--out", help="where groups.json goes")],
    thresholds: Annotated[Path | None, typer.Option(help="thresholds file (default: packaged)")] = None,
    degrade: Annotated[str | None, typer.Option(help="idchip: make the second image of each pair an "
                                                        "ID-chip-like 102x126 JPEG portrait")] = None,
    workers: Annotated[int | None, typer.Option(help="processes (default: up to 2)")] = None,
) -> None:
    """FMR and FNMR per group at a thresholds file's operating points, and the worst/best group ratio."""
    from realname.evaluation.groups import write_group_report
    from realname.evaluation.pairs import load_csv
    from realname.verification.thresholds import load_thresholds

    with errors_as_exit():
        if degrade not in (None, "idchip"):
            raise DataSourceError(f"--degrade {degrade!r}: the only degradation is 'idchip'")
        if not source.is_file():
            raise DataSourceError(f"{source}: not a file; per-group rates need a CSV with a group column")
        pairs = load_csv(source)
        if not pairs.grouped:
            raise DataSourceError(f"{source}: no group column; expected left,right,same,group")
        th = load_thresholds(thresholds)
        extracted = _extract(pairs, degrade == "idchip", workers)
        by_group = write_group_report(pairs, extracted, th, degrade == "idchip", out_dir / "groups.json")
    _print_groups(by_group)
    err.print(f"wrote {out_dir / 'groups.json'}")


def _print_groups(report: dict, strategy: str = "cascade") -> None:  # type: ignore[type-arg]
    from realname.evaluation.groups import rate_cell

    r = report["strategies"][strategy]
    table = Table(title=f"{report['source']}{' (idchip)' if report['degrade'] else ''}: {strategy} per group at "
                        f"threshold {r['threshold']:.4f}, 95% intervals")
    for col in ("group", "FMR [95% CI] (false matches/impostor pairs)",
                "FNMR [95% CI] (false non-matches/genuine pairs)"):
        table.add_column(col, justify="right")
    for g, v in r["groups"].items():
        table.add_row(g, rate_cell(v["fmr"]), rate_cell(v["fnmr"]))
    out.print(table)
    for kind in ("fmr", "fnmr"):
        d = r["differential"][kind]
        out.print(f"{kind.upper()} worst/best group: {d['text'] if d else 'n/a (fewer than two groups with pairs)'}",
                  highlight=False)
