"""Per-frame measurements for liveness, from MediaPipe FaceMesh in video (tracking) mode.

One :class:`FrameAnalyzer` per session: FaceMesh in video mode tracks the face from frame to frame, which is
both faster than detecting anew and steadier. Every measure is in units that do not depend on the frame size
(angles in degrees, ratios, box as fractions of the frame), so thresholds carry across cameras.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from realname.engine.mesh import LEFT_EYE, RIGHT_EYE, eye_aspect_ratio, head_pose, to_pixels
from realname.engine.quality import brightness, sharpness
from realname.images import BGRImage

# Inner lips (upper, lower) and mouth corners.
LIP_UPPER, LIP_LOWER, MOUTH_LEFT, MOUTH_RIGHT = 13, 14, 78, 308
Points = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FrameFeatures:
    t: float  # seconds from the session's first frame
    faces: int
    box: tuple[float, float, float, float] | None = None  # x, y, w, h as fractions of the frame
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    ear_left: float = 0.0
    ear_right: float = 0.0
    mouth: float = 0.0  # inner-lip gap over mouth width
    sharpness: float = 0.0
    brightness: float = 0.0
    points: Points | None = None  # 478 x 3 landmark points in pixels (kept only while the session runs)

    @property
    def ear(self) -> float:
        return (self.ear_left + self.ear_right) / 2


def mouth_opening(p: Points) -> float:
    width = float(np.linalg.norm(p[MOUTH_LEFT, :2] - p[MOUTH_RIGHT, :2]))
    return float(np.linalg.norm(p[LIP_UPPER, :2] - p[LIP_LOWER, :2]) / width) if width > 1e-6 else 0.0


def measure(points: Points, faces: int, t: float, frame: BGRImage) -> FrameFeatures:
    """Features of the first face's landmarks (pure; the analyzer supplies the landmarks)."""
    h, w = frame.shape[:2]
    x0, y0 = points[:, 0].min(), points[:, 1].min()
    x1, y1 = points[:, 0].max(), points[:, 1].max()
    yaw, pitch, roll = head_pose(points)
    xa, ya = int(max(x0, 0)), int(max(y0, 0))
    xb, yb = int(min(x1, w)), int(min(y1, h))
    sharp = bright = 0.0
    if xb - xa > 4 and yb - ya > 4:
        crop = np.asarray(cv2.resize(frame[ya:yb, xa:xb], (96, 96), interpolation=cv2.INTER_AREA), np.uint8)
        bright, sharp = brightness(crop), sharpness(crop)
    return FrameFeatures(
        t=t, faces=faces, box=(x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h),
        yaw=yaw, pitch=pitch, roll=roll,
        ear_left=eye_aspect_ratio(points, LEFT_EYE), ear_right=eye_aspect_ratio(points, RIGHT_EYE),
        mouth=mouth_opening(points), sharpness=sharp, brightness=bright, points=points,
    )


def _overlap(a: Points, b: Points) -> float:
    """Intersection over union of two landmark clouds' bounding boxes."""
    ax0, ay0, ax1, ay1 = a[:, 0].min(), a[:, 1].min(), a[:, 0].max(), a[:, 1].max()
    bx0, by0, bx1, by1 = b[:, 0].min(), b[:, 1].min(), b[:, 0].max(), b[:, 1].max()
    iw, ih = max(0.0, min(ax1, bx1) - max(ax0, bx0)), max(0.0, min(ay1, by1) - max(ay0, by0))
    inter = iw * ih
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return float(inter / union) if union > 0 else 0.0


class Analyzer(Protocol):
    """What a session needs per frame; FaceMesh below, a scripted fake in tests."""

    def analyse(self, frame: BGRImage, t: float) -> FrameFeatures: ...

    def close(self) -> None: ...


class FrameAnalyzer:
    """FaceMesh in video mode, up to two faces (so a second person in view is noticed)."""

    def __init__(self) -> None:
        from mediapipe.python.solutions import face_mesh

        self._mesh: Any = face_mesh.FaceMesh(static_image_mode=False, max_num_faces=2, refine_landmarks=True,
                                             min_detection_confidence=0.5, min_tracking_confidence=0.5)
        self._lock = threading.Lock()

    def analyse(self, frame: BGRImage, t: float) -> FrameFeatures:
        h, w = frame.shape[:2]
        with self._lock:
            result = self._mesh.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        faces = result.multi_face_landmarks or []
        if not faces:
            return FrameFeatures(t=t, faces=0)
        # The largest face is the customer's.
        clouds = [to_pixels(f.landmark, w, h) for f in faces]
        clouds.sort(key=lambda c: float(np.ptp(c[:, 0]) * np.ptp(c[:, 1])), reverse=True)
        # FaceMesh sometimes lays a second mesh over the same face (halftone, heavy JPEG): a "face" that
        # mostly overlaps the first is that glitch, not a second person.
        others = [c for c in clouds[1:] if _overlap(clouds[0], c) < 0.3]
        return measure(clouds[0], 1 + len(others), t, frame)

    def close(self) -> None:
        self._mesh.close()
