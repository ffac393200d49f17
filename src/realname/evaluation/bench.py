"""`realname bench pairs`: accuracy and latency of every matching strategy on one pair set.

Templates are computed once per image (all models), then each strategy is scored from them exactly as the
matcher would score a live comparison (:func:`realname.verification.scoring.combine`).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from realname.evaluation import metrics
from realname.evaluation.extract import Extracted
from realname.evaluation.pairs import PairSet
from realname.verification.matcher import decide
from realname.verification.scoring import STRATEGY_MODELS, combine, needs_second
from realname.verification.thresholds import StrategyName, Thresholds

FARS = (1e-2, 1e-3, 1e-4)
MODEL_COST = {"sface": ("sface",), "sface_tta": ("sface", "sface_mirror"), "dlib": ("dlib",)}


@dataclass
class PairCosines:
    cos: dict[str, npt.NDArray[np.float64]]  # model -> cosine per pair, -inf where a face was not acquired
    same: npt.NDArray[np.bool_]
    folds: npt.NDArray[np.int64]
    left: list[Extracted]
    right: list[Extracted]

    @property
    def accepted(self) -> npt.NDArray[np.bool_]:
        """Pairs neither of whose images the compare refuses for quality (what a customer at a kiosk meets;
        a refused picture is retaken there, not decided)."""
        return np.array([a.refused is None and b.refused is None for a, b in zip(self.left, self.right, strict=True)])

    def subset(self, keep: npt.NDArray[np.bool_]) -> PairCosines:
        idx = np.flatnonzero(keep)
        return PairCosines({m: v[keep] for m, v in self.cos.items()}, self.same[keep], self.folds[keep],
                           [self.left[i] for i in idx], [self.right[i] for i in idx])


def pair_cosines(pairs: PairSet, extracted: dict[tuple[Path, bool], Extracted], degrade: bool) -> PairCosines:
    left = [extracted[(p.left, False)] for p in pairs.pairs]
    right = [extracted[(p.right, degrade)] for p in pairs.pairs]
    cos: dict[str, list[float]] = {m: [] for m in ("sface", "sface_tta", "dlib")}
    for a, b in zip(left, right, strict=True):
        for m in cos:
            if not (a.acquired and b.acquired):
                cos[m].append(-np.inf)
            else:
                cos[m].append(a.templates[m].similarity(b.templates[m]))
    return PairCosines(
        {m: np.array(v, dtype=np.float64) for m, v in cos.items()},
        np.array([p.same for p in pairs.pairs]), np.array([p.fold for p in pairs.pairs]), left, right,
    )


def _image_ms(e: Extracted, models: tuple[str, ...]) -> float:
    return 1000 * (e.detect_s + sum(e.model_s.get(m, 0.0) for m in models))


def latencies(pc: PairCosines, th: Thresholds, strategy: StrategyName) -> list[float]:
    """Milliseconds per image (one core) for each pair side, counting only the models the strategy ran."""
    out: list[float] = []
    need = needs_second(th, pc.cos["sface"]) if strategy == "cascade" else None
    for i, (a, b) in enumerate(zip(pc.left, pc.right, strict=True)):
        used: tuple[str, ...]
        if strategy == "cascade":
            used = ("sface", "sface_mirror", "dlib") if need is not None and need[i] else ("sface",)
        else:
            used = tuple(x for m in STRATEGY_MODELS[strategy] for x in MODEL_COST[m])
        out.extend(_image_ms(e, used) for e in (a, b) if e.acquired)
    return out


def accuracy_figures(pc: PairCosines, th: Thresholds, strategy: StrategyName) -> dict[str, Any]:
    """Accuracy (10-fold), EER, TAR at the FARs and the packaged threshold's rates, on the pairs in ``pc``."""
    scores = combine(th, strategy, pc.cos)
    folds = metrics.tenfold_accuracy(scores, pc.same, pc.folds)
    point = th.point(strategy)
    decisions = [decide(float(s), point).value for s in scores]
    gen = [d for d, s in zip(decisions, pc.same, strict=True) if s]
    imp = [d for d, s in zip(decisions, pc.same, strict=True) if not s]
    return {
        "accuracy_mean": folds.mean,
        "accuracy_std": folds.std,
        "fold_accuracies": folds.accuracies,
        "eer": metrics.eer(scores, pc.same),
        "tar_at_far": {f"{far:g}": metrics.tar_at_far(scores, pc.same, far)[0] for far in FARS},
        "at_packaged_threshold": {
            "threshold": point.threshold,
            "false_match_rate": imp.count("match") / max(len(imp), 1),
            "false_non_match_rate": gen.count("no_match") / max(len(gen), 1),
            "review_rate": (gen.count("review") + imp.count("review")) / max(len(decisions), 1),
        },
    }


def strategy_report(pc: PairCosines, th: Thresholds, strategy: StrategyName) -> dict[str, Any]:
    """All pairs' figures, and the same on the pairs the compare accepts (``accepted_pairs``)."""
    report = accuracy_figures(pc, th, strategy)
    lat = latencies(pc, th, strategy)
    report["median_ms_per_image"] = statistics.median(lat) if lat else None
    report["accepted_pairs"] = accuracy_figures(pc.subset(pc.accepted), th, strategy)
    if strategy == "cascade":
        report["second_stage_share"] = float(np.mean(needs_second(th, pc.cos["sface"])))
    return report


def run_report(pairs: PairSet, extracted: dict[tuple[Path, bool], Extracted], th: Thresholds,
               strategies: tuple[StrategyName, ...], degrade: bool, out: Path) -> dict[str, Any]:
    pc = pair_cosines(pairs, extracted, degrade)
    images = {k: v for k, v in extracted.items()}
    report: dict[str, Any] = {
        "source": pairs.name,
        "protocol": pairs.protocol,
        "degrade": "idchip" if degrade else None,
        "pairs": {"genuine": pairs.genuine, "impostor": pairs.impostor},
        "failures_to_acquire": {
            "images": sum(not e.acquired for e in images.values()),
            "pairs": int(np.sum(~np.isfinite(pc.cos["sface"]))),
            "note": "a pair with a face not found counts as a rejection at every threshold, never dropped",
        },
        "quality_refusals": {
            "images": sum(e.refused is not None for e in images.values()),
            "pairs": int(np.sum(~pc.accepted)),
            "rate": float(np.mean(~pc.accepted)) if len(pc.same) else 0.0,
            "genuine_pairs": int(np.sum(~pc.accepted & pc.same)),
            "impostor_pairs": int(np.sum(~pc.accepted & ~pc.same)),
            "by_finding": {code: sum(e.refused == code for e in images.values())
                           for code in sorted({e.refused for e in images.values() if e.refused})},
            "note": "images the compare refuses (a face cut off by the border): a retake at a kiosk, not a "
                    "decision; counted apart from failures to acquire. accepted_pairs: figures without them",
        },
        "thresholds": th.provenance.model_dump(),
        "strategies": {s: strategy_report(pc, th, s) for s in strategies},
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    plot_curves(pc, th, strategies, out, title=pairs.name + (" (idchip)" if degrade else ""))
    return report


def plot_curves(pc: PairCosines, th: Thresholds, strategies: tuple[StrategyName, ...], out: Path,
                title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig_roc, ax_roc = plt.subplots(figsize=(6, 4.5))
    fig_det, ax_det = plt.subplots(figsize=(6, 4.5))
    for s in strategies:
        far, tar, _ = metrics.roc(combine(th, s, pc.cos), pc.same)
        keep = far > 0
        ax_roc.plot(far[keep], tar[keep], label=s)
        ax_det.plot(far[keep], np.maximum(1 - tar[keep], 1e-4), label=s)
    ax_roc.set(xscale="log", xlabel="false accept rate", ylabel="true accept rate", title=f"ROC - {title}")
    ax_det.set(xscale="log", yscale="log", xlabel="false match rate", ylabel="false non-match rate",
               title=f"DET - {title}")
    for ax, fig, name in ((ax_roc, fig_roc, "roc.png"), (ax_det, fig_det, "det.png")):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
