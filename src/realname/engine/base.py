"""The face engine's small interface and the values that cross it.

A *backend* implements :class:`FaceEngine`: find faces, give their landmarks, align a face to the model's
crop, turn it into a template (embedding), and judge the image's quality. Everything else (matching, the
cascade, calibration) is written against this interface, so tests can swap in :class:`~realname.engine.fake.FakeEngine`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from realname.images import BGRImage

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def area(self) -> float:
        return self.w * self.h

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)


@dataclass(frozen=True)
class DetectedFace:
    """One face: its box, the five detector landmarks (right eye, left eye, nose tip, right and left mouth
    corner, in image coordinates, as YuNet orders them) and the detector's confidence."""

    box: Box
    landmarks: npt.NDArray[np.float32]  # shape (5, 2)
    score: float

    def as_yunet_row(self) -> npt.NDArray[np.float32]:
        b = self.box
        return np.array([b.x, b.y, b.w, b.h, *self.landmarks.reshape(-1), self.score], dtype=np.float32)

    @staticmethod
    def from_yunet_row(row: npt.NDArray[np.float32], scale: float = 1.0) -> DetectedFace:
        r = np.asarray(row, dtype=np.float32)
        x, y, w, h = (float(v) / scale for v in r[:4])
        return DetectedFace(Box(x, y, w, h), (r[4:14].reshape(5, 2) / scale).astype(np.float32), float(r[14]))


@dataclass(frozen=True)
class Template:
    """An embedding with the model that made it; only templates of the same model are comparable."""

    model: str
    vector: Vector

    def similarity(self, other: Template) -> float:
        if other.model != self.model:
            raise ValueError(f"cannot compare a {self.model} template with a {other.model} template")
        a, b = self.vector, other.vector
        denom = float(np.linalg.norm(a) * np.linalg.norm(b))
        return float(np.dot(a, b) / denom) if denom > 0 else 0.0


@dataclass(frozen=True)
class QualityFinding:
    """A reason a clerk can act on, with the measured value and the limit it broke."""

    code: str
    message: str
    value: float | None = None
    limit: float | None = None


@dataclass(frozen=True)
class QualityReport:
    faces: int
    face: DetectedFace | None
    measures: dict[str, float] = field(default_factory=dict)
    findings: tuple[QualityFinding, ...] = ()

    @property
    def acceptable(self) -> bool:
        return not self.findings

    def refusal(self, refusing: frozenset[str]) -> QualityFinding | None:
        """The first finding among ``refusing`` (codes that make the face unfit to compare), if any."""
        return next((f for f in self.findings if f.code in refusing), None)


@runtime_checkable
class FaceEngine(Protocol):
    """What every backend offers. ``models`` names the templates that :meth:`embed` can produce."""

    name: str
    models: tuple[str, ...]

    def detect(self, image: BGRImage) -> list[DetectedFace]: ...

    def landmarks(self, image: BGRImage, face: DetectedFace) -> npt.NDArray[np.float32]: ...

    def align(self, image: BGRImage, face: DetectedFace, model: str) -> BGRImage: ...

    def embed(self, image: BGRImage, face: DetectedFace, model: str) -> Template: ...

    def quality(self, image: BGRImage) -> QualityReport: ...
