"""Blinks measured, not guessed: per-blink recall and false blinks on liveness/more (its clips.csv lists the
blink times), genuine clips and animated-photo attacks apart; and the analyzer's speed against the one it
replaced.

Detectors compared, each over the same frames of every clip:
  landmarker / blendshape                the service: MediaPipe face landmarker, eyeBlink scores
  landmarker / blendshape, frontal only  the same over the frames with the head near frontal only
  landmarker / ear (previous rule)       the eye-aspect-ratio rule the service used before, on the same mesh
  facemesh / ear (previous rule)         the previous engine (legacy FaceMesh solution) and rule, as shipped

    .venv/bin/python benchmarks/blink_eval.py [--data ../shared/data] [--out bench-out/blinks] [--workers 2]

Writes report.json (every clip: detected, missed and false blinks) and table.md under --out. The speed part
pins the process to one core and runs both analyzers on the same 640x480 frames, frame by frame in turn, so
they share whatever else the machine is doing.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from realname.evaluation.liveness.blinks import Interval, blink_intervals  # noqa: E402
from realname.images import BGRImage  # noqa: E402
from realname.liveness.actions import ActionLimits, baseline  # noqa: E402
from realname.liveness.features import FrameFeatures  # noqa: E402

Vec = npt.NDArray[np.float64]
FRONTAL = 12.0  # degrees of yaw and of pitch from the baseline: the previous rule's "head near frontal"


class FaceMeshAnalyzer:
    """The analyzer the service used before the face landmarker (legacy FaceMesh solution, video mode), kept
    here only to measure against: same largest-face and overlapping-mesh rules, no blendshapes."""

    def __init__(self) -> None:
        from mediapipe.python.solutions import face_mesh

        self._mesh: Any = face_mesh.FaceMesh(static_image_mode=False, max_num_faces=2, refine_landmarks=True,
                                             min_detection_confidence=0.5, min_tracking_confidence=0.5)

    def analyse(self, frame: BGRImage, t: float) -> FrameFeatures:
        from realname.engine.mesh import to_pixels
        from realname.liveness.features import _overlap, measure

        h, w = frame.shape[:2]
        result = self._mesh.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        faces = result.multi_face_landmarks or []
        if not faces:
            return FrameFeatures(t=t, faces=0)
        clouds = [to_pixels(f.landmark, w, h) for f in faces]
        clouds.sort(key=lambda c: float(np.ptp(c[:, 0]) * np.ptp(c[:, 1])), reverse=True)
        others = [c for c in clouds[1:] if _overlap(clouds[0], c) < 0.3]
        return measure(clouds[0], 1 + len(others), t, frame)

    def close(self) -> None:
        self._mesh.close()


def _frontal(frames: Sequence[FrameFeatures]) -> tuple[list[FrameFeatures], npt.NDArray[np.bool_]]:
    seen = [f for f in frames if f.faces >= 1]
    base = baseline(seen, ActionLimits())
    if base is None:
        return seen, np.zeros(len(seen), bool)
    still = np.array([abs(f.yaw - base.yaw) < FRONTAL and abs(f.pitch - base.pitch) < FRONTAL for f in seen])
    return seen, still


def frontal_blendshape_blinks(frames: Sequence[FrameFeatures]) -> list[Interval]:
    """The service's rule over the frames with the head near frontal only."""
    seen, still = _frontal(frames)
    return blink_intervals([f for f, s in zip(seen, still, strict=True) if s])


def previous_ear_blinks(frames: Sequence[FrameFeatures]) -> list[Interval]:
    """The rule the service used before the blendshapes, as it was: with the head near frontal, the eye aspect
    ratio falls below 0.72 x the local open level (80th percentile over 1.5 s of frontal frames) and comes back
    above 0.85 x within 1.2 s; dips 0.15 s apart are one blink."""
    seen, still = _frontal(frames)
    if len(seen) < 2:
        return []
    t = np.array([f.t for f in seen])
    ear = np.array([f.ear for f in seen])
    overall = float(np.percentile(ear[still], 80)) if still.any() else float(np.percentile(ear, 80))
    level = np.array([max(float(np.percentile(ear[still & (np.abs(t - ti) <= 1.5)], 80))
                          if (still & (np.abs(t - ti) <= 1.5)).any() else overall, 0.8 * overall) for ti in t])
    closed = (ear < 0.72 * level) & still
    reopened = ear >= 0.85 * level
    out: list[Interval] = []
    for a, b in _runs(closed):
        before, after = np.flatnonzero(reopened[:a]), np.flatnonzero(reopened[b + 1:])
        opened_before = before.size > 0 and t[a] - t[before[-1]] <= 1.2
        opened_after = after.size > 0 and t[b + 1 + after[0]] - t[b] <= 1.2
        bounded = (opened_before or a == 0) and (opened_after or b == len(ear) - 1)
        if bounded and (opened_before or opened_after) and t[b] - t[a] <= 1.2:
            if out and t[a] - out[-1][1] <= 0.15:
                out[-1] = (out[-1][0], float(t[b]))
            else:
                out.append((float(t[a]), float(t[b])))
    return out


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(np.int8), 0]))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def speed(clip: Path) -> dict[str, Any]:
    """Per-frame milliseconds at 640x480 on one core, new analyzer and old on the same frames in turn; and
    the cost of building one (once per session)."""
    from liveness_speed import frames_640x480

    from realname.liveness.features import FrameAnalyzer

    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    frames = frames_640x480(clip, 15.0)
    factories: dict[str, Callable[[], Any]] = {"face_landmarker": FrameAnalyzer, "facemesh_legacy": FaceMeshAnalyzer}
    builds: dict[str, list[float]] = {k: [] for k in factories}
    for _ in range(4):  # the first build loads the libraries: not a per-session cost
        for name, factory in factories.items():
            t0 = time.perf_counter()
            factory().close()
            builds[name].append(1000 * (time.perf_counter() - t0))
    analyzers = {name: factory() for name, factory in factories.items()}
    times: dict[str, list[float]] = {k: [] for k in factories}
    for rep in range(2):  # the first pass warms up
        for frame, t in frames:
            for name, analyzer in analyzers.items():
                t0 = time.perf_counter()
                analyzer.analyse(frame, t + rep * 100)
                if rep:
                    times[name].append(1000 * (time.perf_counter() - t0))
    for analyzer in analyzers.values():
        analyzer.close()
    out: dict[str, Any] = {"clip": clip.name, "frames": len(frames), "size": "640x480", "threads": 1,
                           "load_average": [round(x, 2) for x in os.getloadavg()]}
    for name, ms in times.items():
        out[name] = {"per_frame_ms_median": round(statistics.median(ms), 2),
                     "per_frame_ms_p90": round(float(np.percentile(ms, 90)), 2),
                     "build_ms_median": round(statistics.median(builds[name][1:]), 1)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=HERE.parent / "bench-out" / "blinks")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-previous", action="store_true", help="skip the previous engine (FaceMesh) run")
    ap.add_argument("--no-speed", action="store_true")
    args = ap.parse_args()
    listing = args.data / "liveness" / "more" / "clips.csv"
    if not listing.is_file():
        print(f"skipped: {listing} is absent")
        return 0
    from realname.evaluation.liveness.blinks import clip_table, evaluate, read_listing, table, write

    clips = read_listing(listing)
    t0 = time.perf_counter()
    reports, run = evaluate(clips, workers=args.workers, detectors={
        "blendshape": blink_intervals, "blendshape, frontal only": frontal_blendshape_blinks,
        "ear (previous rule)": previous_ear_blinks})
    reports = [replace(r, name=f"landmarker / {r.name}") for r in reports]
    facts: dict[str, Any] = {"landmarker": run}
    if not args.no_previous:
        old, facts["facemesh_legacy"] = evaluate(clips, FaceMeshAnalyzer, {"ear (previous rule)": previous_ear_blinks},
                                                 workers=args.workers)
        reports += [replace(r, name=f"facemesh / {r.name}") for r in old]
    facts["seconds"] = round(time.perf_counter() - t0, 1)
    facts["blink_limits"] = {k: v for k, v in vars(ActionLimits()).items() if k.startswith("blink")}
    clip = args.data / "liveness" / "genuine" / "person_a_turns_nods.mp4"
    if not args.no_speed and clip.is_file():
        facts["speed"] = speed(clip)  # last: it pins this process to one core
    write(reports, facts, args.out)
    print(table(reports))
    print()
    print(clip_table(reports))
    if "speed" in facts:
        print(json.dumps(facts["speed"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
