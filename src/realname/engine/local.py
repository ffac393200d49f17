"""The real engine: YuNet detection, SFace and dlib ResNet templates, FaceMesh for quality.

Each part loads its model on first use, so building the engine is cheap and a process that only ever needs
SFace never reads dlib's weights.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import numpy.typing as npt

from realname.engine.base import DetectedFace, QualityReport, Template
from realname.engine.dlib_resnet import DlibEmbedder
from realname.engine.mesh import FaceMesh, head_pose
from realname.engine.quality import QualityLimits, assess
from realname.engine.selection import primary_face
from realname.engine.sface import SFaceEmbedder
from realname.engine.yunet import YuNetDetector
from realname.images import BGRImage


class LocalEngine:
    name = "local"
    models: tuple[str, ...] = ("sface", "dlib")

    def __init__(self, limits: QualityLimits | None = None) -> None:
        self.limits = limits or QualityLimits()

    @cached_property
    def _detector(self) -> YuNetDetector:
        return YuNetDetector()

    @cached_property
    def _sface(self) -> SFaceEmbedder:
        return SFaceEmbedder()

    @cached_property
    def _dlib(self) -> DlibEmbedder:
        return DlibEmbedder()

    @cached_property
    def _mesh(self) -> FaceMesh:
        return FaceMesh()

    def _embedder(self, model: str) -> SFaceEmbedder | DlibEmbedder:
        if model == "sface":
            return self._sface
        if model == "dlib":
            return self._dlib
        raise ValueError(f"unknown template model {model!r}; this engine makes {self.models}")

    def detect(self, image: BGRImage) -> list[DetectedFace]:
        return self._detector.detect(image)

    def landmarks(self, image: BGRImage, face: DetectedFace) -> npt.NDArray[np.float32]:
        pts = self._mesh.landmarks(image, face)
        if pts is None:
            return face.landmarks
        return pts.astype(np.float32)

    def align(self, image: BGRImage, face: DetectedFace, model: str) -> BGRImage:
        return self._embedder(model).align(image, face)

    def embed(self, image: BGRImage, face: DetectedFace, model: str) -> Template:
        return self._embedder(model).embed(image, face)

    def quality(self, image: BGRImage) -> QualityReport:
        faces = self.detect(image)
        face = primary_face(faces, image.shape[1], image.shape[0])
        eyes: float | None = None
        pose: tuple[float, float, float] | None = None
        if face is not None:
            pts = self._mesh.landmarks(image, face)
            if pts is not None:
                eyes = self._mesh.eye_openness(pts)
                pose = head_pose(pts, image.shape[1], image.shape[0])
        return assess(image, faces, face, self.limits, eye_openness=eyes, pose=pose)
