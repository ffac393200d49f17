"""The default engine on real faces: an accuracy floor on a small LFW subset (the full figures come from
`make bench` and are in the README)."""

from __future__ import annotations

import cv2
import pytest
from tests.support import need_data

from realname.engine.local import LocalEngine
from realname.evaluation.pairs import load_lfw
from realname.images import read_image
from realname.verification.matcher import Decision, Matcher
from realname.verification.thresholds import load_thresholds

pytestmark = pytest.mark.models
PER_CLASS = 40


def test_cascade_accuracy_floor_on_lfw_subset() -> None:
    cv2.setNumThreads(1)
    pairs = load_lfw(need_data("lfw"))
    # Fold 5 of View 2 (not used for calibration, which is on View 1): the first genuine and impostor pairs.
    fold = [p for p in pairs.pairs if p.fold == 5]
    chosen = [p for p in fold if p.same][:PER_CLASS] + [p for p in fold if not p.same][:PER_CLASS]
    matcher = Matcher(LocalEngine(), load_thresholds(), "cascade")
    right = 0
    for p in chosen:
        decision = matcher.compare(read_image(p.left), read_image(p.right)).decision
        right += (decision is Decision.MATCH) == p.same and decision is not Decision.REVIEW
    accuracy = right / len(chosen)
    # At the packaged operating point (FMR 1e-4) with reviews counted as errors.
    assert accuracy >= 0.95, f"accuracy {accuracy:.3f} on {len(chosen)} LFW pairs"
