"""1:1 matching of an ID-document portrait against a live face, with the engine chosen by measurement.

Strategies (``Settings.engine``):
- ``sface``: SFace cosine only (fast).
- ``dlib``: dlib ResNet cosine only.
- ``fusion``: SFace with its mirror (test-time augmentation) and dlib, each cosine z-normalised on impostor
  statistics, then weighted (the weights and statistics come from the thresholds file).
- ``cascade`` (default): plain SFace first; the mirror and dlib are computed only when SFace's score falls
  between the calibrated fast-reject and fast-accept bounds, and then fusion decides. Fusion's accuracy
  where it matters, plain SFace's cost for the clear cases (about nine pairs in ten on LFW).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from realname.engine.base import DetectedFace, FaceEngine, QualityReport, Template
from realname.engine.quality import REFUSING, assess
from realname.engine.selection import primary_face
from realname.errors import FaceQualityError, NoFaceError
from realname.images import BGRImage
from realname.verification.scoring import STRATEGY_MODELS, combine, needs_second
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


def tta(plain: Template, mirror: Template) -> Template:
    """SFace's test-time-augmented template: the face's and its mirror's embeddings, summed."""
    v = plain.vector + mirror.vector
    return Template("sface_tta", (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32))


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
    # The live side as compared (its templates so far), so a caller that keeps a template does not redo the work.
    live_side: FaceSide | None = field(default=None, repr=False, compare=False)


class Matcher:
    def __init__(self, engine: FaceEngine, thresholds: Thresholds, strategy: StrategyName) -> None:
        self.engine = engine
        self.thresholds = thresholds
        self.strategy: StrategyName = strategy
        self.point = thresholds.point(self.strategy)

    def side(self, image: BGRImage, what: str) -> FaceSide:
        t0 = time.perf_counter()
        faces = self.engine.detect(image)
        face = primary_face(faces, image.shape[1], image.shape[0])
        quality = assess(image, faces, face, getattr(self.engine, "limits", None))
        if face is None:
            raise NoFaceError(f"no face found in the {what}: {quality.findings[0].message}")
        refused = quality.refusal(REFUSING)
        if refused is not None:  # half a face scores like another person's: ask for a retake instead
            raise FaceQualityError(f"the {what} cannot be compared: {refused.message}", code=refused.code,
                                   photo=what)
        return FaceSide(image, faces, face, quality, seconds=time.perf_counter() - t0)

    def template(self, side: FaceSide, model: str) -> Template:
        if model not in side.templates:
            t0 = time.perf_counter()
            side.templates[model] = self.engine.embed(side.image, side.face, model)
            side.seconds += time.perf_counter() - t0
        return side.templates[model]

    def score(self, a: FaceSide, b: FaceSide) -> Score:
        """Cosines for the models the strategy needs (the cascade adds its second stage only when plain
        SFace is not decisive), combined by :func:`realname.verification.scoring.combine`."""
        models = STRATEGY_MODELS[self.strategy]
        cos: dict[str, float] = {}
        if self.strategy == "cascade":
            cos["sface"] = self._cos(a, b, "sface")
            if not needs_second(self.thresholds, np.array([cos["sface"]]))[0]:
                models = ("sface",)
        for model in models:
            if model not in cos:
                cos[model] = self._cos(a, b, model)
        stage = self.strategy if self.strategy != "cascade" else (
            "fusion" if len(cos) > 1 else "sface-fast")
        arrays = {m: np.array([cos.get(m, 0.0)]) for m in models}
        value = float(combine(self.thresholds, self.strategy, arrays)[0])
        return Score(value, stage, cos)

    def _cos(self, a: FaceSide, b: FaceSide, model: str) -> float:
        if model == "sface_tta":
            return self._tta(a).similarity(self._tta(b))
        return self.template(a, model).similarity(self.template(b, model))

    def _tta(self, side: FaceSide) -> Template:
        return tta(self.template(side, "sface"), self.template(side, "sface_mirror"))

    def compare(self, document: BGRImage | FaceSide, live: BGRImage) -> MatchResult:
        """``document``: the portrait, or its side from :meth:`side` (a verification compares the same portrait
        with each capture: its face and templates are found once; templates the cascade adds are kept on it)."""
        t0 = time.perf_counter()
        doc = document if isinstance(document, FaceSide) else self.side(document, "document photo")
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
            live_side=cam,
        )
