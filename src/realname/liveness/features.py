"""Per-frame measurements for liveness, from MediaPipe's face landmarker in video (tracking) mode.

One :class:`FrameAnalyzer` per session: the landmarker in video mode tracks the face from frame to frame, which
is steadier than detecting anew. It gives the same 478-point mesh as the older FaceMesh solution (same indices,
depth on the x scale), plus blendshape scores; the eye-blink ones say how closed each eyelid is, learnt from
faces rather than read off six landmark points. It costs about twice FaceMesh's time a frame
(benchmarks/blink_eval.py); the blendshapes themselves are a small part of that.

Every measure is in units that do not depend on the frame size (angles in degrees, ratios, scores, box as
fractions of the frame), so thresholds carry across cameras.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from realname.engine.mesh import LEFT_EYE, RIGHT_EYE, eye_aspect_ratio, head_pose, to_pixels
from realname.engine.quality import brightness, sharpness
from realname.engine.quiet import native_output
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
    # Blendshape eyeBlink scores, 0 open .. 1 closed; left/right are the person's own, as for ear_left/right.
    blink_left: float = 0.0
    blink_right: float = 0.0

    @property
    def ear(self) -> float:
        return (self.ear_left + self.ear_right) / 2

    @property
    def blink(self) -> float:
        """How closed the less closed eye is: a blink closes both eyes, a wink only one."""
        return min(self.blink_left, self.blink_right)


def mouth_opening(p: Points) -> float:
    width = float(np.linalg.norm(p[MOUTH_LEFT, :2] - p[MOUTH_RIGHT, :2]))
    return float(np.linalg.norm(p[LIP_UPPER, :2] - p[LIP_LOWER, :2]) / width) if width > 1e-6 else 0.0


def measure(points: Points, faces: int, t: float, frame: BGRImage, blink_left: float = 0.0,
            blink_right: float = 0.0) -> FrameFeatures:
    """Features of the first face's landmarks (pure; the analyzer supplies the landmarks and blendshapes)."""
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
        blink_left=blink_left, blink_right=blink_right,
    )


# A face under half the customer's height is someone further back in the shop (the customer sits 30-50 cm from
# the kiosk; a bystander a metre or more behind looks half the size or less); one near the customer's size is a
# second person at the counter, which the check refuses.
BYSTANDER_SCALE = 0.5


def is_second_person(customer: Points, other: Points) -> bool:
    """Does a second face mesh count as another person at the counter? Not when it mostly overlaps the customer's
    (the landmarker sometimes lays a second mesh over the same face: halftone, heavy JPEG), nor when it is much
    smaller (a bystander far behind)."""
    if _overlap(customer, other) >= 0.3:
        return False
    return bool(np.ptp(other[:, 1]) >= BYSTANDER_SCALE * np.ptp(customer[:, 1]))


def _overlap(a: Points, b: Points) -> float:
    """Intersection over union of two landmark clouds' bounding boxes."""
    ax0, ay0, ax1, ay1 = a[:, 0].min(), a[:, 1].min(), a[:, 0].max(), a[:, 1].max()
    bx0, by0, bx1, by1 = b[:, 0].min(), b[:, 1].min(), b[:, 0].max(), b[:, 1].max()
    iw, ih = max(0.0, min(ax1, bx1) - max(ax0, bx0)), max(0.0, min(ay1, by1) - max(ay0, by0))
    inter = iw * ih
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return float(inter / union) if union > 0 else 0.0


class Analyzer(Protocol):
    """What a session needs per frame; the face landmarker below, a scripted fake in tests."""

    def analyse(self, frame: BGRImage, t: float) -> FrameFeatures: ...

    def close(self) -> None: ...


# eyeBlinkLeft is the person's own left eye (mesh points 362-263, on the image's right: the eye of ear_left),
# as in ARKit's naming; checked on a one-eyed wink (liveness/more d3.mp4).
BLINK_OF_PERSON = {"eyeBlinkLeft": "left", "eyeBlinkRight": "right"}


class FrameAnalyzer:
    """MediaPipe's face landmarker in video mode, up to two faces (so a second person in view is noticed).

    The model file comes verified from its carrier package (:func:`model_bytes`) and is loaded from those
    bytes, so the file checked is the file run.
    """

    def __init__(self) -> None:
        from mediapipe.tasks.python.core.base_options import BaseOptions
        from mediapipe.tasks.python.vision import FaceLandmarker, FaceLandmarkerOptions, RunningMode

        from realname.engine.models import model_bytes

        options = FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=model_bytes("face_landmarker")),
            running_mode=RunningMode.VIDEO, num_faces=2, output_face_blendshapes=True,
            min_face_detection_confidence=0.5, min_face_presence_confidence=0.5, min_tracking_confidence=0.5,
        )
        # Built at the first frame, in the same silenced window as the first inference: TFLite's and absl's
        # start-up lines come from graph threads any time before the first result (see engine/mesh.py).
        self._create: Callable[[], Any] = lambda: FaceLandmarker.create_from_options(options)
        self._landmarker: Any = None
        self._lock = threading.Lock()
        self._last_ms = -1

    def _timestamp_ms(self, t: float) -> int:
        """The landmarker refuses a timestamp that does not increase; a session's may repeat or go back
        (the session reports that as a capture problem, so the analyzer only has to keep going)."""
        ms = max(round(t * 1000), self._last_ms + 1)
        self._last_ms = ms
        return ms

    def analyse(self, frame: BGRImage, t: float) -> FrameFeatures:
        import mediapipe as mp

        h, w = frame.shape[:2]
        image = mp.Image(image_format=mp.ImageFormat.SRGB,
                         data=np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)))
        with self._lock:
            if self._landmarker is None:
                with native_output():
                    self._landmarker = self._create()
                    result = self._landmarker.detect_for_video(image, self._timestamp_ms(t))
            else:
                result = self._landmarker.detect_for_video(image, self._timestamp_ms(t))
        faces = result.face_landmarks or []
        if not faces:
            return FrameFeatures(t=t, faces=0)
        shapes = result.face_blendshapes or [[] for _ in faces]
        clouds = [(to_pixels(f, w, h), _blinks(s)) for f, s in zip(faces, shapes, strict=True)]
        # The largest face is the customer's.
        clouds.sort(key=lambda c: float(np.ptp(c[0][:, 0]) * np.ptp(c[0][:, 1])), reverse=True)
        first, (left, right) = clouds[0]
        others = [c for c, _ in clouds[1:] if is_second_person(first, c)]
        return measure(first, 1 + len(others), t, frame, left, right)

    def close(self) -> None:
        with self._lock:
            if self._landmarker is not None:
                self._landmarker.close()
                self._landmarker = None


def _blinks(categories: Any) -> tuple[float, float]:
    """The person's (left, right) eye-blink scores from one face's blendshapes."""
    score = {"left": 0.0, "right": 0.0}
    for c in categories:
        side = BLINK_OF_PERSON.get(c.category_name)
        if side is not None:
            score[side] = float(c.score)
    return score["left"], score["right"]
