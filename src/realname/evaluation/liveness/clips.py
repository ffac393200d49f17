"""Evaluating a recorded clip: the same session the live service runs, fed from a file."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from realname.engine.base import FaceEngine
from realname.errors import ChallengeError
from realname.liveness.actions import ActionLimits, Event, detect_events
from realname.liveness.challenges import Action
from realname.liveness.features import FrameAnalyzer, FrameFeatures
from realname.liveness.light import Shown
from realname.liveness.session import LivenessLimits, LivenessResult, LivenessSession
from realname.liveness.video import read_frames

Tick = Callable[[int], None]  # told of each frame read, for a progress bar


def _none(_n: int) -> None:
    return None


def analyse_clip(path: str | Path, tick: Tick = _none) -> list[FrameFeatures]:
    analyzer = FrameAnalyzer()
    try:
        found = []
        for frame, t in read_frames(path):
            found.append(analyzer.analyse(frame, t))
            tick(1)
        return found
    finally:
        analyzer.close()


def timeline(path: str | Path, limits: ActionLimits | None = None, tick: Tick = _none) -> list[Event]:
    """The actions seen in a clip, in time order (for debugging and annotation)."""
    return detect_events(analyse_clip(path, tick), limits)


def run_clip(path: str | Path, challenge: Sequence[Action] | None, engine: FaceEngine | None,
             limits: LivenessLimits | None = None, light: Shown | None = None, tick: Tick = _none) -> LivenessResult:
    """Decide a recorded clip against ``challenge`` (default: the actions the clip shows, in order). With ``light``
    (the screen-light sequence shown, on the clip's time) the light check is on; with light and no challenge it
    decides alone."""
    if challenge is None and light is not None:
        challenge = ()
    if challenge is None:
        challenge = visible_challenge(timeline(path, tick=tick))
        if not challenge:
            raise ChallengeError(f"{Path(path).name} shows no action to check against; give --challenge",
                                 code="challenge_empty")
        # A clip recorded without a challenge has no prompts to be timely to: no action window.
        limits = replace(limits or LivenessLimits(), action_window=float("inf"))
    session = LivenessSession(challenge, engine, limits, light=light)
    try:
        for frame, t in read_frames(path):
            session.feed(frame, t)
            tick(1)
        return session.result()
    finally:
        session.close()


def visible_challenge(events: Sequence[Event]) -> tuple[Action, ...]:
    """The distinct actions a clip shows, each at its first appearance: the default challenge for a clip."""
    seen: list[Action] = []
    for e in events:
        if e.action not in seen:
            seen.append(e.action)
    return tuple(seen)
