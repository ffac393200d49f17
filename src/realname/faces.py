"""The face services the CLI and the API share: compare two images, judge one image's quality.

Built from :class:`~realname.config.Settings`; the engine and its models load on first use, so creating
the service (and the app) is instant.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import cached_property
from typing import Any

from realname.config import Settings
from realname.engine import build_engine
from realname.engine.base import FaceEngine, QualityReport
from realname.errors import NoFaceError
from realname.images import BGRImage, decode_image
from realname.operations import metrics
from realname.verification.matcher import FaceSide, Matcher, MatchResult
from realname.verification.thresholds import StrategyName, Thresholds, load_thresholds

# Document portraits whose face and templates are kept in memory between captures of a verification (a retake
# compares the same portrait again). Small: a counter handles one customer at a time.
PORTRAITS_KEPT = 64


class FaceService:
    def __init__(self, settings: Settings, engine: FaceEngine | None = None) -> None:
        self.settings = settings
        self._engine = engine
        self._lock = threading.Lock()
        self._portraits: OrderedDict[bytes, FaceSide] = OrderedDict()
        self._portraits_lock = threading.Lock()

    @cached_property
    def engine(self) -> FaceEngine:
        with self._lock:
            if self._engine is None:
                self._engine = build_engine("fake" if self.settings.engine == "fake" else "local")
            return self._engine

    @cached_property
    def thresholds(self) -> Thresholds:
        return load_thresholds(self.settings.thresholds_file)

    @cached_property
    def matcher(self) -> Matcher:
        # The fake engine is scored like the real default, so tests exercise the real decision path.
        strategy: StrategyName = "cascade" if self.settings.engine == "fake" else self.settings.engine
        return Matcher(self.engine, self.thresholds, strategy)

    def decode(self, data: bytes, name: str) -> BGRImage:
        return decode_image(data, name=name, max_bytes=self.settings.max_upload_bytes,
                            max_pixels=self.settings.max_image_pixels)

    def compare(self, document: BGRImage | FaceSide, live: BGRImage) -> MatchResult:
        matcher = self.matcher  # built (models loaded) outside the timing: that is start-up, not a comparison
        try:
            with metrics.timed(metrics.metrics().compare):
                return matcher.compare(document, live)
        except NoFaceError:
            metrics.count_failure_to_acquire("compare")
            raise

    def document_side(self, portrait: BGRImage) -> FaceSide:
        """The portrait's face and templates, found once for as long as it is among the last ``PORTRAITS_KEPT``
        portraits compared (keyed by a digest of its pixels; nothing is written anywhere)."""
        key = hashlib.sha256(portrait.tobytes()).digest() + repr(portrait.shape).encode()
        with self._portraits_lock:
            side = self._portraits.get(key)
            if side is not None:
                self._portraits.move_to_end(key)
                return side
        try:
            side = self.matcher.side(portrait, "document photo")  # outside the lock: other counters go on
        except NoFaceError:
            metrics.count_failure_to_acquire("compare")  # the same event compare() counts for a portrait
            raise
        with self._portraits_lock:
            self._portraits[key] = side
            while len(self._portraits) > PORTRAITS_KEPT:
                self._portraits.popitem(last=False)
        return side

    def quality(self, image: BGRImage) -> QualityReport:
        return self.engine.quality(image)


def quality_json(report: QualityReport) -> dict[str, Any]:
    return {
        "acceptable": report.acceptable,
        "faces": report.faces,
        "findings": [
            {"code": f.code, "message": f.message, "value": f.value, "limit": f.limit} for f in report.findings
        ],
        "measures": {k: round(v, 3) for k, v in report.measures.items()},
    }


def match_json(result: MatchResult, thresholds: Thresholds) -> dict[str, Any]:
    """The full record (for the audit trail and machine callers); the clerk sees only ``decision``."""
    p = result.point
    return {
        "decision": result.decision.for_clerk,
        "result": result.decision.value,
        "score": round(result.score, 6),
        "engine": result.strategy,
        "stage": result.stage,
        "model_scores": {k: round(v, 6) for k, v in result.model_scores.items()},
        "threshold": {"match_at_or_above": p.threshold, "review_from": p.review_low,
                      "review_below": p.review_high},
        "thresholds_provenance": {"dataset": thresholds.provenance.dataset,
                                  "target_fmr": thresholds.provenance.target_fmr,
                                  "created": thresholds.provenance.created},
        "quality": {"document": quality_json(result.document), "live": quality_json(result.live)},
        "elapsed_ms": round(result.seconds * 1000, 1),
    }
