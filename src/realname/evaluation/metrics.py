"""Verification error rates from pair scores (higher score = more similar).

Failures to acquire are not dropped: such a pair carries score ``-inf``, so it is rejected at every
threshold (an error for a genuine pair, a correct rejection for an impostor pair), which is how a deployed
system would treat a face it cannot find.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Scores = npt.NDArray[np.float64]
Labels = npt.NDArray[np.bool_]


def _finite_floor(scores: Scores) -> Scores:
    finite = scores[np.isfinite(scores)]
    floor = (finite.min() - 1.0) if finite.size else -1.0
    return np.where(np.isfinite(scores), scores, floor)


def best_accuracy_threshold(scores: Scores, same: Labels) -> float:
    """Threshold that maximises accuracy on these pairs (midpoint between neighbouring scores)."""
    s = _finite_floor(scores)
    order = np.argsort(s)
    s_sorted, y = s[order], same[order]
    # Accepting everything above index i: correct = impostors at or below i + genuines above i.
    imp_below = np.concatenate([[0], np.cumsum(~y)])
    gen_above = int(y.sum()) - np.concatenate([[0], np.cumsum(y)])
    correct = imp_below + gen_above
    # Only split between distinct scores: no threshold separates equal ones (all -inf pairs share the floor).
    valid = np.r_[True, s_sorted[1:] > s_sorted[:-1], True]
    correct = np.where(valid, correct, -1)
    i = int(np.argmax(correct))
    if i == 0:
        return float(s_sorted[0] - 1e-6)
    if i == len(s_sorted):
        return float(s_sorted[-1] + 1e-6)
    return float((s_sorted[i - 1] + s_sorted[i]) / 2)


def accuracy(scores: Scores, same: Labels, threshold: float) -> float:
    return float(np.mean((scores >= threshold) == same))


@dataclass(frozen=True)
class FoldResult:
    accuracies: list[float]
    thresholds: list[float]

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracies))

    @property
    def std(self) -> float:
        return float(np.std(self.accuracies))


def tenfold_accuracy(scores: Scores, same: Labels, folds: npt.NDArray[np.int64]) -> FoldResult:
    """LFW View 2: for each fold, pick the threshold on the other nine, test on this one."""
    accs, ths = [], []
    for k in np.unique(folds):
        train, test = folds != k, folds == k
        t = best_accuracy_threshold(scores[train], same[train])
        accs.append(accuracy(scores[test], same[test], t))
        ths.append(t)
    return FoldResult(accs, ths)


def roc(scores: Scores, same: Labels) -> tuple[Scores, Scores, Scores]:
    """False accept rate, true accept rate and threshold at every distinct score, thresholds descending."""
    thresholds = np.unique(_finite_floor(scores))[::-1]
    # Rates from the raw scores: a -inf pair (no face) is rejected even at the lowest threshold.
    gen, imp = scores[same], scores[~same]
    gen_sorted, imp_sorted = np.sort(gen), np.sort(imp)
    tar = 1.0 - np.searchsorted(gen_sorted, thresholds, side="left") / max(len(gen), 1)
    far = 1.0 - np.searchsorted(imp_sorted, thresholds, side="left") / max(len(imp), 1)
    return far, tar, thresholds


def tar_at_far(scores: Scores, same: Labels, target_far: float) -> tuple[float, float]:
    """Highest TAR whose FAR does not exceed ``target_far``, and its threshold.

    With n impostor pairs the smallest non-zero FAR is 1/n; below that the operating point is FAR = 0
    (threshold above every impostor score), which is what is reported.
    """
    far, tar, th = roc(scores, same)
    ok = far <= target_far
    if not ok.any():
        return 0.0, float(np.nextafter(th[0], np.inf))
    i = int(np.flatnonzero(ok)[-1])
    return float(tar[i]), float(th[i])


def eer(scores: Scores, same: Labels) -> float:
    """Equal error rate: where false accepts and false rejects meet (linear interpolation)."""
    far, tar, _ = roc(scores, same)
    frr = 1.0 - tar
    diff = far - frr
    i = int(np.argmax(diff >= 0))
    if i == 0:
        return float((far[0] + frr[0]) / 2)
    d0, d1 = diff[i - 1], diff[i]
    w = d0 / (d0 - d1) if d1 != d0 else 0.0
    return float(far[i - 1] + w * (far[i] - far[i - 1]))


def threshold_for_fmr(impostor_scores: Scores, fmr: float) -> float:
    """Lowest threshold whose false-match rate on these impostor scores is at most ``fmr``."""
    imp = np.sort(_finite_floor(impostor_scores))
    if imp.size == 0:
        raise ValueError("no impostor pairs to calibrate on")
    allowed = int(np.floor(fmr * imp.size))  # impostors that may score at or above the threshold
    if (allowed + 1) / imp.size <= fmr:  # floor() of a product that rounded just below an integer
        allowed += 1
    if allowed >= imp.size:
        return float(imp[0])
    # Accept strictly above the (n - allowed)-th impostor score.
    return float(np.nextafter(imp[imp.size - allowed - 1], np.inf))
