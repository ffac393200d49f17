"""Decisions, the review band, fusion and the cascade on hand-made thresholds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from realname.errors import ConfigError
from realname.verification.matcher import Decision, decide
from realname.verification.scoring import combine, fused, needs_second
from realname.verification.thresholds import (
    CascadeBounds,
    Normalisation,
    OperatingPoint,
    Provenance,
    Thresholds,
    load_thresholds,
)


def make_thresholds() -> Thresholds:
    point = OperatingPoint(threshold=3.0, review_low=2.5, review_high=3.5, measured_fmr=1e-4,
                           measured_fnmr=0.02)
    return Thresholds(
        provenance=Provenance(dataset="test", genuine_pairs=1, impostor_pairs=1, target_fmr=1e-4,
                              created="2026-01-01", tool="test", models={}),
        normalisation={"sface": Normalisation(mean=0.1, std=0.1), "sface_tta": Normalisation(mean=0.1, std=0.1),
                       "dlib": Normalisation(mean=0.8, std=0.04)},
        fusion_weights={"sface_tta": 0.7, "dlib": 0.3},
        cascade=CascadeBounds(fast_reject=0.15, fast_accept=0.5),
        strategies={"sface": point, "dlib": point, "fusion": point, "cascade": point},
    )


@pytest.mark.parametrize(("score", "expected"), [
    (4.0, Decision.MATCH), (3.49, Decision.REVIEW), (3.0, Decision.REVIEW), (2.5, Decision.REVIEW),
    (2.49, Decision.NO_MATCH), (-np.inf, Decision.NO_MATCH),
])
def test_decide_with_review_band(score: float, expected: Decision) -> None:
    assert decide(score, make_thresholds().point("fusion")) is expected


def test_clerk_never_sees_match_words_or_scores() -> None:
    assert [d.for_clerk for d in Decision] == ["pass", "fail", "review"]


def test_band_must_straddle_threshold() -> None:
    with pytest.raises(ValueError):
        OperatingPoint(threshold=3.0, review_low=3.2, review_high=3.5, measured_fmr=0, measured_fnmr=0)


def test_fusion_is_weighted_z_scores() -> None:
    th = make_thresholds()
    got = fused(th, {"sface_tta": np.array([0.4]), "dlib": np.array([0.92])})
    assert got[0] == pytest.approx(0.7 * 3.0 + 0.3 * 3.0)


@given(st.floats(-1, 1), st.floats(-1, 1), st.floats(-1, 1))
def test_cascade_is_fusion_inside_the_bounds_and_sface_outside(s: float, t: float, d: float) -> None:
    th = make_thresholds()
    cos = {"sface": np.array([s]), "sface_tta": np.array([t]), "dlib": np.array([d])}
    got = combine(th, "cascade", cos)[0]
    if needs_second(th, np.array([s]))[0]:
        assert got == pytest.approx(fused(th, cos)[0])
    else:
        assert got == pytest.approx((s - 0.1) / 0.1)  # total weight 1.0 x SFace z-score


def test_failure_to_acquire_is_a_rejection() -> None:
    th = make_thresholds()
    cos = {m: np.array([-np.inf]) for m in ("sface", "sface_tta", "dlib")}
    for strategy in ("sface", "dlib", "fusion", "cascade"):
        assert combine(th, strategy, cos)[0] == -np.inf  # type: ignore[arg-type]


def test_packaged_thresholds_have_provenance() -> None:
    th = load_thresholds()
    p = th.provenance
    assert p.target_fmr == 1e-4 and "pairsDevTrain" in p.dataset
    assert p.impostor_pairs >= 100_000, "FMR 1e-4 needs far more than 10,000 impostor pairs to measure"
    assert set(p.models) >= {"yunet", "sface", "dlib_resnet"}
    for point in th.strategies.values():
        assert point.measured_fmr <= 1e-4


def test_bad_thresholds_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "t.json"
    bad.write_text('{"schema_version": 1}')
    with pytest.raises(ConfigError, match="not a valid thresholds file"):
        load_thresholds(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_thresholds(tmp_path / "missing.json")
