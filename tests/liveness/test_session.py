"""The whole live check on real clips (../shared/data/liveness) and on bad input."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from tests.support import need_data

from realname.errors import ChallengeError, VideoError
from realname.evaluation.liveness.clips import run_clip, timeline
from realname.liveness.challenges import Action
from realname.liveness.video import read_frames

pytestmark = pytest.mark.models
HERE = Path(__file__).parent
PERSON_A = ("liveness", "genuine", "person_a_turns_nods.mp4")
PERSON_A_CHALLENGE = [Action.TURN_LEFT, Action.TURN_RIGHT, Action.LOOK_DOWN, Action.LOOK_UP]


@pytest.fixture(scope="module")
def person_a_events():  # type: ignore[no-untyped-def]
    return timeline(need_data(*PERSON_A))


def test_timeline_matches_our_annotations(person_a_events) -> None:  # type: ignore[no-untyped-def]
    with (HERE / "annotations.csv").open() as f:
        notes = [r for r in csv.DictReader(f) if r["clip"] == "genuine/person_a_turns_nods.mp4"]
    for note in notes:
        start, end = float(note["start"]), float(note["end"])
        hits = [e for e in person_a_events if e.action.value == note["action"] and start - 0.3 <= e.peak <= end + 0.3]
        assert hits, f"{note['action']} at {start}-{end} s not detected"


def test_genuine_clip_passes_its_challenge(local_engine) -> None:  # type: ignore[no-untyped-def]
    result = run_clip(need_data(*PERSON_A), [*PERSON_A_CHALLENGE, Action.BLINK], local_engine)
    assert result.passed, result.as_dict()["checks"]
    names = {c.name for c in result.checks}
    assert {"actions_in_order", "3d_motion", "same_person", "one_face", "screen_or_photo_frame"} <= names
    assert result.best_frame is not None and result.score >= 0


def test_wrong_order_fails_with_a_reason(local_engine) -> None:  # type: ignore[no-untyped-def]
    result = run_clip(need_data(*PERSON_A), [Action.TURN_RIGHT, Action.TURN_LEFT], local_engine)
    assert not result.passed and "action_missing" in result.reasons


def test_screen_replay_fails(local_engine) -> None:  # type: ignore[no-untyped-def]
    clip = need_data("liveness", "attack", "person_a_screen_replay.mp4")
    result = run_clip(clip, PERSON_A_CHALLENGE, local_engine)
    assert not result.passed and result.score < 0


def test_clip_with_no_action_needs_a_challenge(local_engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ChallengeError, match="no action"):
        run_clip(need_data("liveness", "genuine", "person_b_webcam.mp4"), None, local_engine)


def test_unreadable_and_empty_video(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    for path, code in ((empty, "empty_video"), (junk, None), (tmp_path / "missing.mp4", "file_not_found")):
        with pytest.raises(VideoError) as exc:
            list(read_frames(path))
        if code:
            assert exc.value.code == code


def test_no_face_at_all_fails(tmp_path: Path) -> None:
    import cv2

    clip = tmp_path / "wall.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 15, (320, 240))
    rng = np.random.default_rng(0)
    for _ in range(30):
        writer.write(rng.integers(90, 110, (240, 320, 3), dtype=np.uint8))
    writer.release()
    result = run_clip(clip, [Action.TURN_LEFT, Action.BLINK], None)
    assert not result.passed and "no_face" in result.reasons


def test_the_frame_matched_against_the_portrait_holds_the_whole_face(local_engine) -> None:  # type: ignore[no-untyped-def]
    """Frames whose face the picture's border cuts are never the best frame while a whole face was seen: the
    compare would refuse it (a retake) although the customer stood well for most of the check."""
    from itertools import islice

    from realname.engine.quality import box_inside_share
    from realname.liveness.session import LivenessSession

    session = LivenessSession([Action.TURN_LEFT], local_engine)
    cut = 0
    for i, (frame, t) in enumerate(islice(read_frames(need_data(*PERSON_A)), 90)):
        if i % 5:  # four frames in five: the picture slides right, a third of the face past its right edge
            shifted = np.zeros_like(frame)
            shift = int(frame.shape[1] * 0.35)
            shifted[:, shift:] = frame[:, : frame.shape[1] - shift]
            frame = shifted
        features = session.feed(frame, t)
        cut += features.box is not None and box_inside_share(*features.box, 1.0, 1.0) < 0.85
    result = session.result()
    session.close()
    assert cut >= 20 and result.best_frame is not None, cut
    assert "face_cut_off" not in {f.code for f in local_engine.quality(result.best_frame).findings}
