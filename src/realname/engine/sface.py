"""SFace embeddings (OpenCV's FaceRecognizerSF), aligned on YuNet's five landmarks.

Two templates come from here: ``sface`` (the aligned face) and ``sface_mirror`` (the same crop mirrored).
Their sum is a steadier template under small pose and lighting asymmetries (test-time augmentation); the
matcher pays for the mirror only when the plain score is not already decisive.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from realname.engine.base import DetectedFace, Template
from realname.engine.models import model_path
from realname.images import BGRImage

PLAIN = "sface"
MIRROR = "sface_mirror"


class SFaceEmbedder:
    def __init__(self) -> None:
        self._path = str(model_path("sface"))
        self._local = threading.local()  # OpenCV nets keep per-call state: one per thread

    def _net(self) -> cv2.FaceRecognizerSF:
        net = getattr(self._local, "net", None)
        if net is None:
            net = cv2.FaceRecognizerSF.create(self._path, "")
            self._local.net = net
        return net

    def align(self, image: BGRImage, face: DetectedFace) -> BGRImage:
        return np.asarray(self._net().alignCrop(image, face.as_yunet_row()), dtype=np.uint8)

    def embed(self, image: BGRImage, face: DetectedFace, *, mirror: bool = False) -> Template:
        crop = self.align(image, face)
        if mirror:
            crop = np.ascontiguousarray(crop[:, ::-1])
        vec = self._net().feature(crop).reshape(-1).astype(np.float32)
        vec /= max(float(np.linalg.norm(vec)), 1e-12)
        return Template(MIRROR if mirror else PLAIN, vec)
