"""Presentation-attack evaluation in the style of ISO/IEC 30107-3, from a manifest of recorded clips.

A manifest is a CSV with the columns ``path,label,attack_type,challenge[,flash]``:

* ``path``: the clip, relative to the manifest's folder (or absolute);
* ``label``: ``genuine`` (a bona-fide presentation), ``attack`` (a presentation attack) or ``blink``
  (a clip holding exactly one blink and nothing else, such as the EyeBlink8 cuts);
* ``attack_type``: free text naming the attack instrument, required for attack rows and only for them;
* ``challenge``: the actions to check, ``;``-separated; empty = the actions the clip shows;
* ``flash`` (optional): the screen-light sequence the kiosk showed, ``START-END:RRGGBB`` items separated by ``;``,
  in seconds from the clip's start. A row with a flash is judged with the light check on; with an empty
  ``challenge`` it is judged on the light check alone (no actions), so its error rates are the light check's.

Genuine and attack clips run through the same live check as the service. A clip the check cannot even
evaluate (unreadable, no action to check against) is counted as *not passed*: for an attack that is a
refused attack, never a pass; for a genuine clip it is a bona-fide rejection. Blink rows measure blink
recall of the action detector only; they take no part in the liveness error rates.

Reported: APCER per attack type and its maximum over types, BPCER, ACER (for reference only; 30107-3
deprecates it), blink recall, and a DET plot of APCER against BPCER as a threshold on the liveness score
(the smallest check margin) varies.
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt

from realname.engine.base import FaceEngine
from realname.errors import BadInputError, ChallengeError, DataSourceError
from realname.evaluation import metrics
from realname.evaluation.liveness.clips import run_clip, timeline
from realname.liveness.challenges import Action, parse_actions
from realname.liveness.light import Flash, Shown
from realname.liveness.session import LivenessLimits
from realname.workers import EngineFactory, map_with_engine

Label = Literal["genuine", "attack", "blink"]
LABELS: tuple[Label, ...] = ("genuine", "attack", "blink")
MANIFEST_COLUMNS = ("path", "label", "attack_type", "challenge", "flash")
REQUIRED = ("path", "label")
ALL_ATTACKS = "all attacks"


@dataclass(frozen=True)
class Row:
    path: Path
    label: Label
    attack_type: str | None = None
    challenge: tuple[Action, ...] | None = None  # None: the actions the clip shows
    line: int = 0  # in the manifest, for messages
    flash: Shown | None = None  # the screen-light sequence shown, on the clip's time
    untimed: bool = False  # recorded without the challenge's prompts: the time allowed per action is not checked


@dataclass(frozen=True)
class ClipRecord:
    path: str
    label: Label
    attack_type: str | None
    passed: bool  # blink rows: a blink was detected
    score: float | None  # liveness score; None when the clip could not be evaluated (or a blink row)
    reasons: tuple[str, ...] = ()
    seconds: float = 0.0


# --- manifest --------------------------------------------------------------------------------------------

def read_manifest(path: str | Path, *, untimed: bool = False) -> list[Row]:
    """The manifest's rows, validated; any problem is a DataSourceError naming the file, row and column.
    ``untimed``: the clips were not recorded following prompts, so each action's time window is not checked."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")  # -sig: spreadsheets often save a byte-order mark
    except FileNotFoundError:
        raise DataSourceError(f"{p}: no such manifest", code="file_not_found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataSourceError(f"{p}: cannot read the manifest ({exc})") from None
    reader = csv.DictReader(text.splitlines())
    header = [c.strip() for c in reader.fieldnames or []]
    _check_header(p, header)
    reader.fieldnames = header
    rows = [replace(_parse_row(p, reader.line_num, n, raw), untimed=untimed) for n, raw in enumerate(reader, start=1)]
    if not rows:
        raise DataSourceError(f"{p}: the manifest lists no clips")
    return rows


def _check_header(path: Path, header: list[str]) -> None:
    if not header:
        raise DataSourceError(f"{path}: empty manifest; expected the header {','.join(MANIFEST_COLUMNS)}")
    for col in REQUIRED:
        if col not in header:
            raise DataSourceError(f"{path}, header: column {col!r} is missing (columns: {','.join(MANIFEST_COLUMNS)})")
    # Unknown columns are refused rather than ignored: a misspelt "challenge" would silently drop challenges.
    unknown = [c for c in header if c not in MANIFEST_COLUMNS]
    if unknown:
        raise DataSourceError(f"{path}, header: unknown column(s) {', '.join(map(repr, unknown))} "
                              f"(columns: {','.join(MANIFEST_COLUMNS)})")


def _parse_row(manifest: Path, line: int, n: int, raw: dict[str | Any, str | Any]) -> Row:
    def bad(col: str, problem: str) -> DataSourceError:
        return DataSourceError(f"{manifest}, row {n} (line {line}), column {col!r}: {problem}")

    if None in raw:  # DictReader files surplus fields under the key None
        raise bad("challenge", "more fields than columns (quote a challenge that contains commas)")
    cell = {c: (raw.get(c) or "").strip() for c in MANIFEST_COLUMNS}
    if not cell["path"]:
        raise bad("path", "empty")
    clip = Path(cell["path"])
    clip = clip if clip.is_absolute() else manifest.parent / clip
    if not clip.is_file():
        raise bad("path", f"no such file: {clip}")
    label = cell["label"].lower()
    if label not in LABELS:
        raise bad("label", f"{cell['label']!r} is not one of {', '.join(LABELS)}")
    if label == "attack" and not cell["attack_type"]:
        raise bad("attack_type", "required for attack rows (e.g. screen_replay, printed_photo)")
    if label != "attack" and cell["attack_type"]:
        raise bad("attack_type", f"only attack rows have one, this row is {label}")
    challenge = None
    if cell["challenge"]:
        if label == "blink":
            raise bad("challenge", "blink rows are not checked against a challenge")
        try:
            challenge = tuple(parse_actions(cell["challenge"]))
        except ChallengeError as exc:
            raise bad("challenge", exc.message) from None
    flash = None
    if cell["flash"]:
        if label == "blink":
            raise bad("flash", "blink rows are not checked against a flash")
        try:
            flash = parse_flash_column(cell["flash"])
        except ValueError as exc:
            raise bad("flash", str(exc)) from None
    return Row(clip, cast(Label, label), cell["attack_type"] or None, challenge, line, flash)


def flash_column(shown: Shown) -> str:
    """The manifest's ``flash`` value for a sequence shown on the clip's time."""
    edges = [*shown.onsets, shown.end]
    return ";".join(f"{edges[i]:.3f}-{edges[i + 1]:.3f}:{f.hex}" for i, f in enumerate(shown.flashes))


def parse_flash_column(text: str) -> Shown:
    """The inverse of :func:`flash_column`; ValueError names the bad item."""
    flashes: list[Flash] = []
    onsets: list[float] = []
    for item in text.split(";"):
        span, _, colour = item.strip().partition(":")
        a, _, b = span.partition("-")
        try:
            start, end = float(a), float(b)
            rgb = (int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16))
        except ValueError:
            raise ValueError(f"not START-END:RRGGBB: {item!r}") from None
        if len(colour) != 6 or not 0 <= start < end:
            raise ValueError(f"not START-END:RRGGBB: {item!r}")
        if onsets and abs(start - (onsets[-1] + flashes[-1].ms / 1000)) > 0.002:
            raise ValueError(f"{item!r} does not start where the colour before it ends")
        flashes.append(Flash(rgb, round((end - start) * 1000)))
        onsets.append(start)
    if len(flashes) < 2:
        raise ValueError("a flash sequence has at least two colours")
    return Shown(tuple(flashes), tuple(onsets))


# --- running the clips -----------------------------------------------------------------------------------

def evaluate_row(row: Row, engine: FaceEngine | None) -> ClipRecord:
    """One clip's record. Bad input (unreadable clip, nothing to check) is a record, not an exception."""
    t0 = time.perf_counter()
    score: float | None
    reasons: tuple[str, ...]
    passed, score, reasons = False, None, ()
    try:
        if row.label == "blink":
            passed = any(e.action is Action.BLINK for e in timeline(row.path))
            reasons = () if passed else ("no_blink",)
        else:
            limits = LivenessLimits(action_window=float("inf")) if row.untimed else None
            result = run_clip(row.path, row.challenge, engine, limits, light=row.flash)
            passed, score, reasons = result.passed, result.score, tuple(result.reasons)
    except BadInputError as exc:
        reasons = (exc.code,)
    return ClipRecord(str(row.path), row.label, row.attack_type, passed, score, reasons,
                      time.perf_counter() - t0)


def run_rows(rows: Sequence[Row], engine_factory: EngineFactory, workers: int | None = None,
             progress: Callable[[int], None] | None = None) -> list[ClipRecord]:
    """Records in the order of ``rows``; ``progress`` is called with the number of clips just finished."""
    # chunksize 1: clip lengths differ by 100x, larger chunks would leave one worker idle at the end.
    return map_with_engine(_evaluate, rows, engine_factory, workers, progress, chunksize=1)


def _evaluate(engine: FaceEngine, row: Row) -> ClipRecord:
    return evaluate_row(row, engine)


# --- error rates -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AttackRate:
    clips: int
    passed: int

    @property
    def apcer(self) -> float:
        return self.passed / self.clips


@dataclass(frozen=True)
class Summary:
    attacks: dict[str, AttackRate]  # per attack type, sorted by name
    genuine: int
    genuine_rejected: int
    blinks: int
    blinks_detected: int
    rejection_reasons: dict[str, int] = field(default_factory=dict)  # over rejected genuine clips

    @property
    def max_apcer(self) -> float | None:
        return max((a.apcer for a in self.attacks.values()), default=None)

    @property
    def worst_attack_type(self) -> str | None:
        return max(self.attacks, key=lambda k: self.attacks[k].apcer) if self.attacks else None

    @property
    def bpcer(self) -> float | None:
        return self.genuine_rejected / self.genuine if self.genuine else None

    @property
    def acer(self) -> float | None:
        worst, bpcer = self.max_apcer, self.bpcer
        return None if worst is None or bpcer is None else (worst + bpcer) / 2

    @property
    def blink_recall(self) -> float | None:
        return self.blinks_detected / self.blinks if self.blinks else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "apcer": {k: {"clips": a.clips, "passed": a.passed, "apcer": a.apcer} for k, a in self.attacks.items()},
            "max_apcer": self.max_apcer,
            "worst_attack_type": self.worst_attack_type,
            "bpcer": self.bpcer,
            "acer": self.acer,
            "blink_recall": self.blink_recall,
            "counts": {
                "genuine": self.genuine, "genuine_rejected": self.genuine_rejected,
                "attack": sum(a.clips for a in self.attacks.values()),
                "attack_passed": sum(a.passed for a in self.attacks.values()),
                "blink": self.blinks, "blink_detected": self.blinks_detected,
            },
            "genuine_rejection_reasons": self.rejection_reasons,
        }


def summarize(records: Sequence[ClipRecord]) -> Summary:
    """APCER per attack type, BPCER and blink recall from the clip records (pure: no video needed)."""
    attacks: dict[str, list[bool]] = {}
    for r in records:
        if r.label == "attack":
            attacks.setdefault(r.attack_type or "unspecified", []).append(r.passed)
    genuine = [r for r in records if r.label == "genuine"]
    rejected = [r for r in genuine if not r.passed]
    blinks = [r for r in records if r.label == "blink"]
    # A clip with several failed checks counts once per distinct reason: "what would have to change".
    reasons = Counter(reason for r in rejected for reason in dict.fromkeys(r.reasons))
    return Summary(
        attacks={k: AttackRate(len(v), sum(v)) for k, v in sorted(attacks.items())},
        genuine=len(genuine),
        genuine_rejected=len(rejected),
        blinks=len(blinks),
        blinks_detected=sum(r.passed for r in blinks),
        rejection_reasons=dict(reasons.most_common()),
    )


Curve = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]


def det_curves(records: Sequence[ClipRecord]) -> dict[str, Curve]:
    """(APCER, BPCER) for accepting ``score >= t`` at every distinct score, per attack type and over all
    attacks; starts at the strictest point (reject all: APCER 0, BPCER 1). Clips without a score are
    rejected at every threshold."""
    genuine = _scores(r for r in records if r.label == "genuine")
    types = sorted({r.attack_type or "unspecified" for r in records if r.label == "attack"})
    groups = {t: [r for r in records if r.label == "attack" and (r.attack_type or "unspecified") == t]
              for t in types}
    if len(types) > 1:
        groups[ALL_ATTACKS] = [r for r in records if r.label == "attack"]
    curves: dict[str, Curve] = {}
    if genuine.size == 0:
        return curves
    for name, group in groups.items():
        attack = _scores(group)
        scores = np.concatenate([genuine, attack])
        bona_fide = np.r_[np.ones(genuine.size, bool), np.zeros(attack.size, bool)]
        apcer, accepted, _ = metrics.roc(scores, bona_fide)
        curves[name] = (np.r_[0.0, apcer], np.r_[1.0, 1.0 - accepted])
    return curves


def _scores(records: Iterable[ClipRecord]) -> npt.NDArray[np.float64]:
    return np.array([-math.inf if r.score is None else r.score for r in records], dtype=np.float64)


# --- report ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Report:
    records: list[ClipRecord]
    summary: Summary
    seconds: float  # wall time of the whole run

    def as_dict(self) -> dict[str, Any]:
        return {
            "standard": "ISO/IEC 30107-3 style: APCER per attack type, BPCER; ACER for reference only",
            "note": "clips that could not be evaluated count as not passed (refused attack / rejected genuine); "
                    "blink rows measure blink recall of the action detector, not liveness",
            **self.summary.as_dict(),
            "seconds": round(self.seconds, 2),
            "clips": [_record_dict(r) for r in self.records],
        }


def _record_dict(r: ClipRecord) -> dict[str, Any]:
    d = asdict(r)
    d["score"] = None if r.score is None else round(r.score, 4)
    d["reasons"] = list(r.reasons)
    d["seconds"] = round(r.seconds, 3)
    return d


def evaluate(rows: Sequence[Row], engine_factory: EngineFactory, workers: int | None = None,
             progress: Callable[[int], None] | None = None) -> Report:
    """Run every clip of the manifest (``engine_factory`` must be picklable, e.g.
    ``functools.partial(build_engine, "local")``: each worker process builds its own engine)."""
    t0 = time.perf_counter()
    records = run_rows(rows, engine_factory, workers, progress)
    return Report(records, summarize(records), time.perf_counter() - t0)


def write_report(report: Report, out: Path, title: str = "liveness") -> None:
    """``report.json`` and ``det.png`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    plot_det(report, out / "det.png", title)


# Probit (normal-deviate) axes, the usual DET scale; rates of 0 and 1 are drawn at its ends.
_PROBIT_FLOOR = 1e-3
_TICKS = (0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99, 0.999)


def _probit(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    from statistics import NormalDist

    q = np.clip(p, _PROBIT_FLOOR, 1 - _PROBIT_FLOOR)
    return np.array([NormalDist().inv_cdf(float(v)) for v in q], dtype=np.float64)


def plot_det(report: Report, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 5))
    curves = det_curves(report.records)
    s = report.summary
    for name, (apcer, bpcer) in curves.items():
        group = [s.attacks[name]] if name in s.attacks else list(s.attacks.values())
        n, accepted = sum(a.clips for a in group), sum(a.passed for a in group)
        (line,) = ax.plot(_probit(apcer), _probit(bpcer), marker=".",
                          label=f"{name} ({n} attacks)", linestyle="--" if name == ALL_ATTACKS else "-")
        if s.bpcer is not None:  # the live check as deployed (every check passed), which is near threshold 0
            ax.plot(_probit(np.array([accepted / n])), _probit(np.array([s.bpcer])), marker="o", markersize=8,
                    markerfacecolor="none", color=line.get_color())
    ticks = _probit(np.array(_TICKS))
    labels = ["≤0.1%", *(f"{t * 100:g}%" for t in _TICKS[1:-1]), "≥99.9%"]
    ax.set_xticks(ticks, labels)
    ax.set_yticks(ticks, labels)
    lim = (float(ticks[0]) - 0.1, float(ticks[-1]) + 0.1)
    ax.set(xlim=lim, ylim=lim, xlabel="APCER (attacks accepted)", ylabel="BPCER (genuine rejected)",
           title=f"DET - {title} ({s.genuine} genuine clips; circle = live check as deployed)")
    ax.title.set_fontsize(9)
    ax.grid(True, alpha=0.3)
    if curves:
        ax.legend(fontsize=8)
    else:
        ax.text(0, 0, "needs genuine and attack clips", ha="center")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
