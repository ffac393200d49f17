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
from realname.images import BGRImage

# Six points per eye (corner, two upper lid, corner, two lower lid), MediaPipe's canonical indices.
RIGHT_EYE = (33, 160, 158, 133, 153, 144)
LEFT_EYE = (362, 385, 387, 263, 373, 380)
# Points for the head-pose solve and a generic 3-D face (millimetres) to solve against.
POSE_POINTS = (1, 152, 33, 263, 61, 291)
MODEL_3D = np.array(
    [(0.0, 0.0, 0.0), (0.0, -63.6, -12.5), (-43.3, 32.7, -26.0), (43.3, 32.7, -26.0),
     (-28.9, -28.9, -24.1), (28.9, -28.9, -24.1)],
    dtype=np.float64,
)


def eye_aspect_ratio(points: npt.NDArray[np.float64], idx: tuple[int, ...]) -> float:
    p = points[list(idx)]
    width = float(np.linalg.norm(p[0] - p[3]))
    if width < 1e-6:
        return 0.0
    return float((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / (2.0 * width))


def head_pose(points: npt.NDArray[np.float64], width: int, height: int) -> tuple[float, float, float]:
    """Yaw, pitch, roll in degrees from a perspective-n-point solve with a frontal initial guess."""
    image_pts = points[list(POSE_POINTS), :2].astype(np.float64)
    focal = float(max(width, height))
    cam = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]], dtype=np.float64)
    rvec0 = np.array([[math.pi], [0.0], [0.0]])  # facing the camera (model y up, image y down)
    tvec0 = np.array([[0.0], [0.0], [focal * 150.0 / max(width, 1)]])
    ok, rvec, _ = cv2.solvePnP(MODEL_3D, image_pts, cam, np.zeros(4), rvec0, tvec0, True,
                               cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        return 0.0, 0.0, 0.0
    rot, _ = cv2.Rodrigues(rvec)
    # Undo the 180-degree flip about x that maps the model's y-up frame to the image's y-down frame.
    rot = rot @ np.diag([1.0, -1.0, -1.0])
    sy = math.hypot(rot[0, 0], rot[1, 0])
    pitch = math.degrees(math.atan2(rot[2, 1], rot[2, 2]))
    yaw = math.degrees(math.atan2(-rot[2, 0], sy))
    roll = math.degrees(math.atan2(rot[1, 0], rot[0, 0]))
    return yaw, pitch, roll


class FaceMesh:
    """Static-image FaceMesh run on a crop around a detected face (robust for small and off-centre faces)."""

    CROP = 256

    def __init__(self) -> None:
        self._local = threading.local()

    def _mesh(self) -> Any:
        mesh = getattr(self._local, "mesh", None)
        if mesh is None:
            from mediapipe.python.solutions import face_mesh

            mesh = face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True,
                                      min_detection_confidence=0.3)
            self._local.mesh = mesh
        return mesh

    def landmarks(self, image: BGRImage, face: DetectedFace) -> npt.NDArray[np.float64] | None:
        """478 (x, y, z) points in image pixels, or None when the mesh finds no face in the crop."""
        h, w = image.shape[:2]
        b = face.box
        side = max(b.w, b.h) * 1.8
        cx, cy = b.center
        x0, y0 = cx - side / 2, cy - side / 2
        scale = self.CROP / side
        affine = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]], dtype=np.float64)
        crop = cv2.warpAffine(image, affine, (self.CROP, self.CROP), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        result = self._mesh().process(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
        if not result.multi_face_landmarks:
            return None
        lm = result.multi_face_landmarks[0].landmark
        pts = np.array([(p.x * self.CROP, p.y * self.CROP, p.z * self.CROP) for p in lm], dtype=np.float64)
        pts[:, :2] = pts[:, :2] / scale + np.array([x0, y0])
        pts[:, 2] /= scale
        return pts

    def eye_openness(self, points: npt.NDArray[np.float64]) -> float:
        return (eye_aspect_ratio(points, RIGHT_EYE) + eye_aspect_ratio(points, LEFT_EYE)) / 2
