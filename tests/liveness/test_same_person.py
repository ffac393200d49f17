"""The live check's same-person cutoff comes from a thresholds file (plain SFace's cosine at 10x the target
false-match rate), with its provenance, instead of a number copied by hand: a recalibration moves it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from realname.config import Settings
from realname.engine.fake import FakeEngine
from realname.faces import FaceService
from realname.images import BGRImage
from realname.live_check import FaceLiveCheck
from realname.liveness.challenges import Action
from realname.liveness.features import FrameFeatures
from realname.liveness.session import LivenessLimits, LivenessSession, packaged_same_person
from realname.verification.thresholds import load_thresholds


def test_the_default_is_the_packaged_sface_point_at_fmr_1e_3() -> None:
    th = load_thresholds()
    cut = LivenessLimits().same_person
    assert th.provenance.target_fmr == pytest.approx(1e-4)
    assert cut.value == th.point("sface").review_low and cut.fmr == pytest.approx(1e-3)
    assert round(cut.value, 4) == 0.3579  # the number the code held by hand before
    assert cut.strategy == "sface" and cut.model_sha256 == th.provenance.models["sface"]
    assert cut.dataset == th.provenance.dataset and cut.created == th.provenance.created
    assert "FMR 0.001" in cut.describe() and th.provenance.models["sface"][:12] in cut.describe()
    assert packaged_same_person() is cut  # read once


def recalibrated(tmp_path: Path, review_low: float, target_fmr: float) -> Path:
    data = json.loads(load_thresholds().model_dump_json())
    data["provenance"].update(target_fmr=target_fmr, dataset="our own pairs", created="2027-01-01T00:00:00+00:00")
    data["strategies"]["sface"]["review_low"] = review_low
    path = tmp_path / "ours.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_another_thresholds_file_moves_it(tmp_path: Path) -> None:
    path = recalibrated(tmp_path, review_low=0.3, target_fmr=1e-5)
    cut = LivenessLimits.for_thresholds(load_thresholds(path)).same_person
    assert (cut.value, cut.fmr, cut.dataset) == (0.3, pytest.approx(1e-4), "our own pairs")
    # The live check takes it from the file the matcher uses (the operator's setting).
    service = FaceService(Settings(engine="fake", thresholds_file=path), engine=FakeEngine())
    assert LivenessLimits.for_thresholds(service.thresholds).same_person == cut
    assert FaceLiveCheck(service).versions()[1].startswith("2027-01-01")


class Steady:
    """Stands in for FaceMesh: one frontal face in every frame."""

    def analyse(self, frame: BGRImage, t: float) -> FrameFeatures:
        return FrameFeatures(t=t, faces=1, box=(0.25, 0.2, 0.5, 0.6), ear_left=0.3, ear_right=0.3)

    def close(self) -> None:
        pass


def same_person_check(limits: LivenessLimits, frames: list[BGRImage]):  # type: ignore[no-untyped-def]
    session = LivenessSession([Action.BLINK], FakeEngine(), limits, analyzer=Steady())
    for i, frame in enumerate(frames):
        session.feed(frame, i / 10)
    return next(c for c in session.result().checks if c.name == "same_person")


def test_the_check_records_its_cutoff_and_where_it_came_from(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    one = rng.integers(0, 255, (120, 100, 3), dtype=np.uint8)
    same = [np.clip(one.astype(int) + rng.integers(-2, 3, one.shape), 0, 255).astype(np.uint8) for _ in range(20)]
    check = same_person_check(LivenessLimits(), same)
    assert check.passed and check.limit == packaged_same_person().value
    assert check.basis == packaged_same_person().describe()
    others = [rng.integers(0, 255, (120, 100, 3), dtype=np.uint8) for _ in range(20)]  # a new 'face' each frame
    check = same_person_check(LivenessLimits(), others)
    assert not check.passed and check.reason == "different_person"
    # A stricter calibration moves the check's limit.
    strict = LivenessLimits.for_thresholds(load_thresholds(recalibrated(tmp_path, 0.4, 1e-4)))
    check = same_person_check(strict, same)
    assert check.limit == 0.4 and check.basis is not None and "our own pairs" in check.basis
