"""Per-blink evaluation: detected blinks against the blink times a listing gives for each clip.

The listing is a CSV such as ``liveness/more/clips.csv``: a ``rel`` path (relative to the listing's folder),
a ``label`` (``genuine`` or ``attack``), an optional ``attack_type``, and ``blinks`` as ``;``-separated times
(``2.5s`` or ``6.8-7.0s``). ``long_eye_closures`` and ``one_eye_closures`` in the same form are read too: a
blink detected on one of them is still a false blink, but the report says which one it was.

A listed blink is found when a detected blink's closed interval comes within ``tolerance`` seconds of it;
each detection finds at most one listed blink and the reverse. Detections that find none are false blinks.
Genuine clips and attacks are summed apart: a blink on an animated photo is what the attack is made to show.
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from realname.errors import DataSourceError
from realname.liveness.actions import ActionLimits, detect_events
from realname.liveness.challenges import Action
from realname.liveness.features import Analyzer, FrameAnalyzer, FrameFeatures

TOLERANCE = 0.3  # seconds between a listed blink and a detected one
RECALL_FLOOR = 0.95  # the target: listed blinks found on genuine clips
Interval = tuple[float, float]
AnalyzerFactory = Callable[[], Analyzer]
Detector = Callable[[Sequence[FrameFeatures]], list[Interval]]  # a clip's frames -> its blinks' closed intervals
_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?))?\s*s\s*$")


def parse_times(cell: str) -> tuple[Interval, ...]:
    """``"2.5s; 6.8-7.0s"`` -> ``((2.5, 2.5), (6.8, 7.0))``; an empty cell is no times."""
    out = []
    for part in (cell or "").split(";"):
        if not part.strip():
            continue
        m = _TIME.match(part)
        if m is None:
            raise ValueError(f"{part.strip()!r} is not a time such as 2.5s or 6.8-7.0s")
        a = float(m.group(1))
        b = float(m.group(2)) if m.group(2) else a
        out.append((min(a, b), max(a, b)))
    return tuple(sorted(out))


@dataclass(frozen=True)
class ListedClip:
    rel: str
    path: Path
    label: str  # genuine | attack
    attack_type: str | None = None
    blinks: tuple[Interval, ...] = ()
    long_closures: tuple[Interval, ...] = ()
    one_eye: tuple[Interval, ...] = ()


def read_listing(path: str | Path) -> list[ListedClip]:
    """The clips of a listing with their blink times; a malformed row is a DataSourceError naming it."""
    p = Path(path)
    try:
        rows = list(csv.DictReader(p.read_text(encoding="utf-8-sig").splitlines()))
    except OSError as exc:
        raise DataSourceError(f"{p}: cannot read the clip listing ({exc})", code="file_not_found") from None
    clips = []
    for n, row in enumerate(rows, start=1):
        try:
            label = row["label"].strip()
            if label not in ("genuine", "attack"):
                raise ValueError(f"label {label!r} is not genuine or attack")
            clips.append(ListedClip(
                rel=row["rel"], path=p.parent / row["rel"], label=label,
                attack_type=(row.get("attack_type") or "").strip() or None,
                blinks=parse_times(row.get("blinks", "")),
                long_closures=parse_times(row.get("long_eye_closures", "")),
                one_eye=parse_times(row.get("one_eye_closures", "")),
            ))
        except (KeyError, ValueError) as exc:
            raise DataSourceError(f"{p}, row {n}: {exc}") from None
    if not clips:
        raise DataSourceError(f"{p}: the listing holds no clips")
    return clips


def gap(a: Interval, b: Interval) -> float:
    """Seconds between two intervals (0 when they overlap)."""
    return max(0.0, b[0] - a[1], a[0] - b[1])


def match(listed: Sequence[Interval], detected: Sequence[Interval], tolerance: float = TOLERANCE
          ) -> tuple[list[int | None], list[int]]:
    """For each listed blink the index of the detection that finds it (or None), and the indices of the
    detections that find none. One to one, closest pairs first (blinks can be 0.3 s apart)."""
    pairs = sorted((gap(lb, d), i, j) for i, lb in enumerate(listed) for j, d in enumerate(detected)
                   if gap(lb, d) <= tolerance)
    found: list[int | None] = [None] * len(listed)
    used: set[int] = set()
    for _, i, j in pairs:
        if found[i] is None and j not in used:
            found[i] = j
            used.add(j)
    return found, [j for j in range(len(detected)) if j not in used]


@dataclass(frozen=True)
class ClipBlinks:
    """One clip's blinks under one detector."""

    rel: str
    label: str
    listed: tuple[Interval, ...]
    detected: tuple[Interval, ...]  # closed interval of each detected blink
    missed: tuple[Interval, ...]
    false: tuple[Interval, ...]
    false_kinds: tuple[str, ...]  # per false blink: "long_eye_closure", "one_eye_closure" or "unlisted"

    @property
    def found(self) -> int:
        return len(self.listed) - len(self.missed)

    @property
    def recall(self) -> float | None:
        return self.found / len(self.listed) if self.listed else None


def score_clip(clip: ListedClip, detected: Sequence[Interval], tolerance: float = TOLERANCE) -> ClipBlinks:
    found, false = match(clip.blinks, detected, tolerance)
    kinds = []
    for j in false:
        if any(gap(detected[j], c) <= tolerance for c in clip.long_closures):
            kinds.append("long_eye_closure")
        elif any(gap(detected[j], c) <= tolerance for c in clip.one_eye):
            kinds.append("one_eye_closure")
        else:
            kinds.append("unlisted")
    return ClipBlinks(clip.rel, clip.label, clip.blinks, tuple(detected),
                      tuple(lb for lb, f in zip(clip.blinks, found, strict=True) if f is None),
                      tuple(detected[j] for j in false), tuple(kinds))


def blink_intervals(frames: Sequence[FrameFeatures], limits: ActionLimits | None = None) -> list[Interval]:
    """The service's blinks (:func:`detect_events`), as closed intervals."""
    return [(e.start, e.end) for e in detect_events(frames, limits) if e.action is Action.BLINK]


def analyse(path: Path, factory: AnalyzerFactory = FrameAnalyzer) -> list[FrameFeatures]:
    """Every frame of a clip through one analyzer (the landmarks dropped: only the measures are kept)."""
    from realname.liveness.video import read_frames

    analyzer = factory()
    try:
        return [replace(analyzer.analyse(frame, t), points=None) for frame, t in read_frames(path)]
    finally:
        analyzer.close()


@dataclass(frozen=True)
class Group:
    clips: int
    listed: int
    found: int
    false: int
    clips_without_listed: int
    false_on_clips_without_listed: int

    @property
    def recall(self) -> float | None:
        return self.found / self.listed if self.listed else None


def group(results: Iterable[ClipBlinks]) -> Group:
    rs = list(results)
    bare = [r for r in rs if not r.listed]
    return Group(len(rs), sum(len(r.listed) for r in rs), sum(r.found for r in rs), sum(len(r.false) for r in rs),
                 len(bare), sum(len(r.false) for r in bare))


@dataclass(frozen=True)
class DetectorReport:
    name: str
    results: list[ClipBlinks]
    groups: dict[str, Group] = field(default_factory=dict)

    @property
    def meets_target(self) -> bool:
        """Genuine recall at the floor, and no false blink on any clip that lists none."""
        g = self.groups.get("genuine")
        return (g is not None and g.recall is not None and g.recall >= RECALL_FLOOR
                and all(x.false_on_clips_without_listed == 0 for x in self.groups.values()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "detector": self.name,
            "meets_target": self.meets_target,
            "groups": {k: {**vars(g), "recall": _r(g.recall)} for k, g in self.groups.items()},
            "clips": [{
                "clip": r.rel, "label": r.label, "listed": len(r.listed), "found": r.found, "recall": _r(r.recall),
                "missed": [_fmt(i) for i in r.missed],
                "false": [f"{_fmt(i)} ({k})" for i, k in zip(r.false, r.false_kinds, strict=True)],
                "detected": [_fmt(i) for i in r.detected],
            } for r in self.results],
        }


def report(name: str, results: list[ClipBlinks]) -> DetectorReport:
    labels = sorted({r.label for r in results}, key=lambda s: (s != "genuine", s))
    return DetectorReport(name, results, {lb: group(r for r in results if r.label == lb) for lb in labels})


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _fmt(i: Interval) -> str:
    return f"{i[0]:.2f}s" if i[0] == i[1] else f"{i[0]:.2f}-{i[1]:.2f}s"


# --- running a listing -----------------------------------------------------------------------------------

DETECTORS: dict[str, Detector] = {"blendshape": blink_intervals}
Job = tuple[ListedClip, AnalyzerFactory, dict[str, Detector]]


def _clip_intervals(job: Job) -> tuple[dict[str, list[Interval]], int, float]:
    clip, factory, detectors = job
    t0 = time.perf_counter()
    frames = analyse(clip.path, factory)
    seconds = time.perf_counter() - t0
    return {name: detect(frames) for name, detect in detectors.items()}, len(frames), seconds


def evaluate(clips: Sequence[ListedClip], factory: AnalyzerFactory = FrameAnalyzer,
             detectors: dict[str, Detector] | None = None, workers: int = 1,
             progress: Callable[[int], None] | None = None, tolerance: float = TOLERANCE
             ) -> tuple[list[DetectorReport], dict[str, Any]]:
    """Every clip through the analyzer once, then every detector over its frames. Returns one report per
    detector and run facts (frames, analysis seconds). ``factory`` and the detectors must be picklable
    (module-level) when ``workers`` > 1."""
    dets = detectors or DETECTORS
    jobs = [(c, factory, dets) for c in clips]
    out: list[tuple[dict[str, list[Interval]], int, float]] = []
    if workers <= 1:
        for job in jobs:
            out.append(_clip_intervals(job))
            if progress:
                progress(1)
    else:
        # Clips differ in length by 300x: hand them out one at a time, the longest first.
        order = sorted(range(len(jobs)), key=lambda i: -jobs[i][0].path.stat().st_size)
        done: dict[int, tuple[dict[str, list[Interval]], int, float]] = {}
        with ProcessPoolExecutor(workers, initializer=_one_thread) as pool:
            for i, res in zip(order, pool.map(_clip_intervals, [jobs[i] for i in order]), strict=True):
                done[i] = res
                if progress:
                    progress(1)
        out = [done[i] for i in range(len(jobs))]
    reports = [report(name, [score_clip(c, o[0][name], tolerance) for c, o in zip(clips, out, strict=True)])
               for name in dets]
    facts = {"clips": len(clips), "frames": sum(o[1] for o in out),
             "analysis_seconds": round(sum(o[2] for o in out), 1)}
    return reports, facts


def _one_thread() -> None:
    import cv2

    cv2.setNumThreads(1)


def table(reports: Sequence[DetectorReport]) -> str:
    """A Markdown summary: one row per detector and clip group."""
    lines = ["| detector | clips | listed blinks | found | recall | false blinks | clips without listed blinks "
             "| false blinks on them |", "|---|---|---|---|---|---|---|---|"]
    for rep in reports:
        for label, g in rep.groups.items():
            recall = "-" if g.recall is None else f"{100 * g.recall:.1f}%"
            lines.append(f"| {rep.name} | {g.clips} {label} | {g.listed} | {g.found} | {recall} | {g.false} "
                         f"| {g.clips_without_listed} | {g.false_on_clips_without_listed} |")
    return "\n".join(lines)


def clip_table(reports: Sequence[DetectorReport]) -> str:
    """A Markdown row per clip: found/listed and false blinks under each detector, then the misses of each."""
    head = "| clip | label | " + " | ".join(f"{r.name}: found/listed, false" for r in reports) + " |"
    lines = [head, "|---|---|" + "---|" * len(reports)]
    for i, first in enumerate(reports[0].results if reports else []):
        cells = []
        for rep in reports:
            r = rep.results[i]
            cells.append(f"{r.found}/{len(r.listed)}, {len(r.false)}")
        lines.append(f"| {first.rel} | {first.label} | " + " | ".join(cells) + " |")
    for rep in reports:
        lines += ["", f"{rep.name}: missed blinks, false blinks"]
        for r in rep.results:
            if r.missed or r.false:
                false = ", ".join(f"{_fmt(i)} ({k})" for i, k in zip(r.false, r.false_kinds, strict=True))
                lines.append(f"- {r.rel}: missed {', '.join(map(_fmt, r.missed)) or '-'}; false {false or '-'}")
    return "\n".join(lines)


def write(reports: Sequence[DetectorReport], facts: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    doc = {"tolerance_s": TOLERANCE, "recall_floor": RECALL_FLOOR, **facts,
           "detectors": [r.as_dict() for r in reports]}
    (out / "report.json").write_text(json.dumps(doc, indent=2) + "\n")
    (out / "table.md").write_text(table(reports) + "\n\n" + clip_table(reports) + "\n")
