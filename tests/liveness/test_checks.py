"""Each presentation-attack check on synthetic data, and the session's capture checks with a fake analyzer."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from tests.support import need_data

from realname.images import BGRImage
from realname.liveness.challenges import Action
from realname.liveness.checks import frame_signature, largest_jump, planar_residual
from realname.liveness.cues import framing_sides, is_framed
from realname.liveness.features import FrameFeatures
from realname.liveness.session import LivenessSession


def head_points(yaw_degrees: float) -> np.ndarray:
    """478 points on a rounded 3-D 'head' (depth varies across the face, as a real one), seen after a yaw."""
    rng = np.random.default_rng(1)
    xy = rng.uniform(-1, 1, (478, 2))
    z = 0.6 * (1 - xy[:, 0] ** 2) + 0.3 * (1 - xy[:, 1] ** 2)  # nose region stands out
    a = np.radians(yaw_degrees)
    x = xy[:, 0] * np.cos(a) + z * np.sin(a)
    return np.stack([200 + 80 * x, 200 + 100 * xy[:, 1], z], axis=1)


def test_turning_head_is_not_planar() -> None:
    assert planar_residual(head_points(0), head_points(30)) > 0.02


def test_tilted_photo_is_planar() -> None:
    flat = head_points(0)
    h = np.array([[0.8, 0.1, 30], [-0.05, 0.95, 10], [0.0008, 0.0002, 1]])
    moved = cv2.perspectiveTransform(flat[:, :2].reshape(-1, 1, 2).astype(np.float64), h).reshape(-1, 2)
    warped = np.column_stack([moved, flat[:, 2]])
    assert planar_residual(flat, warped) < 0.002


def feat(t: float, x: float = 0.4, faces: int = 1) -> FrameFeatures:
    return FrameFeatures(t=t, faces=faces, box=(x, 0.3, 0.2, 0.3) if faces else None, ear_left=0.3,
                         ear_right=0.3)


def test_cut_is_a_jump() -> None:
    smooth = [feat(i / 15, 0.4 + 0.002 * i) for i in range(15)]
    assert largest_jump(smooth, 0, 1) < 0.05
    cut = smooth[:7] + [feat(i / 15, 0.1) for i in range(7, 15)]
    assert largest_jump(cut, 0, 1) > 1.0


def test_repeated_frame_signature() -> None:
    a = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    assert frame_signature(a) == frame_signature(a.copy())
    assert frame_signature(a) != frame_signature(np.ascontiguousarray(a[::-1]))


def test_frame_around_the_face_is_seen() -> None:
    img = np.full((480, 640, 3), 150, np.uint8)
    cv2.rectangle(img, (180, 80), (460, 420), (20, 20, 20), 12)  # a phone's bezel
    cv2.ellipse(img, (320, 240), (70, 95), 0, 0, 360, (120, 140, 180), -1)
    box = (250 / 640, 145 / 480, 140 / 640, 190 / 480)
    assert framing_sides(img, box) >= 3 and is_framed(img, box)
    plain = np.full((480, 640, 3), 150, np.uint8)
    cv2.ellipse(plain, (320, 240), (70, 95), 0, 0, 360, (120, 140, 180), -1)
    assert framing_sides(plain, box) == 0 and not is_framed(plain, box)


def test_a_studio_behind_a_live_face_is_not_a_frame() -> None:
    """Pillars on both sides and a beam above (TV-studio clips of real people): three straight sides, but nothing
    straight just below the face, where a live person's neck and shoulders are and a screen has its edge."""
    img = np.full((480, 640, 3), 150, np.uint8)
    cv2.line(img, (180, 20), (180, 470), (20, 20, 20), 10)
    cv2.line(img, (460, 20), (460, 470), (20, 20, 20), 10)
    cv2.line(img, (100, 80), (540, 80), (20, 20, 20), 10)
    cv2.ellipse(img, (320, 240), (70, 95), 0, 0, 360, (120, 140, 180), -1)
    box = (250 / 640, 145 / 480, 140 / 640, 190 / 480)
    assert framing_sides(img, box) == 3 and not is_framed(img, box)


class ScriptedAnalyzer:
    """Stands in for FaceMesh: returns the features it was given, in order (a fake, not a patch)."""

    def __init__(self, features: list[FrameFeatures]) -> None:
        self._features = iter(features)

    def analyse(self, frame: BGRImage, t: float) -> FrameFeatures:
        f = next(self._features)
        return FrameFeatures(t=t, faces=f.faces, box=f.box, yaw=f.yaw, pitch=f.pitch, ear_left=f.ear_left,
                             ear_right=f.ear_right)

    def close(self) -> None:
        pass


def run(features: list[FrameFeatures], times: list[float], frames: list[BGRImage] | None = None) -> set[str]:
    session = LivenessSession([Action.TURN_LEFT], None, analyzer=ScriptedAnalyzer(features))
    rng = np.random.default_rng(0)
    for i, t in enumerate(times):
        frame = frames[i] if frames else rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
        session.feed(frame, t)
    return {c.name for c in session.result().checks if not c.passed}


def test_capture_and_presence_checks() -> None:
    n = 30
    times = [i / 15 for i in range(n)]
    ok = [feat(t) for t in times]
    assert "timestamps_increasing" in run(ok, [*times[:10], times[5], *times[11:]])
    frozen = [np.zeros((48, 64, 3), np.uint8)] * n
    assert "repeated_frames" in run(ok, times, frozen)
    two = [feat(t, faces=2) if 10 <= i < 12 else feat(t) for i, t in enumerate(times)]
    assert "one_face" in run(two, times)
    lost = [feat(t, faces=0) if 5 <= i < 20 else feat(t) for i, t in enumerate(times)]
    assert "face_in_view" in run(lost, times)
    assert "frame_rate" in run(ok, [i * 0.5 for i in range(n)])
    assert "actions_in_order" in run(ok, times)  # nobody turned


@pytest.mark.data
def test_screen_frame_is_seen_whatever_the_picture_size() -> None:
    """The screen replay's bezel is found whether the kiosk sends the recording's own 368 px or an upscaled
    640 or 1280 px picture (soft upscaled edges are looked for at a canonical face size too)."""
    from realname.liveness.features import FrameAnalyzer
    from realname.liveness.video import read_frames

    clip = need_data("liveness", "attack", "person_a_screen_replay.mp4")
    for width in (None, 640, 1280):
        analyzer, framed, seen, last = FrameAnalyzer(), 0, 0, -1.0
        for image, t in read_frames(clip, max_width=2000):
            if t > 8:
                break
            if width:
                image = cv2.resize(image, (width, round(image.shape[0] * width / image.shape[1])))
            f = analyzer.analyse(image, t)
            if f.box is None or t - last < 0.3:
                continue
            last, seen = t, seen + 1
            framed += is_framed(image, f.box)
        analyzer.close()
        assert framed / seen >= 0.3, (width, framed, seen)
