"""One live check: frames go in as they arrive (``feed``), the decision comes out at the end (``result``).

Every check reports its measured value and its limit, and a failed check carries a reason code a clerk can act on
(its texts are in :mod:`realname.reasons`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from realname import reasons
from realname.engine.base import FaceEngine, Template
from realname.engine.quality import QualityLimits, box_inside_share
from realname.engine.selection import primary_face
from realname.errors import ChallengeError, VideoError
from realname.images import BGRImage
from realname.liveness.actions import ActionLimits, Baseline, Event, baseline, detect_events, match_challenge
from realname.liveness.challenges import Action
from realname.liveness.checks import frame_signature, largest_jump, max_planar_residual
from realname.liveness.cues import is_framed
from realname.liveness.features import Analyzer, FrameAnalyzer, FrameFeatures
from realname.liveness.light import LightLimits, LightSample, Region, Shown, background_regions, measure, sample

if TYPE_CHECKING:
    from realname.verification.thresholds import Cutoff, Thresholds

FRONTAL_FOR_MATCHING = 15.0  # degrees of yaw + pitch from the baseline


def same_person_cutoff(thresholds: Thresholds) -> Cutoff:
    """Below this SFace cosine, two of the check's own frames are not taken for one person: the bottom of plain
    SFace's review band in ``thresholds`` (the score at 10x its target false-match rate)."""
    return thresholds.review_floor("sface")


@cache
def packaged_same_person() -> Cutoff:
    """:func:`same_person_cutoff` in the packaged thresholds file, read on first use."""
    # Imported here: the thresholds file's models need pydantic, which a live check does not otherwise load.
    from realname.verification.thresholds import load_thresholds

    return same_person_cutoff(load_thresholds())


@dataclass(frozen=True)
class LivenessLimits:
    actions: ActionLimits = field(default_factory=ActionLimits)
    action_window: float = 6.0  # seconds allowed for each action after the previous one
    max_gap: float = 0.5  # seconds the face may be lost
    min_fps: float = 5.0
    max_fps: float = 120.0
    min_frames: int = 8
    max_repeat_share: float = 0.2  # share of frames identical to the one before
    max_jump: float = 0.6  # face widths between consecutive frames, inside an action
    min_planar_residual: float = 0.012  # of face width, at the head turns' peaks
    same_person: Cutoff = field(default_factory=packaged_same_person)  # SFace cosine, from a thresholds file
    keep_every: float = 0.2  # seconds between frames kept for embeddings
    cue_every: float = 0.3  # seconds between frames checked for a screen or paper frame around the face
    max_framed_share: float = 0.3  # of the checked frames
    light: LightLimits = field(default_factory=LightLimits)

    @classmethod
    def for_thresholds(cls, thresholds: Thresholds) -> LivenessLimits:
        """The limits with the same-person cutoff of ``thresholds`` (the file the matcher uses) instead of the
        packaged one."""
        return cls(same_person=same_person_cutoff(thresholds))


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    value: float | str | None
    limit: float | str | None
    reason: str | None = None  # reason code when failed
    basis: str | None = None  # where the limit comes from, when it is calibrated elsewhere (a thresholds file)

    @property
    def margin(self) -> float:
        """How far inside (> 0) or outside (< 0) its limit the check landed, relative to the limit; checks
        without a numeric value and limit count +1 when passed and -1 when failed."""
        if (isinstance(self.value, float) and isinstance(self.limit, float) and self.limit != 0
                and math.isfinite(self.limit) and math.isfinite(self.value)):
            m = abs(self.value - self.limit) / abs(self.limit)
            return m if self.passed else -m
        return 1.0 if self.passed else -1.0


@dataclass(frozen=True)
class LivenessResult:
    passed: bool
    checks: list[Check]
    events: list[Event]
    matched: list[Event | None]
    best_frame: BGRImage | None
    best_frame_time: float | None
    frames: int

    @property
    def score(self) -> float:
        """Liveness score for DET curves: the smallest margin over the checks (>= 0 when all passed)."""
        return min((c.margin for c in self.checks), default=-1.0)

    @property
    def reasons(self) -> list[str]:
        return [c.reason for c in self.checks if not c.passed and c.reason]

    @property
    def advice(self) -> list[str]:
        return list(dict.fromkeys(reasons.advice(r) for r in self.reasons))

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "score": round(self.score, 4),
            "reasons": self.reasons,
            "advice": self.advice,
            "checks": [{"name": c.name, "passed": c.passed, "value": _round(c.value), "limit": _round(c.limit),
                        "reason": c.reason, **({"basis": c.basis} if c.basis else {})} for c in self.checks],
            "timeline": [{"action": e.action.value, "start": round(e.start, 3), "peak": round(e.peak, 3),
                          "end": round(e.end, 3), "value": round(e.value, 3)} for e in self.events],
            "best_frame_time": self.best_frame_time,
            "frames": self.frames,
        }


def _round(v: float | str | None) -> float | str | None:
    return round(v, 4) if isinstance(v, float) else v


class LivenessSession:
    """``light``: the screen-light sequence as the kiosk showed it (onsets on the frames' clock), or None when the
    light check is off. A session with light may have no actions (the light check alone, for evaluation)."""

    def __init__(self, challenge: Sequence[Action], engine: FaceEngine | None = None,
                 limits: LivenessLimits | None = None, analyzer: Analyzer | None = None,
                 light: Shown | None = None) -> None:
        self.challenge = tuple(challenge)
        self._shown = light  # on the kiosk's clock until the first frame, then on the session's
        self._light: list[LightSample] = []
        self._regions: tuple[Region, ...] | None = None
        self.engine = engine
        self.limits = limits or LivenessLimits()
        self._analyzer = analyzer or FrameAnalyzer()
        self.frames: list[FrameFeatures] = []
        self._kept: list[tuple[FrameFeatures, BGRImage]] = []
        self._signatures: list[bytes] = []
        self._t0: float | None = None
        self._last_t: float | None = None
        self._bad_timestamps = 0
        self._framing: list[bool] = []
        self._last_cue = -1e9
        if not self.challenge and light is None:
            raise ChallengeError("a live check needs at least one action in its challenge", code="challenge_empty")

    def feed(self, frame: BGRImage, timestamp: float) -> FrameFeatures:
        """Analyse one frame; ``timestamp`` in seconds (any origin, must increase)."""
        if self._t0 is None:
            self._t0 = timestamp
            if self._shown is not None:
                self._shown = Shown(self._shown.flashes, tuple(o - timestamp for o in self._shown.onsets))
        if self._last_t is not None and timestamp <= self._last_t:
            self._bad_timestamps += 1
        self._last_t = timestamp
        t = timestamp - self._t0
        features = self._analyzer.analyse(frame, t)
        self.frames.append(features)
        self._signatures.append(frame_signature(frame))
        lit = self._in_light(t)
        if lit and features.faces == 1 and features.points is not None:
            if self._regions is None:
                self._regions = background_regions(frame.shape, features.points)
            got = sample(frame, features.points, t, self._regions)
            if got is not None:
                self._light.append(got)
        # Frames under the coloured light are not used for matching: the face wears the screen's colour.
        if not lit and features.faces == 1 and (not self._kept or t - self._kept[-1][0].t >= self.limits.keep_every):
            self._kept.append((features, frame.copy()))
        if features.box is not None and t - self._last_cue >= self.limits.cue_every:
            self._framing.append(is_framed(frame, features.box))
            self._last_cue = t
        return features

    def _in_light(self, t: float) -> bool:
        """Is ``t`` (session time) within the light segment, with the margins the light check analyses?"""
        if self._shown is None:
            return False
        lim = self.limits.light
        return self._shown.start - lim.margin <= t <= self._shown.end + lim.margin + lim.max_lag

    def result(self) -> LivenessResult:
        lim = self.limits
        frames = self.frames
        checks: list[Check] = []
        if not frames:
            raise VideoError("no frames were received", code="no_frames")
        seen = [f for f in frames if f.faces >= 1]
        duration = frames[-1].t - frames[0].t
        checks.append(Check("frames", len(frames) >= lim.min_frames, float(len(frames)), float(lim.min_frames),
                            "too_short"))
        if not seen:
            checks.append(Check("face_present", False, 0.0, 1.0, "no_face"))
            return self._finish(checks, [], [None] * len(self.challenge), None)

        # Capture integrity.
        fps = (len(frames) - 1) / duration if duration > 0 else 0.0
        checks.append(Check("timestamps_increasing", self._bad_timestamps == 0, float(self._bad_timestamps), 0.0,
                            "timestamps"))
        checks.append(Check("frame_rate", lim.min_fps <= fps <= lim.max_fps, fps, f"{lim.min_fps}-{lim.max_fps}",
                            "frame_rate"))
        repeats = sum(a == b for a, b in zip(self._signatures, self._signatures[1:], strict=False))
        share = repeats / max(len(frames) - 1, 1)
        checks.append(Check("repeated_frames", share <= lim.max_repeat_share, share, lim.max_repeat_share,
                            "repeated_frames"))

        # One face, always in view.
        crowded = sum(f.faces > 1 for f in frames)
        checks.append(Check("one_face", crowded == 0, float(crowded), 0.0, "multiple_faces"))
        gap = _longest_gap(frames)
        checks.append(Check("face_in_view", gap <= lim.max_gap, gap, lim.max_gap, "face_left_frame"))

        # The screen's colours on the face.
        if self._shown is not None:
            checks.extend(self._light_checks(self._shown))

        # Actions, in order, each in its window, frontal between head moves.
        base = baseline(frames, lim.actions)
        events = detect_events(frames, lim.actions)
        matched, problem = match_challenge(events, self.challenge, frames, lim.actions)
        missing = [a.value for a, e in zip(self.challenge, matched, strict=True) if e is None]
        reason = "action_missing"
        if missing and any(Action(m).is_head_move for m in missing) and _almost_turned(frames, base, lim):
            reason = "turn_further"
        checks.append(Check("actions_in_order", not missing, ",".join(missing) or "all done",
                            ",".join(a.value for a in self.challenge), reason))
        if problem == "not_frontal_between":
            checks.append(Check("frontal_between_moves", False, "no", "yes", problem))
        slow = _slowest(matched, self._shown.end if self._shown is not None else 0.0)
        checks.append(Check("action_window", slow <= lim.action_window, slow, lim.action_window, "action_too_slow"))
        cut = max((largest_jump(frames, e.start, e.end) for e in matched if e is not None), default=0.0)
        checks.append(Check("no_cut", cut <= lim.max_jump, cut, lim.max_jump, "cut_in_video"))

        # 3-D motion during head turns.
        turns = [e for e in matched if e is not None and e.action in (Action.TURN_LEFT, Action.TURN_RIGHT)]
        if turns and base is not None:
            ref = min(seen[: max(3, len(seen) // 5)], key=lambda f: abs(f.yaw - base.yaw))
            residual = max_planar_residual(frames, ref, [e.peak for e in turns])
            checks.append(Check("3d_motion", residual >= lim.min_planar_residual, residual,
                                lim.min_planar_residual, "flat_motion"))

        # Screen or paper frame around the face (supporting evidence, checked a few times a second).
        if self._framing:
            framed = sum(self._framing) / len(self._framing)
            checks.append(Check("screen_or_photo_frame", framed <= lim.max_framed_share, framed,
                                lim.max_framed_share, "screen_or_photo"))

        # Same person at the start, during and after the actions.
        if self.engine is not None:
            sims = self._same_person(base)
            if sims is not None:
                low = min(sims)
                same = lim.same_person
                checks.append(Check("same_person", low >= same.value, low, same.value, "different_person",
                                    same.describe()))
        return self._finish(checks, events, matched, base)

    def _light_checks(self, shown: Shown) -> list[Check]:
        lim = self.limits.light
        m = measure(self._light, shown, lim)
        enough = m.frames >= lim.min_frames and m.seen >= lim.min_seen
        out = [Check("light_frames", enough, float(m.frames), float(lim.min_frames), "too_short"),
               Check("light_timing", m.timing <= lim.onset_slack, m.timing, lim.onset_slack, "light_timing")]
        if not enough or m.timing > lim.onset_slack:  # nothing was fitted
            return out
        out.append(Check("light_lag", m.later <= lim.later_by, m.lag, lim.max_lag, "light_lag"))
        out.append(Check("light_response", m.response >= lim.min_response, m.response, lim.min_response,
                         "light_response"))
        out.append(Check("light_snr", m.snr >= lim.min_snr, m.snr, lim.min_snr, "light_response"))
        out.append(Check("light_sequence", m.chance <= lim.max_chance, m.chance, lim.max_chance, "light_response"))
        out.append(Check("light_uniform", m.uniform <= lim.max_uniform, m.uniform, lim.max_uniform, "light_uniform"))
        return out

    def _finish(self, checks: list[Check], events: list[Event], matched: list[Event | None],
                base: Baseline | None) -> LivenessResult:
        best = self._best_frame(base)
        return LivenessResult(all(c.passed for c in checks), checks, events, matched,
                              best[1] if best else None, best[0].t if best else None, len(self.frames))

    def _templates(self, base: Baseline | None) -> list[Template]:
        """SFace templates of three near-frontal kept frames, early, middle and late (a face in profile or
        tilted far up or down matches itself poorly, which would look like a change of person)."""
        assert self.engine is not None
        if len(self._kept) < 2:
            return []

        def turned(item: tuple[FrameFeatures, BGRImage]) -> float:
            return _off_frontal(item[0], base)

        near = [k for k in self._kept if turned(k) <= FRONTAL_FOR_MATCHING]
        if len(near) >= 2:
            picks = [near[i] for i in sorted({0, len(near) // 2, len(near) - 1})]
        else:
            n = len(self._kept)
            thirds = [self._kept[i * n // 3:(i + 1) * n // 3] for i in range(3)]
            picks = [min(part, key=turned) for part in thirds if part]
        out = []
        for _, img in picks:
            face = primary_face(self.engine.detect(img), img.shape[1], img.shape[0])
            if face is not None:
                out.append(self.engine.embed(img, face, "sface"))
        return out

    def _same_person(self, base: Baseline | None) -> list[float] | None:
        ts = self._templates(base)
        if len(ts) < 2:
            return None
        return [a.similarity(b) for i, a in enumerate(ts) for b in ts[i + 1:]]

    def _best_frame(self, base: Baseline | None) -> tuple[FrameFeatures, BGRImage] | None:
        """The most frontal, sharpest kept frame with open eyes: the one matched against the ID portrait."""
        if not self._kept:
            return None

        def score(item: tuple[FrameFeatures, BGRImage]) -> float:
            f = item[0]
            if base is None:
                return -1e9
            eyes = 1.0 if f.blink < self.limits.actions.blink_closed_score else 0.0
            # A face cut by the border would be refused by the compare (a retake): any whole face beats it.
            whole = 0.0 if f.box is None or box_inside_share(*f.box, 1.0, 1.0) >= QualityLimits().min_box_inside \
                else -1000.0
            return whole - _off_frontal(f, base) + 10 * eyes + 100 * f.sharpness

        return max(self._kept, key=score)

    def close(self) -> None:
        self._analyzer.close()


def _off_frontal(f: FrameFeatures, base: Baseline | None) -> float:
    """Degrees of yaw plus pitch away from the session's baseline pose."""
    return 0.0 if base is None else abs(f.yaw - base.yaw) + abs(f.pitch - base.pitch)


def _longest_gap(frames: Sequence[FrameFeatures]) -> float:
    worst, last = 0.0, None
    for f in frames:
        if f.faces >= 1:
            last = f.t
        elif last is not None:
            worst = max(worst, f.t - last)
    if last is None:
        return frames[-1].t - frames[0].t
    return worst


def _slowest(matched: Sequence[Event | None], start: float = 0.0) -> float:
    """The longest wait for an action after the one before it (the first: after ``start``, when the screen's
    colours end)."""
    prev, worst = start, 0.0
    for e in matched:
        if e is not None:
            worst = max(worst, e.peak - prev)
            prev = e.peak
    return worst


def _almost_turned(frames: Sequence[FrameFeatures], base: Baseline | None, lim: LivenessLimits) -> bool:
    if base is None:
        return False
    most = max((abs(f.yaw - base.yaw) for f in frames if f.faces >= 1), default=0.0)
    return 0.5 * lim.actions.turn_degrees <= most < lim.actions.turn_degrees

