"""Verification error rates: accuracy, 10-fold accuracy, ROC, TAR@FAR, EER, FMR calibration.

Scores are similarities (higher = more alike); -inf marks a failure to acquire and must count as a rejection.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realname.evaluation.metrics import (
    FoldResult,
    accuracy,
    best_accuracy_threshold,
    eer,
    roc,
    tar_at_far,
    tenfold_accuracy,
    threshold_for_fmr,
)

INF = float("inf")


def pairs(genuine: list[float], impostor: list[float]) -> tuple[np.ndarray, np.ndarray]:
    scores = np.array(genuine + impostor, dtype=np.float64)
    same = np.array([True] * len(genuine) + [False] * len(impostor))
    return scores, same


# --- accuracy / best threshold ----------------------------------------------------------------------------

def test_accuracy_counts_accept_at_threshold() -> None:
    s, y = pairs([0.9, 0.5], [0.5, 0.1])
    assert accuracy(s, y, 0.5) == 0.75  # >= threshold accepts: genuine 0.5 right, impostor 0.5 wrong
    assert accuracy(s, y, 0.6) == 0.75
    assert accuracy(s, y, 0.3) == 0.75
    assert accuracy(s, y, 0.0) == 0.5
    assert accuracy(s, y, 1.0) == 0.5


def test_best_threshold_separable_lies_between_classes() -> None:
    s, y = pairs([0.7, 0.8, 0.9], [0.1, 0.2, 0.4])
    t = best_accuracy_threshold(s, y)
    assert t == pytest.approx(0.55)
    assert accuracy(s, y, t) == 1.0


def test_best_threshold_all_genuine_accepts_all() -> None:
    s, y = pairs([0.3, 0.5, 0.9], [])
    t = best_accuracy_threshold(s, y)
    assert t < 0.3
    assert accuracy(s, y, t) == 1.0


def test_best_threshold_all_impostor_rejects_all() -> None:
    s, y = pairs([], [0.3, 0.5, 0.9])
    t = best_accuracy_threshold(s, y)
    assert t > 0.9
    assert accuracy(s, y, t) == 1.0


def test_best_threshold_overlap_is_optimal() -> None:
    s, y = pairs([0.3, 0.6, 0.8, 0.9], [0.1, 0.2, 0.5, 0.7])
    t = best_accuracy_threshold(s, y)
    best = max(accuracy(s, y, c) for c in np.linspace(-0.1, 1.1, 241))
    assert accuracy(s, y, t) == best == 0.75


@pytest.mark.parametrize(
    ("scores", "same", "best"),
    [
        # Impostors listed first; np.argsort keeps that order for ties in arrays this small.
        ([0.5, 0.5, 0.5], [False, False, True], 2 / 3),
        # Failures to acquire tie at the floor: best is a threshold between 0.1 and 0.9 (4/5 right).
        ([-INF, -INF, -INF, 0.1, 0.9], [False, False, True, False, True], 4 / 5),
    ],
)
def test_best_threshold_with_tied_scores_is_optimal(
    scores: list[float], same: list[bool], best: float,
) -> None:
    s, y = np.array(scores), np.array(same)
    t = best_accuracy_threshold(s, y)
    assert accuracy(s, y, t) == pytest.approx(best)


@settings(max_examples=150, deadline=None, database=None)
@given(st.lists(st.tuples(st.floats(-1, 1, allow_nan=False), st.booleans()), min_size=1, max_size=30))
def test_best_threshold_matches_brute_force_on_distinct_scores(rows: list[tuple[float, bool]]) -> None:
    scores = np.array([r[0] for r in rows])
    if len(np.unique(scores)) != len(scores):
        return  # ties are covered by test_best_threshold_with_tied_scores_is_optimal
    same = np.array([r[1] for r in rows])
    t = best_accuracy_threshold(scores, same)
    u = np.unique(scores)
    candidates = np.concatenate([[u[0] - 1], (u[:-1] + u[1:]) / 2, [u[-1] + 1]])
    best = max(accuracy(scores, same, c) for c in candidates)
    assert accuracy(scores, same, t) == pytest.approx(best)


def test_failure_to_acquire_genuine_lowers_accuracy() -> None:
    clean_s, clean_y = pairs([0.9, 0.8], [0.1, 0.2])
    s, y = pairs([0.9, -INF], [0.1, 0.2])
    assert accuracy(clean_s, clean_y, best_accuracy_threshold(clean_s, clean_y)) == 1.0
    t = best_accuracy_threshold(s, y)
    assert math.isfinite(t)
    assert accuracy(s, y, t) == 0.75  # the -inf genuine pair is an error, not dropped
    # At any threshold at all, -inf is rejected.
    for th in (-1e300, -1.0, 0.0, 0.5):
        assert accuracy(s, y, th) <= 0.75


def test_failure_to_acquire_impostor_is_a_correct_rejection() -> None:
    s, y = pairs([0.9, 0.8], [0.1, -INF])
    t = best_accuracy_threshold(s, y)
    assert accuracy(s, y, t) == 1.0
    assert len(s) == 4


def test_all_scores_failed() -> None:
    s, y = pairs([-INF], [-INF])
    t = best_accuracy_threshold(s, y)
    assert math.isfinite(t)
    assert accuracy(s, y, t) == 0.5


# --- ten folds ---------------------------------------------------------------------------------------------

def test_tenfold_separable_is_perfect_on_every_fold() -> None:
    rng = np.random.default_rng(0)
    gen = rng.uniform(0.6, 1.0, 100)
    imp = rng.uniform(-0.2, 0.4, 100)
    s, y = pairs(list(gen), list(imp))
    folds = np.arange(200) % 10
    res = tenfold_accuracy(s, y, folds)
    assert isinstance(res, FoldResult)
    assert res.accuracies == [1.0] * 10
    assert res.mean == 1.0
    assert res.std == 0.0
    assert len(res.thresholds) == 10
    assert all(0.4 <= t <= 0.6 for t in res.thresholds)


def test_tenfold_threshold_comes_from_the_other_nine_folds() -> None:
    # Folds 1..9: genuine 0.8, impostor 0.2. Fold 0: genuine 0.4, impostor 0.1 (separable on its own at 0.25,
    # but the other nine folds put the threshold at 0.5, which rejects fold 0's genuine pair).
    scores, same, folds = [], [], []
    for k in range(10):
        g, i = (0.4, 0.1) if k == 0 else (0.8, 0.2)
        scores += [g, i]
        same += [True, False]
        folds += [k, k]
    s, y, f = np.array(scores), np.array(same), np.array(folds)
    res = tenfold_accuracy(s, y, f)
    assert res.thresholds[0] == pytest.approx(0.5)
    assert res.accuracies[0] == 0.5
    assert res.accuracies[1:] == [1.0] * 9
    assert all(t == pytest.approx(0.3) for t in res.thresholds[1:])  # fold 0 is in their training set
    assert res.mean == pytest.approx(0.95)


def test_tenfold_counts_failure_to_acquire() -> None:
    rng = np.random.default_rng(1)
    gen = list(rng.uniform(0.6, 1.0, 20))
    imp = list(rng.uniform(-0.2, 0.4, 20))
    gen[3] = -INF  # fold 3
    s, y = pairs(gen, imp)
    res = tenfold_accuracy(s, y, np.arange(40) % 10)
    assert res.accuracies[3] == 0.75
    assert res.mean == pytest.approx(1 - 0.25 / 10)


# --- ROC / TAR@FAR / EER -----------------------------------------------------------------------------------

def test_roc_hand_computed() -> None:
    s, y = pairs([0.8, 0.6], [0.7, 0.2])
    far, tar, th = roc(s, y)
    np.testing.assert_allclose(th, [0.8, 0.7, 0.6, 0.2])
    np.testing.assert_allclose(tar, [0.5, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(far, [0.0, 0.5, 0.5, 1.0])


def test_roc_is_monotone() -> None:
    rng = np.random.default_rng(2)
    s = rng.normal(size=60)
    y = rng.random(60) < 0.5
    far, tar, th = roc(s, y)
    assert (np.diff(th) < 0).all()
    assert (np.diff(far) >= 0).all()
    assert (np.diff(tar) >= 0).all()


def test_tar_at_far_picks_lowest_threshold_within_far() -> None:
    s, y = pairs([0.95, 0.5], [0.9, 0.1, 0.05, 0.0])
    tar, th = tar_at_far(s, y, 0.25)
    assert tar == 1.0
    assert th == 0.5
    tar, th = tar_at_far(s, y, 0.2)  # below 1/4: no impostor may be accepted
    assert tar == 0.5
    assert th > 0.9


def test_tar_at_far_below_one_over_n_is_above_every_impostor() -> None:
    s, y = pairs([0.9, 0.8, 0.3], [0.5, 0.4, 0.1])
    tar, th = tar_at_far(s, y, 0.2)  # 3 impostors: smallest non-zero FAR is 1/3
    assert th > 0.5
    assert tar == pytest.approx(2 / 3)
    imp = s[~y]
    assert (imp < th).all()


def test_tar_at_far_when_top_score_is_an_impostor() -> None:
    s, y = pairs([0.3], [0.9, 0.1])
    tar, th = tar_at_far(s, y, 0.1)
    assert tar == 0.0
    assert (s[~y] < th).all()


def test_failure_to_acquire_genuine_lowers_tar() -> None:
    clean = pairs([0.9, 0.8], [0.1, 0.2])
    failed = pairs([0.9, -INF], [0.1, 0.2])
    assert tar_at_far(*clean, 0.0)[0] == 1.0
    assert tar_at_far(*failed, 0.0)[0] == 0.5
    assert tar_at_far(*failed, 0.5)[0] == 0.5


def test_failure_to_acquire_impostors_count_in_far_denominator() -> None:
    # 4 impostors, 2 of them failed: accepting the 0.9 one is FAR 1/4, not 1/2.
    s, y = pairs([0.95, 0.5], [0.9, 0.1, -INF, -INF])
    tar, th = tar_at_far(s, y, 0.25)
    assert (tar, th) == (1.0, 0.5)


def test_failure_to_acquire_genuine_never_accepted_in_roc() -> None:
    s, y = pairs([0.9, -INF], [0.1, 0.2])
    _, tar, _ = roc(s, y)
    assert tar.max() == 0.5
    assert tar_at_far(s, y, 1.0)[0] == 0.5


def test_eer_symmetric_hand_computed() -> None:
    # Mirror images around 0.5: at threshold 0.6 one impostor of five (0.65) is accepted and one genuine
    # of five (0.35) rejected, so FAR = FRR = 0.2.
    s, y = pairs([0.35, 0.6, 0.7, 0.8, 0.9], [0.1, 0.2, 0.3, 0.4, 0.65])
    assert eer(s, y) == pytest.approx(0.2)


def test_eer_interpolates() -> None:
    s, y = pairs([0.4, 0.6, 0.8], [0.2, 0.5, 0.7])
    assert eer(s, y) == pytest.approx(1 / 3)


def test_eer_separable_is_zero() -> None:
    s, y = pairs([0.7, 0.8, 0.9], [0.1, 0.2, 0.3])
    assert eer(s, y) == pytest.approx(0.0)


def test_eer_rises_with_failure_to_acquire() -> None:
    s, y = pairs([0.7, 0.8, 0.9, 0.95], [0.1, 0.2, 0.3, 0.4])
    s_fail = s.copy()
    s_fail[0] = -INF
    assert eer(s_fail, y) > eer(s, y)


# --- FMR calibration ---------------------------------------------------------------------------------------

def test_threshold_for_fmr_hand_computed() -> None:
    imp = np.arange(10, dtype=np.float64)  # 0..9
    t = threshold_for_fmr(imp, 0.2)
    assert (imp >= t).sum() == 2
    assert 7 < t <= 8
    t = threshold_for_fmr(imp, 0.05)  # less than one impostor: above all of them
    assert t > 9
    assert (imp >= t).sum() == 0


def test_threshold_for_fmr_empty() -> None:
    with pytest.raises(ValueError, match="no impostor"):
        threshold_for_fmr(np.array([], dtype=np.float64), 0.1)


def test_threshold_for_fmr_ignores_nothing_with_failures() -> None:
    # Failed impostor pairs count in the denominator (10 impostors): 2 of 10 may be accepted.
    imp = np.array([-INF] * 5 + [1.0, 2.0, 3.0, 4.0, 5.0])
    t = threshold_for_fmr(imp, 0.2)
    assert (imp >= t).sum() == 2
    assert math.isfinite(t)


def test_threshold_for_fmr_float_rounding() -> None:
    imp = np.arange(100, dtype=np.float64)
    t = threshold_for_fmr(imp, 0.29)
    assert (imp >= t).sum() == 29  # 29 / 100 == 0.29


scores_st = st.lists(
    st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(-INF)), min_size=1, max_size=60,
)


@settings(max_examples=300, deadline=None, database=None)
@given(scores_st, st.floats(0, 1, exclude_min=True, exclude_max=True))
def test_threshold_for_fmr_property(raw: list[float], fmr: float) -> None:
    imp = np.array(raw, dtype=np.float64)
    n = imp.size
    t = threshold_for_fmr(imp, fmr)
    assert not math.isnan(t)
    accepted = int((imp >= t).sum())
    assert accepted / n <= fmr
    # Tight: lowering the threshold to the next lower impostor score would exceed fmr. -inf (failure to
    # acquire) is rejected at every threshold, so only finite scores are candidates.
    # (Compared in counts, fmr * n, as the function does; the division edge case has its own test.)
    lower = imp[np.isfinite(imp) & (imp < t)]
    if lower.size:
        assert int((imp >= lower.max()).sum()) > fmr * n
    else:  # already at the minimum: every finite impostor score is accepted
        assert accepted == int(np.isfinite(imp).sum())
