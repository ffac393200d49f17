"""Finding the challenged actions in a sequence of frame features.

Head moves are measured against the session's baseline (the median pose of its first frontal frames), so a
camera mounted a little high or a customer who holds the head slightly turned still starts from zero.
Blinks are a dip of the eye aspect ratio below a fraction of the person's own open-eye level and its
recovery, so narrow and wide eyes are treated alike.
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
    turn_degrees: float = 15.0  # yaw away from the baseline that counts as a head turn
    nod_degrees: float = 10.0  # pitch away from the baseline for look up / look down
    frontal_degrees: float = 8.0  # back within this of the baseline = frontal again
    baseline_seconds: float = 0.5
    blink_closed_ratio: float = 0.72  # EAR below this share of the open level: eyes closing
    blink_open_ratio: float = 0.85  # and back above this share: reopened
    blink_max_seconds: float = 1.2
    mouth_open: float = 0.35  # inner-lip gap over mouth width
    min_frames: int = 2  # a move must hold for this many frames (one frame can be a landmark glitch)


@dataclass(frozen=True)
class Event:
    action: Action
    start: float
    peak: float
    end: float
    value: float  # peak yaw/pitch change in degrees, EAR dip ratio or mouth ratio


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
    start = [f for f in seen if f.t - seen[0].t <= limits.baseline_seconds] or seen[:1]
    ears = np.array([f.ear for f in seen])
    return Baseline(
        yaw=float(np.median([f.yaw for f in start])),
        pitch=float(np.median([f.pitch for f in start])),
        ear_open=float(np.percentile(ears, 80)),  # the eyes are open most of the time
        mouth=float(np.median([f.mouth for f in start])),
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
    ear = np.array([f.ear for f in seen])
    mouth = np.array([f.mouth for f in seen])
    events: list[Event] = []

    def add(action: Action, mask: npt.NDArray[np.bool_], signal: Vec, sign: float) -> None:
        for a, b in _runs(mask):
            if b - a + 1 >= lim.min_frames:
                k = a + int(np.argmax(sign * signal[a:b + 1]))
                events.append(Event(action, float(t[a]), float(t[k]), float(t[b]), float(signal[k])))

    # Yaw > 0 is the face turning toward the image's left, i.e. the customer's right (camera not mirrored).
    # A head move counts on its dominant axis only: turning the head also tilts it a little, and the reverse.
    turning, nodding = np.abs(yaw) >= np.abs(pitch), np.abs(pitch) > np.abs(yaw)
    add(Action.TURN_RIGHT, (yaw >= lim.turn_degrees) & turning, yaw, 1.0)
    add(Action.TURN_LEFT, (yaw <= -lim.turn_degrees) & turning, yaw, -1.0)
    add(Action.LOOK_UP, (pitch >= lim.nod_degrees) & nodding, pitch, 1.0)
    add(Action.LOOK_DOWN, (pitch <= -lim.nod_degrees) & nodding, pitch, -1.0)
    add(Action.OPEN_MOUTH, mouth >= max(lim.mouth_open, base.mouth + 0.2), mouth, 1.0)
    # Eye aspect ratio depends on head pose, so blinks are looked for only while the head is near frontal,
    # against the open level of the frames around them.
    still = (np.abs(yaw) < lim.frontal_degrees * 1.5) & (np.abs(pitch) < lim.frontal_degrees * 1.5)
    events.extend(_merge(_blinks(t, ear, _local_open_level(t, ear, still), still, lim), gap=0.15))
    events.sort(key=lambda e: (e.peak, e.action.value))
    return events


def _merge(events: list[Event], gap: float) -> list[Event]:
    """One blink seen as two dips a frame or two apart (a noisy landmark) is one blink."""
    out: list[Event] = []
    for e in events:
        if out and e.start - out[-1].end <= gap:
            prev = out[-1]
            deeper = e if e.value < prev.value else prev
            out[-1] = Event(e.action, prev.start, deeper.peak, e.end, deeper.value)
        else:
            out.append(e)
    return out


def _local_open_level(t: Vec, ear: Vec, still: npt.NDArray[np.bool_], window: float = 1.5) -> Vec:
    """Per frame, the open-eye level nearby: the 80th percentile of EAR over frontal frames within
    ``window`` seconds (eyes are open most of the time)."""
    overall = float(np.percentile(ear[still], 80)) if still.any() else float(np.percentile(ear, 80))
    out = np.empty_like(ear)
    for i, ti in enumerate(t):
        near = still & (np.abs(t - ti) <= window)
        local = float(np.percentile(ear[near], 80)) if near.any() else overall
        # Never adapt down to closed eyes: a long closure must not become the new "open".
        out[i] = max(local, 0.8 * overall)
    return out


def _blinks(t: Vec, ear: Vec, open_level: Vec, still: npt.NDArray[np.bool_], lim: ActionLimits) -> list[Event]:
    """A blink: with the head near frontal, EAR falls below closed_ratio x the local open level and comes back
    above open_ratio x that level within blink_max_seconds. A clip that starts or ends mid-blink still counts
    the dip when the other side shows open eyes."""
    closed = (ear < lim.blink_closed_ratio * open_level) & still
    reopened = ear >= lim.blink_open_ratio * open_level
    out = []
    for a, b in _runs(closed):
        before = np.flatnonzero(reopened[:a])
        after = np.flatnonzero(reopened[b + 1:])
        opened_before = before.size > 0 and t[a] - t[before[-1]] <= lim.blink_max_seconds
        opened_after = after.size > 0 and t[b + 1 + after[0]] - t[b] <= lim.blink_max_seconds
        bounded = (opened_before or a == 0) and (opened_after or b == len(ear) - 1)
        if bounded and (opened_before or opened_after) and t[b] - t[a] <= lim.blink_max_seconds:
            k = a + int(np.argmin(ear[a:b + 1]))
            out.append(Event(Action.BLINK, float(t[a]), float(t[k]), float(t[b]),
                             float(ear[k] / open_level[k]) if open_level[k] > 0 else 0.0))
    return out


def frontal_between(frames: Sequence[FrameFeatures], base: Baseline, start: float, end: float,
                    limits: ActionLimits) -> bool:
    """Did the head come back to frontal at some frame strictly between two head moves?"""
    return any(
        start < f.t < end and f.faces >= 1 and abs(f.yaw - base.yaw) <= limits.frontal_degrees
        and abs(f.pitch - base.pitch) <= limits.frontal_degrees
        for f in frames
    )


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
        found = next((e for e in events if e.action is action and e.start > after), None)
        matched.append(found)
        if found is None:
            problem = problem or "action_missing"
            continue
        if action.is_head_move and last_head is not None and base is not None and not frontal_between(
                frames, base, last_head.peak, found.peak, lim):
            problem = problem or "not_frontal_between"
        if action.is_head_move:
            last_head = found
        after = found.peak
    return matched, problem
