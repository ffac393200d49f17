"""Dense landmarks (MediaPipe FaceMesh, 478 points with iris) for eye openness and head pose.

The mesh model ships inside the mediapipe wheel. mediapipe is imported only when a mesh is first needed:
the import alone costs about a second.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from realname.engine.base import DetectedFace
from realname.engine.quiet import native_output
from realname.images import BGRImage

# Six points per eye (corner, two upper lid, corner, two lower lid), MediaPipe's canonical indices.
RIGHT_EYE = (33, 160, 158, 133, 153, 144)
LEFT_EYE = (362, 385, 387, 263, 373, 380)
# Outer eye corners, forehead and chin: the mesh's own depth (z) along these lines gives the head pose.
RIGHT_EYE_OUTER, LEFT_EYE_OUTER, FOREHEAD, CHIN = 33, 263, 10, 152
# On frontal faces the forehead-to-chin line leans back by about this much (measured on LFW frontal photos).
PITCH_OFFSET = 9.0


def eye_aspect_ratio(points: npt.NDArray[np.float64], idx: tuple[int, ...]) -> float:
    p = points[list(idx)]
    width = float(np.linalg.norm(p[0] - p[3]))
    if width < 1e-6:
        return 0.0
    return float((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / (2.0 * width))


def head_pose(points: npt.NDArray[np.float64]) -> tuple[float, float, float]:
    """Yaw, pitch, roll in degrees from the mesh's 3-D points.

    FaceMesh estimates depth on the same scale as x, so the eye-corner line's depth slope is the yaw and
    the forehead-chin line's is the pitch, with no generic head model or camera guess (a perspective-n-point
    solve against a generic head was 15-25 degrees off on frontal LFW faces). Yaw > 0: the face turns to
    the image's left (the customer's right); pitch > 0: the chin comes up; roll > 0: the head leans to the
    image's right (clockwise).
    """
    eyes = points[LEFT_EYE_OUTER] - points[RIGHT_EYE_OUTER]
    down = points[CHIN] - points[FOREHEAD]
    yaw = math.degrees(math.atan2(eyes[2], eyes[0]))
    pitch = math.degrees(math.atan2(-down[2], down[1])) + PITCH_OFFSET
    roll = math.degrees(math.atan2(eyes[1], eyes[0]))
    return -yaw, pitch, roll


def to_pixels(landmarks: Any, width: int, height: int) -> npt.NDArray[np.float64]:
    """MediaPipe's normalised landmarks as (x, y, z) pixels; depth is on the x scale, as MediaPipe defines it."""
    return np.array([(p.x * width, p.y * height, p.z * width) for p in landmarks], dtype=np.float64)


class FaceMesh:
    """Static-image FaceMesh run on a crop around a detected face (robust for small and off-centre faces)."""

    CROP = 256

    def __init__(self) -> None:
        self._local = threading.local()

    def _process(self, rgb: npt.NDArray[Any]) -> Any:
        """This thread's mesh run on ``rgb``. A thread's first call builds its mesh and runs it with fd 2 silenced
        in one window: MediaPipe opens the graph's calculators on its own threads after the constructor returns, so
        TFLite's start-up line can come any time before the first result (a gap between two windows let it out)."""
        mesh = getattr(self._local, "mesh", None)
        if mesh is not None:
            return mesh.process(rgb)
        from mediapipe.python.solutions import face_mesh

        with native_output():
            mesh = face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True,
                                      min_detection_confidence=0.3)
            result = mesh.process(rgb)
        self._local.mesh = mesh
        return result

    def landmarks(self, image: BGRImage, face: DetectedFace) -> npt.NDArray[np.float64] | None:
        """478 (x, y, z) points in image pixels, or None when the mesh finds no face in the crop."""
        b = face.box
        side = max(b.w, b.h) * 1.8
        cx, cy = b.center
        x0, y0 = cx - side / 2, cy - side / 2
        scale = self.CROP / side
        affine = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]], dtype=np.float64)
        crop = cv2.warpAffine(image, affine, (self.CROP, self.CROP), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        result = self._process(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
        if not result.multi_face_landmarks:
            return None
        pts = to_pixels(result.multi_face_landmarks[0].landmark, self.CROP, self.CROP)
        pts[:, :2] = pts[:, :2] / scale + np.array([x0, y0])
        pts[:, 2] /= scale
        return pts

    def eye_openness(self, points: npt.NDArray[np.float64]) -> float:
        return (eye_aspect_ratio(points, RIGHT_EYE) + eye_aspect_ratio(points, LEFT_EYE)) / 2
