"""Finding the challenged actions in a sequence of frame features.

Head moves are measured against the session's baseline (the median pose over the session: a customer faces
the screen most of the time, and the colours of the light check before the actions are watched holding still),
so a camera mounted a little high or a customer who holds the head slightly turned still starts from zero, and
so does a recording that begins in the middle of a move.

Blinks come from the landmarker's eye-blink blendshapes (0 open .. 1 closed): both eyes close past a closed
level, and the score stands clearly above open eyes just before and just after, within half a second. One
eye alone is a wink; longer closures are not blinks. The eye aspect ratio used before found fewer of the
listed blinks of liveness/more (90% against 96%) and six times the blinks on clips that list none
(benchmarks/blink_eval.py), so it is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from realname.liveness.challenges import Action
from realname.liveness.features import FrameFeatures

Vec = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ActionLimits:
    # Natural turns of real people (liveness/more, clips.csv) go 13-23 degrees; 12 takes them and is still three
    # times the jitter of a still head.
    turn_degrees: float = 12.0  # yaw away from the baseline that counts as a head turn
    nod_degrees: float = 10.0  # pitch away from the baseline for look up / look down
    frontal_degrees: float = 8.0  # back within this of the baseline = frontal again
    # A head move counts on the axis that moves most, or nearly most: a person turning while looking up turns
    # too (a strict "most" lost such turns), and a turn that tilts the head a little is not also a nod.
    axis_share: float = 0.75
    # Blink levels from data not used to report recall (liveness/more): the peaks of the EyeBlink8 cuts whose
    # eyes visibly close (12 of 222; 0.44-0.63) and of person A's blinks (0.49-0.62), against open eyes of
    # persons A and B and of the other cuts (at most 0.39: narrow eyes looking up or smiling sit high).
    blink_closed_score: float = 0.4  # the less closed eye's score at or above this: closed
    blink_score_rise: float = 0.25  # the peak stands this far above open eyes on both sides (seen: 0.29-0.56)
    blink_closed_seconds: float = 0.5  # longer closures are not blinks (a blink lasts 0.1-0.4 s)
    mouth_open: float = 0.35  # inner-lip gap over mouth width
    min_frames: int = 2  # a move must hold for this many frames (one frame can be a landmark glitch)


@dataclass(frozen=True)
class Event:
    action: Action
    start: float
    peak: float
    end: float
    value: float  # peak yaw/pitch change in degrees, peak blink score or mouth ratio


@dataclass(frozen=True)
class Baseline:
    yaw: float
    pitch: float
    ear_open: float
    mouth: float


def baseline(frames: Sequence[FrameFeatures], limits: ActionLimits) -> Baseline | None:
    seen = [f for f in frames if f.faces >= 1]
    if not seen:
        return None
    ears = np.array([f.ear for f in seen])
    return Baseline(
        yaw=float(np.median([f.yaw for f in seen])),
        pitch=float(np.median([f.pitch for f in seen])),
        ear_open=float(np.percentile(ears, 80)),  # the eyes are open most of the time
        mouth=float(np.median([f.mouth for f in seen])),
    )


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Index ranges [a, b] where mask holds."""
    out, start = [], None
    for i, m in enumerate(mask):
        if m and start is None:
            start = i
        elif not m and start is not None:
            out.append((start, i - 1))
            start = None
    if start is not None:
        out.append((start, len(mask) - 1))
    return out


def detect_events(frames: Sequence[FrameFeatures], limits: ActionLimits | None = None) -> list[Event]:
    """Every action seen in the frames, in time order."""
    lim = limits or ActionLimits()
    seen = [f for f in frames if f.faces >= 1]
    base = baseline(seen, lim)
    if base is None or len(seen) < 2:
        return []
    t = np.array([f.t for f in seen])
    yaw = np.array([f.yaw for f in seen]) - base.yaw
    pitch = np.array([f.pitch for f in seen]) - base.pitch
    mouth = np.array([f.mouth for f in seen])
    events: list[Event] = []

    def add(action: Action, mask: npt.NDArray[np.bool_], signal: Vec, sign: float) -> None:
        for a, b in _runs(mask):
            if b - a + 1 >= lim.min_frames:
                k = a + int(np.argmax(sign * signal[a:b + 1]))
                events.append(Event(action, float(t[a]), float(t[k]), float(t[b]), float(signal[k])))

    # Yaw > 0 is the face turning toward the image's left, i.e. the customer's right (camera not mirrored).
    # A head move counts on its dominant axis only: turning the head also tilts it a little, and the reverse.
    turning = np.abs(yaw) >= lim.axis_share * np.abs(pitch)
    nodding = np.abs(pitch) >= lim.axis_share * np.abs(yaw)
    add(Action.TURN_RIGHT, (yaw >= lim.turn_degrees) & turning, yaw, 1.0)
    add(Action.TURN_LEFT, (yaw <= -lim.turn_degrees) & turning, yaw, -1.0)
    add(Action.LOOK_UP, (pitch >= lim.nod_degrees) & nodding, pitch, 1.0)
    add(Action.LOOK_DOWN, (pitch <= -lim.nod_degrees) & nodding, pitch, -1.0)
    add(Action.OPEN_MOUTH, mouth >= max(lim.mouth_open, base.mouth + 0.2), mouth, 1.0)
    # Unlike the eye aspect ratio, the blink scores need no frontal head: a blink mid-turn scores as high as a
    # frontal one, and a pose that narrows the eyes for a while shows no drop on both sides. Looking for blinks
    # with the head near frontal only found 35 fewer of the 263 listed blinks of liveness/more, and no fewer
    # false blinks on the clips that list none.
    events.extend(_blinks(t, np.array([f.blink for f in seen]), lim))
    events.sort(key=lambda e: (e.peak, e.action.value))
    return events


def _closures(score: Vec, closed: npt.NDArray[np.bool_], rise: float) -> list[tuple[int, int]]:
    """Runs of closed frames, joined while the eyes do not open in between: a dip that stays within ``rise``
    of the lower of the two peaks is noise inside one closure, a deeper one ends a blink (two quick blinks
    stay two)."""
    out: list[tuple[int, int]] = []
    for a, b in _runs(closed):
        if out:
            pa, pb = out[-1]
            peak = min(float(score[pa:pb + 1].max()), float(score[a:b + 1].max()))
            if float(score[pb + 1:a].min()) > peak - rise:
                out[-1] = (pa, b)
                continue
        out.append((a, b))
    return out


def _blinks(t: Vec, score: Vec, lim: ActionLimits) -> list[Event]:
    """A blink: the score of the less closed eye (a wink closes only one) stays at or above the closed level
    for at most blink_closed_seconds, and within that time before and after it lies blink_score_rise below
    the peak: open eyes on both sides (or the clip's edge on one side). A pose or a smile that narrows the
    eyes to near the closed level for longer shows no such drop on both sides, so it is no blink."""
    closed = score >= lim.blink_closed_score
    span = lim.blink_closed_seconds
    out = []
    for a, b in _closures(score, closed, lim.blink_score_rise):
        if t[b] - t[a] > span:
            continue
        k = a + int(np.argmax(score[a:b + 1]))
        opened = score <= score[k] - lim.blink_score_rise
        before = opened[:a] & (t[:a] >= t[a] - span)
        after = opened[b + 1:] & (t[b + 1:] <= t[b] + span)
        if (before.any() or a == 0) and (after.any() or b == len(score) - 1) and (before.any() or after.any()):
            out.append(Event(Action.BLINK, float(t[a]), float(t[k]), float(t[b]), float(score[k])))
    return out


def frontal_between(frames: Sequence[FrameFeatures], base: Baseline, first: Action, start: float, end: float,
                    limits: ActionLimits) -> bool:
    """Did the first of two head moves end (its axis back within ``frontal_degrees`` of the baseline) at some
    frame strictly between their peaks? The other axis may already be moving: people flow from one move into the
    next, and one move held still is not two."""
    return any(start < f.t < end and f.faces >= 1 and _off_baseline(f, base, first) <= limits.frontal_degrees
               for f in frames)


def _off_baseline(frame: FrameFeatures, base: Baseline, move: Action) -> float:
    """Degrees from the baseline on the move's own axis (yaw for a turn, pitch for a nod)."""
    turn = move in (Action.TURN_LEFT, Action.TURN_RIGHT)
    return abs((frame.yaw - base.yaw) if turn else (frame.pitch - base.pitch))


def _seen_leaving(frames: Sequence[FrameFeatures], base: Baseline, move: Event, limits: ActionLimits) -> bool:
    """Was the head seen near the baseline, on the move's axis, before the move's peak?"""
    return any(f.t < move.peak and f.faces >= 1 and _off_baseline(f, base, move.action) <= limits.frontal_degrees
               for f in frames)


def match_challenge(events: Sequence[Event], challenge: Sequence[Action], frames: Sequence[FrameFeatures],
                    limits: ActionLimits | None = None) -> tuple[list[Event | None], str | None]:
    """Match the challenged actions, in order, to detected events. Returns one event (or None) per action and
    the reason code of the first problem: ``action_missing`` or ``not_frontal_between``."""
    lim = limits or ActionLimits()
    base = baseline(frames, lim)
    matched: list[Event | None] = []
    after = -np.inf
    last_head: Event | None = None
    problem: str | None = None
    for action in challenge:
        candidates = [e for e in events if e.action is action and e.start > after]
        if action.is_head_move and base is not None:
            # A move already under way when the recording starts was not seen to start: a clip cut in the middle
            # of a turn must not count the turn's tail as the first action.
            candidates = [e for e in candidates if _seen_leaving(frames, base, e, lim)]
        if action.is_head_move and last_head is not None and base is not None:
            # The first move that starts after the head came back: a customer who sets off early, or whose
            # previous move flowed into this one, and then does it properly, has done it in order.
            head = last_head
            separated = [e for e in candidates
                         if frontal_between(frames, base, head.action, head.peak, e.peak, lim)]
            if candidates and not separated:
                problem = problem or "not_frontal_between"
            candidates = separated or candidates
        found = candidates[0] if candidates else None
        matched.append(found)
        if found is None:
            problem = problem or "action_missing"
            continue
        if action.is_head_move:
            last_head = found
        after = found.peak
    return matched, problem
