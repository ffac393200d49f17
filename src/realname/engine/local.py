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
    models: tuple[str, ...] = ("sface", "sface_mirror", "dlib")

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

    def _check(self, model: str) -> None:
        if model not in self.models:
            raise ValueError(f"unknown template model {model!r}; this engine makes {self.models}")

    def detect(self, image: BGRImage) -> list[DetectedFace]:
        return self._detector.detect(image)

    def landmarks(self, image: BGRImage, face: DetectedFace) -> npt.NDArray[np.float32]:
        pts = self._mesh.landmarks(image, face)
        if pts is None:
            return face.landmarks
        return pts.astype(np.float32)

    def align(self, image: BGRImage, face: DetectedFace, model: str) -> BGRImage:
        self._check(model)
        if model == "dlib":
            return self._dlib.align(image, face)
        return self._sface.align(image, face)

    def embed(self, image: BGRImage, face: DetectedFace, model: str) -> Template:
        self._check(model)
        if model == "dlib":
            return self._dlib.embed(image, face)
        return self._sface.embed(image, face, mirror=model == "sface_mirror")

    def quality(self, image: BGRImage) -> QualityReport:
        faces = self.detect(image)
        face = primary_face(faces, image.shape[1], image.shape[0])
        eyes: float | None = None
        pose: tuple[float, float, float] | None = None
        if face is not None:
            pts = self._mesh.landmarks(image, face)
            if pts is not None:
                eyes = self._mesh.eye_openness(pts)
                pose = head_pose(pts)
        return assess(image, faces, face, self.limits, eye_openness=eyes, pose=pose)
