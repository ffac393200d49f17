"""Quality findings from pixels and landmarks (no model needed)."""

from __future__ import annotations

import numpy as np
import pytest

from realname.engine.base import Box, DetectedFace
from realname.engine.quality import QualityLimits, assess, pose_from_five


def face(x: float = 30, y: float = 20, w: float = 60, h: float = 80, roll: float = 0.0) -> DetectedFace:
    pts = np.array([(0.3, 0.4), (0.7, 0.4), (0.5, 0.6), (0.35, 0.8), (0.65, 0.8)], np.float32)
    pts = pts * np.array([w, h], np.float32) + np.array([x, y], np.float32)
    if roll:
        c = np.array([x + w / 2, y + h / 2], np.float32)
        a = np.radians(roll)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], np.float32)
        pts = (pts - c) @ rot.T + c
    return DetectedFace(Box(x, y, w, h), pts.astype(np.float32), 0.9)


def image(level: int = 128, noise: int = 40) -> np.ndarray:
    rng = np.random.default_rng(0)
    img = np.clip(rng.normal(level, noise, (140, 120, 3)), 0, 255).astype(np.uint8)
    return img


def codes(report) -> set[str]:  # type: ignore[no-untyped-def]
    return {f.code for f in report.findings}


def test_good_face_has_no_findings() -> None:
    f = face()
    assert codes(assess(image(), [f], f)) == set()


def test_no_face() -> None:
    r = assess(image(), [], None)
    assert codes(r) == {"no_face"} and not r.acceptable


@pytest.mark.parametrize(("level", "expected"), [(20, "too_dark"), (240, "too_bright")])
def test_exposure(level: int, expected: str) -> None:
    f = face()
    assert expected in codes(assess(image(level, 5), [f], f))


def test_blur() -> None:
    f = face()
    assert "blurred" in codes(assess(np.full((140, 120, 3), 128, np.uint8), [f], f))


def test_small_face() -> None:
    f = face(w=20, h=30)
    r = assess(image(), [f], f)
    assert "face_too_small" in codes(r)
    finding = next(x for x in r.findings if x.code == "face_too_small")
    assert finding.value == 30 and finding.limit == QualityLimits().min_face_height


def test_multiple_faces() -> None:
    a, b = face(), face(x=0, y=0, w=50, h=70)
    assert "multiple_faces" in codes(assess(image(), [a, b], a))


def test_tiny_background_face_is_not_a_second_person() -> None:
    a, b = face(), face(x=0, y=0, w=8, h=10)
    assert "multiple_faces" not in codes(assess(image(), [a, b], a))


def test_roll_and_yaw_from_five_points() -> None:
    assert abs(pose_from_five(face(roll=30).landmarks)[2] - 30) < 1
    f = face()
    turned = f.landmarks.copy()
    turned[2, 0] += 0.3 * 24  # nose shifted toward the image's right by 0.3 inter-ocular distances
    yaw = pose_from_five(turned)[0]
    assert -35 < yaw < -20  # turned toward the image's right: negative, as in mesh.head_pose
    assert "head_tilted_sideways" in codes(assess(image(), [face(roll=30)], face(roll=30)))


def test_eyes_closed_when_known() -> None:
    f = face()
    assert "eyes_closed" in codes(assess(image(), [f], f, eye_openness=0.05))
    assert "eyes_closed" not in codes(assess(image(), [f], f, eye_openness=0.3))
