"""How each strategy turns per-model cosine similarities into one score; vectorised, so that the matcher
(one pair) and the benchmark and calibration (millions of pairs) share a single implementation."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from realname.verification.thresholds import StrategyName, Thresholds

Array = npt.NDArray[np.float64]

# The cosines each strategy needs; the cascade needs the last two only where `needs_second` holds.
STRATEGY_MODELS: dict[str, tuple[str, ...]] = {
    "sface": ("sface",),
    "dlib": ("dlib",),
    "fusion": ("sface_tta", "dlib"),
    "cascade": ("sface", "sface_tta", "dlib"),
}


def needs_second(th: Thresholds, sface: Array) -> npt.NDArray[np.bool_]:
    """Where plain SFace is not decisive and the cascade must consult fusion."""
    return (sface > th.cascade.fast_reject) & (sface < th.cascade.fast_accept)


def fused(th: Thresholds, cos: dict[str, Array]) -> Array:
    total = np.zeros_like(next(iter(cos.values())), dtype=np.float64)
    for model, weight in th.fusion_weights.items():
        n = th.normalisation[model]
        total = total + weight * (cos[model] - n.mean) / n.std
    return total


def fast_path(th: Thresholds, sface: Array) -> Array:
    """Plain SFace's z-score on the fused scale: what fusion would give if the other models agreed."""
    n = th.normalisation["sface"]
    return sum(th.fusion_weights.values()) * (sface - n.mean) / n.std


def combine(th: Thresholds, strategy: StrategyName, cos: dict[str, Array]) -> Array:
    """Scores for ``strategy``; ``-inf`` cosines (a failure to acquire) give ``-inf`` scores."""
    if strategy == "sface":
        return np.asarray(cos["sface"], dtype=np.float64)
    if strategy == "dlib":
        return np.asarray(cos["dlib"], dtype=np.float64)
    if strategy == "fusion":
        return fused(th, cos)
    sface = np.asarray(cos["sface"], dtype=np.float64)
    need = needs_second(th, sface)
    out = fast_path(th, sface)
    if need.any():
        out = np.where(need, fused(th, {m: np.where(need, cos[m], 0.0) for m in th.fusion_weights}), out)
    return np.where(np.isfinite(sface), out, -np.inf)
