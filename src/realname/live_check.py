"""The live check behind one small interface: liveness on the captured frames, then the best frame against the
ID portrait. ``FaceLiveCheck`` is the real one; ``FixedLiveCheck`` returns a set outcome, for registry tests that
are about caps and records rather than faces (like the engine's FakeEngine)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from realname import reasons
from realname.errors import FaceQualityError, NoFaceError
from realname.faces import FaceService
from realname.images import BGRImage
from realname.liveness.challenges import Action
from realname.liveness.light import Shown
from realname.liveness.session import LivenessLimits, LivenessSession

Outcome = Literal["pass", "fail", "review"]


@dataclass(frozen=True)
class CheckOutcome:
    decision: Outcome
    reasons: list[str]  # reason codes, for the record and the clerk
    advice: list[str]  # what the clerk can tell the customer (English, from the reasons catalogue)
    liveness_passed: bool
    liveness_score: float | None
    match_decision: str | None
    match_score: float | None
    model_version: str
    threshold_version: str
    template: list[float] | None = field(default=None, repr=False)  # the live face's, only for opted-in retention


class LiveCheck(Protocol):
    def check(self, challenge: Sequence[Action], frames: Iterable[tuple[BGRImage, float]],
              portrait: BGRImage, keep_template: bool = False, light: Shown | None = None) -> CheckOutcome: ...


class FaceLiveCheck:
    def __init__(self, faces: FaceService) -> None:
        self.faces = faces

    def versions(self) -> tuple[str, str]:
        th = self.faces.thresholds
        digest = hashlib.sha256(th.model_dump_json().encode()).hexdigest()[:12]
        models = ",".join(f"{k}:{v[:12]}" for k, v in sorted(th.provenance.models.items()))
        return f"{self.faces.settings.engine}[{models}]", f"{th.provenance.created}#{digest}"

    def check(self, challenge: Sequence[Action], frames: Iterable[tuple[BGRImage, float]],
              portrait: BGRImage, keep_template: bool = False, light: Shown | None = None) -> CheckOutcome:
        model_version, threshold_version = self.versions()
        # The same-person cutoff comes from the thresholds file the matcher uses: one calibration for both.
        limits = LivenessLimits.for_thresholds(self.faces.thresholds)
        session = LivenessSession(challenge, self.faces.engine, limits, light=light)
        try:
            for image, t in frames:
                session.feed(image, t)
            live = session.result()
        finally:
            session.close()
        if not live.passed or live.best_frame is None:
            return CheckOutcome("fail", live.reasons or ["no_face"], live.advice, False, live.score, None, None,
                                model_version, threshold_version)
        try:
            match = self.faces.compare(self.faces.document_side(portrait), live.best_frame)
        except FaceQualityError as exc:
            if exc.photo == "live photo":  # a retake: the customer moves, nothing was decided about the face
                return CheckOutcome("fail", [exc.code], [reasons.advice(exc.code)], True, live.score, None, None,
                                    model_version, threshold_version)
            return CheckOutcome("fail", ["portrait_unusable"], [exc.message], True, live.score, None, None,
                                model_version, threshold_version)
        except NoFaceError as exc:  # its message says which photo had no usable face
            return CheckOutcome("fail", ["portrait_unusable"], [exc.message], True, live.score, None, None,
                                model_version, threshold_version)
        decision: Outcome = match.decision.for_clerk  # type: ignore[assignment]
        codes = [] if decision == "pass" else ["face_mismatch" if decision == "fail" else "match_uncertain"]
        advice = [reasons.advice(c) for c in codes]
        template = None
        if keep_template and decision == "pass" and match.live_side is not None:
            template = [float(x) for x in self.faces.matcher.template(match.live_side, "sface").vector]
        return CheckOutcome(decision, codes, advice, True, live.score, match.decision.value, match.score,
                            model_version, threshold_version, template)


class FixedLiveCheck:
    """Answers every check with the outcome it was given; reads (and counts) the frames like the real one."""

    def __init__(self, decision: Outcome = "pass", reasons: Sequence[str] = ()) -> None:
        self.decision: Outcome = decision
        self.reasons = list(reasons) or ([] if decision == "pass" else ["face_mismatch"])
        self.frames_seen = 0
        self.light: Shown | None = None  # the last check's screen-light sequence, as the service passed it

    def check(self, challenge: Sequence[Action], frames: Iterable[tuple[BGRImage, float]],
              portrait: BGRImage, keep_template: bool = False, light: Shown | None = None) -> CheckOutcome:
        self.frames_seen += sum(1 for _ in frames)
        self.light = light
        template = [1.0] + [0.0] * 127 if keep_template and self.decision == "pass" else None
        return CheckOutcome(self.decision, self.reasons, [], self.decision != "fail" or "face_mismatch" in self.reasons,
                            1.0, None, 0.9 if self.decision == "pass" else 0.1, "fixed", "fixed", template)
