"""dlib's ResNet face embeddings (CC0 weights from face-recognition-models).

dlib aligns with its own 5-point shape predictor, started from the YuNet box, and crops a 150x150 chip with
25% padding, the geometry the network was trained on.
"""

from __future__ import annotations

import threading

import dlib
import numpy as np
import numpy.typing as npt

from realname.engine.base import DetectedFace, Template
from realname.engine.models import model_path
from realname.images import BGRImage

MODEL = "dlib"
CHIP_SIZE = 150
CHIP_PADDING = 0.25


class DlibEmbedder:
    name = MODEL

    def __init__(self) -> None:
        self._shape = dlib.shape_predictor(str(model_path("dlib_shape5")))
        self._net = dlib.face_recognition_model_v1(str(model_path("dlib_resnet")))
        self._lock = threading.Lock()  # dlib's network object is not safe to share across threads

    def landmarks(self, rgb: npt.NDArray[np.uint8], face: DetectedFace) -> dlib.full_object_detection:
        b = face.box
        rect = dlib.rectangle(round(b.x), round(b.y), round(b.x + b.w), round(b.y + b.h))
        return self._shape(rgb, rect)

    def align(self, image: BGRImage, face: DetectedFace) -> BGRImage:
        rgb = np.ascontiguousarray(image[:, :, ::-1])
        chip = dlib.get_face_chip(rgb, self.landmarks(rgb, face), CHIP_SIZE, CHIP_PADDING)
        return np.ascontiguousarray(np.asarray(chip)[:, :, ::-1])

    def embed(self, image: BGRImage, face: DetectedFace) -> Template:
        chip_rgb = np.ascontiguousarray(self.align(image, face)[:, :, ::-1])
        with self._lock:
            vec = np.asarray(self._net.compute_face_descriptor(chip_rgb), dtype=np.float32)
        return Template(MODEL, vec)
