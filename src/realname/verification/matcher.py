"""1:1 matching of an ID-document portrait against a live face, with the engine chosen by measurement.

Strategies (``Settings.engine``):
- ``sface``: SFace cosine only (fast).
- ``dlib``: dlib ResNet cosine only.
- ``fusion``: both models, z-normalised on impostor statistics and averaged with calibrated weights.
- ``cascade`` (default): SFace first; dlib is computed only when SFace's score falls between the calibrated
  fast-reject and fast-accept bounds, where fusion changes decisions. Same accuracy as fusion near the
  threshold, SFace's cost for the clear cases.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from enum import StrEnum

from realname.engine.base import DetectedFace, FaceEngine, QualityReport, Template
from realname.engine.quality import assess
from realname.engine.selection import primary_face
from realname.errors import NoFaceError
from realname.images import BGRImage
from realname.verification.thresholds import OperatingPoint, StrategyName, Thresholds


class Decision(StrEnum):
    MATCH = "match"
    NO_MATCH = "no_match"
    REVIEW = "review"

    @property
    def for_clerk(self) -> str:
        """What the counter sees: never a score (GB/T 38671), only pass / fail / review."""
        return {"match": "pass", "no_match": "fail", "review": "review"}[self.value]


def decide(score: float, point: OperatingPoint) -> Decision:
    if point.review_low <= score < point.review_high:
        return Decision.REVIEW
    return Decision.MATCH if score >= point.threshold else Decision.NO_MATCH


def models_for(strategy: StrategyName) -> tuple[str, ...]:
    return {"sface": ("sface",), "dlib": ("dlib",), "fusion": ("sface", "dlib"),
            "cascade": ("sface", "dlib")}[strategy]


@dataclass
class FaceSide:
    """One image's part of a comparison: what was found, its quality, and the templates made so far."""

    image: BGRImage
    faces: list[DetectedFace]
    face: DetectedFace
    quality: QualityReport
    templates: dict[str, Template] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class Score:
    value: float
    stage: str  # which models decided: "sface", "dlib", "fusion", "sface-fast"
    scores: dict[str, float]  # raw cosine per model


@dataclass(frozen=True)
class MatchResult:
    decision: Decision
    score: float
    strategy: StrategyName
    stage: str
    model_scores: dict[str, float]
    point: OperatingPoint
    document: QualityReport
    live: QualityReport
    seconds: float


def cascade_score(thresholds: Thresholds, sface: float, dlib: float | None) -> Score:
    """The cascade's score. On the fast path it is SFace's z-score scaled to the fused scale (what fusion
    would give if dlib agreed); that value is only ever far from the threshold, by the bounds' calibration."""
    if dlib is None:
        n = thresholds.normalisation["sface"]
        total = sum(thresholds.fusion_weights.values())
        return Score(total * (sface - n.mean) / n.std, "sface-fast", {"sface": sface})
    scores = {"sface": sface, "dlib": dlib}
    return Score(thresholds.fused(scores), "fusion", scores)


def needs_second_model(thresholds: Thresholds, sface: float) -> bool:
    return thresholds.cascade.fast_reject < sface < thresholds.cascade.fast_accept


class Matcher:
    def __init__(self, engine: FaceEngine, thresholds: Thresholds, strategy: StrategyName) -> None:
        self.engine = engine
        self.thresholds = thresholds
        self.strategy: StrategyName = strategy
        if engine.name == "fake":
            # The fake engine makes one kind of template; score it as a single model would be.
            self.strategy = "sface"
        self.point = thresholds.point(self.strategy)

    def _model(self, wanted: str) -> str:
        return "fake" if self.engine.name == "fake" else wanted

    def side(self, image: BGRImage, what: str) -> FaceSide:
        t0 = time.perf_counter()
        faces = self.engine.detect(image)
        face = primary_face(faces, image.shape[1], image.shape[0])
        quality = assess(image, faces, face, getattr(self.engine, "limits", None))
        if face is None:
            raise NoFaceError(f"no face found in the {what}: {quality.findings[0].message}")
        return FaceSide(image, faces, face, quality, seconds=time.perf_counter() - t0)

    def template(self, side: FaceSide, model: str) -> Template:
        m = self._model(model)
        if m not in side.templates:
            t0 = time.perf_counter()
            side.templates[m] = self.engine.embed(side.image, side.face, m)
            side.seconds += time.perf_counter() - t0
        return side.templates[m]

    def score(self, a: FaceSide, b: FaceSide) -> Score:
        def cos(model: str) -> float:
            return self.template(a, model).similarity(self.template(b, model))

        if self.strategy == "sface":
            s = cos("sface")
            return Score(s, "sface", {"sface": s})
        if self.strategy == "dlib":
            s = cos("dlib")
            return Score(s, "dlib", {"dlib": s})
        if self.strategy == "fusion":
            scores = {"sface": cos("sface"), "dlib": cos("dlib")}
            return Score(self.thresholds.fused(scores), "fusion", scores)
        first = cos("sface")
        second = cos("dlib") if needs_second_model(self.thresholds, first) else None
        return cascade_score(self.thresholds, first, second)

    def compare(self, document: BGRImage, live: BGRImage) -> MatchResult:
        t0 = time.perf_counter()
        doc = self.side(document, "document photo")
        cam = self.side(live, "live photo")
        s = self.score(doc, cam)
        if not math.isfinite(s.value):
            raise NoFaceError("could not compute a face template")
        return MatchResult(
            decision=decide(s.value, self.point),
            score=s.value,
            strategy=self.strategy,
            stage=s.stage,
            model_scores=s.scores,
            point=self.point,
            document=doc.quality,
            live=cam.quality,
            seconds=time.perf_counter() - t0,
        )
