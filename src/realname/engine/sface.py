"""SFace embeddings (OpenCV's FaceRecognizerSF), aligned on YuNet's five landmarks."""

from __future__ import annotations

import threading

import cv2
import numpy as np

from realname.engine.base import DetectedFace, Template
from realname.engine.models import model_path
from realname.images import BGRImage

MODEL = "sface"


class SFaceEmbedder:
    name = MODEL

    def __init__(self, *, flip: bool = True) -> None:
        self._path = str(model_path("sface"))
        self._flip = flip
        self._local = threading.local()

    def _net(self) -> cv2.FaceRecognizerSF:
        net = getattr(self._local, "net", None)
        if net is None:
            net = cv2.FaceRecognizerSF.create(self._path, "")
            self._local.net = net
        return net

    def align(self, image: BGRImage, face: DetectedFace) -> BGRImage:
        aligned: BGRImage = self._net().alignCrop(image, face.as_yunet_row())
        return aligned

    def embed(self, image: BGRImage, face: DetectedFace) -> Template:
        net = self._net()
        crop = self.align(image, face)
        vec = net.feature(crop).reshape(-1).astype(np.float32)
        vec /= max(float(np.linalg.norm(vec)), 1e-12)
        if self._flip:
            # Mirror test-time augmentation: the sum of a face's and its mirror's embedding is steadier
            # under small pose and lighting asymmetries.
            mirrored = net.feature(cv2.flip(crop, 1)).reshape(-1).astype(np.float32)
            vec = vec + mirrored / max(float(np.linalg.norm(mirrored)), 1e-12)
            vec /= max(float(np.linalg.norm(vec)), 1e-12)
        return Template(MODEL, vec)
