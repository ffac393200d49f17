"""Per-blink evaluation: reading the listed blink times, matching detections to them, and the figure on
real clips (liveness/more, skipped without ../shared/data)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
from tests.support import need_data

from realname.errors import DataSourceError
from realname.evaluation.liveness.blinks import (
    TOLERANCE,
    ListedClip,
    evaluate,
    gap,
    match,
    parse_times,
    read_listing,
    score_clip,
)

# Blinks that clips.csv does not list but the frames show, checked frame by frame (eye crops with both scores):
# the listing was measured from FaceMesh landmarks and misses them. Drop an entry once clips.csv lists it; any
# other blink on a clip that lists none fails the test.
UNLISTED = {
    # both eyes shut 0.13-0.30 s, one reopens 0.1 s before the other: listed as a one-eye closure
    "KwaiVGI_LivePortrait/assets/examples/driving/d1.mp4": (0.13, 0.33),
    # both lids drop over half the iris for two frames and lift again: a partial blink
    "KwaiVGI_LivePortrait/assets/examples/driving/d8.mp4": (8.93, 9.0),
    # a full blink behind glasses, both eyes shut for two frames
    "KwaiVGI_LivePortrait/assets/examples/driving/d19.mp4": (3.3, 3.37),
    # the animation drops both lids over half the iris (an animated photo that half-blinks)
    "attack_animated_photo/tanshuai0219_EDTalk/res/demo_EDTalk_V.mp4": (5.28, 5.32),
}


def test_parse_times() -> None:
    assert parse_times("2.5s; 6.8-7.0s") == ((2.5, 2.5), (6.8, 7.0))
    assert parse_times(" 1.5-1.5s ;; 0.2s ") == ((0.2, 0.2), (1.5, 1.5))
    assert parse_times("") == ()
    with pytest.raises(ValueError, match="not a time"):
        parse_times("2.5; 3s")


def test_match_is_one_to_one_within_the_tolerance() -> None:
    listed = [(1.0, 1.1), (1.4, 1.4), (5.0, 5.2)]
    # One detection between two listed blinks finds one of them; the one 0.31 s away finds none.
    found, false = match(listed, [(1.15, 1.2), (5.51, 5.6), (9.0, 9.1)])
    assert found == [0, None, None] and false == [1, 2]
    found, false = match(listed, [(1.15, 1.2), (1.45, 1.5), (4.75, 4.8)])
    assert found == [0, 1, 2] and false == []


def test_false_blinks_say_what_they_were() -> None:
    clip = ListedClip("c.mp4", Path("c.mp4"), "genuine", blinks=((1.0, 1.0),), long_closures=((3.0, 4.0),),
                      one_eye=((6.0, 6.2),))
    scored = score_clip(clip, [(0.9, 1.0), (3.2, 3.4), (6.1, 6.1), (8.0, 8.1)])
    assert scored.recall == 1.0 and scored.missed == ()
    assert scored.false_kinds == ("long_eye_closure", "one_eye_closure", "unlisted")
    assert score_clip(clip, []).missed == ((1.0, 1.0),)


def test_listing_errors_name_the_row(tmp_path: Path) -> None:
    listing = tmp_path / "clips.csv"
    listing.write_text("rel,label,attack_type,blinks\na.mp4,genuine,,1.0s\nb.mp4,spoof,,\n")
    with pytest.raises(DataSourceError, match="row 2: label 'spoof'"):
        read_listing(listing)
    listing.write_text("rel,label,attack_type,blinks\na.mp4,genuine,,1.0s or so\n")
    with pytest.raises(DataSourceError, match="row 1"):
        read_listing(listing)


@pytest.mark.models
def test_analyzer_takes_repeated_and_backward_timestamps() -> None:
    """The landmarker refuses timestamps that do not increase; the analyzer keeps its own clock."""
    from realname.liveness.features import FrameAnalyzer

    analyzer = FrameAnalyzer()
    try:
        frame = np.full((240, 320, 3), 128, np.uint8)
        assert [analyzer.analyse(frame, t).faces for t in (1.0, 1.0, 0.5, 0.0, 2.0)] == [0] * 5
    finally:
        analyzer.close()


@pytest.mark.models
def test_analyzer_gives_blink_scores_and_the_mesh() -> None:
    from realname.liveness.features import FrameAnalyzer
    from realname.liveness.video import read_frames

    clip = need_data("liveness", "genuine", "person_b_webcam.mp4")
    analyzer = FrameAnalyzer()
    try:
        feats = [analyzer.analyse(frame, t) for frame, t in list(read_frames(clip))[:10]]
    finally:
        analyzer.close()
    f = feats[-1]
    assert f.faces == 1 and f.points is not None and f.points.shape == (478, 3)
    assert 0.0 <= f.blink_left < 0.4 and 0.0 <= f.blink_right < 0.4  # open eyes
    assert abs(f.yaw) < 15 and abs(f.pitch) < 15


SHORT = 8.0  # seconds: the clips the test runs; the whole listing (19,000 frames) is `make bench`'s figure
SHORT_FLOOR = 0.9  # the 95% is the whole listing's figure (benchmarks/blink_eval.py); a subset swings


@pytest.mark.models
def test_blink_floor_on_the_short_clips_of_liveness_more() -> None:
    """On the clips of liveness/more up to 8 s long (27 clips, 53 listed blinks): at least 90% of the listed blinks
    of the genuine clips found within 0.3 s, and no blink on a clip that lists none, genuine or animated photo,
    but those in UNLISTED."""
    listing = need_data("liveness", "more", "clips.csv")
    with listing.open(encoding="utf-8") as f:
        seconds = {r["rel"]: float(r["duration_s"]) for r in csv.DictReader(f)}
    clips = [c for c in read_listing(listing) if seconds[c.rel] <= SHORT]
    assert sum(len(c.blinks) for c in clips if c.label == "genuine") >= 40
    # Under pytest-xdist the other worker has the second core.
    reports, _ = evaluate(clips, workers=1 if os.environ.get("PYTEST_XDIST_WORKER") else 2)
    (rep,) = reports
    genuine = rep.groups["genuine"]
    misses = [f"{r.rel}: {r.missed}" for r in rep.results if r.missed]
    assert genuine.recall is not None and genuine.recall >= SHORT_FLOOR, misses
    false = [f"{r.rel}: {i}" for r in rep.results if not r.listed for i in r.false
             if r.rel not in UNLISTED or gap(i, UNLISTED[r.rel]) > TOLERANCE]
    assert not false, false
