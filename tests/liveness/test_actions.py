"""Action detection and challenge matching on synthetic feature sequences."""

from __future__ import annotations

import numpy as np

from realname.liveness.actions import detect_events, match_challenge
from realname.liveness.challenges import Action
from realname.liveness.features import FrameFeatures

FPS = 15.0


def seq(*segments: tuple[float, dict[str, float]]) -> list[FrameFeatures]:
    """Frames at FPS: each segment lasts its seconds with the given yaw/pitch/ear/mouth (default frontal)."""
    out, t = [], 0.0
    rng = np.random.default_rng(0)
    for seconds, values in segments:
        for _ in range(round(seconds * FPS)):
            ear = values.get("ear", 0.3) + float(rng.normal(0, 0.005))
            out.append(FrameFeatures(t=t, faces=1, box=(0.3, 0.2, 0.4, 0.5), yaw=values.get("yaw", 0.0),
                                     pitch=values.get("pitch", 0.0), ear_left=ear, ear_right=ear,
                                     mouth=values.get("mouth", 0.02)))
            t += 1 / FPS
    return out


FRONT: dict[str, float] = {}


def test_turns_nods_blink_mouth() -> None:
    frames = seq((1, FRONT), (0.6, {"yaw": -30}), (0.6, FRONT), (0.6, {"yaw": 30}), (0.6, FRONT),
                 (0.6, {"pitch": 20}), (0.6, FRONT), (0.6, {"pitch": -20}), (0.6, FRONT),
                 (0.2, {"ear": 0.08}), (0.6, FRONT), (0.5, {"mouth": 0.5}), (0.5, FRONT))
    got = [e.action for e in detect_events(frames)]
    assert got == [Action.TURN_LEFT, Action.TURN_RIGHT, Action.LOOK_UP, Action.LOOK_DOWN, Action.BLINK,
                   Action.OPEN_MOUTH]


def test_small_moves_are_not_actions() -> None:
    frames = seq((1, FRONT), (0.6, {"yaw": -10}), (0.6, FRONT), (0.6, {"pitch": 6}), (0.5, FRONT))
    assert detect_events(frames) == []


def test_single_frame_glitch_is_not_a_turn() -> None:
    frames = seq((1, FRONT), (1 / FPS, {"yaw": 40}), (1, FRONT))
    assert detect_events(frames) == []


def test_blink_needs_recovery() -> None:
    closed_forever = seq((1, FRONT), (1.5, {"ear": 0.05}))
    assert Action.BLINK not in [e.action for e in detect_events(closed_forever)]


def test_order_matters() -> None:
    frames = seq((1, FRONT), (0.6, {"yaw": -30}), (0.6, FRONT), (0.6, {"yaw": 30}), (0.6, FRONT))
    events = detect_events(frames)
    _, problem = match_challenge(events, [Action.TURN_LEFT, Action.TURN_RIGHT], frames)
    assert problem is None
    matched, problem = match_challenge(events, [Action.TURN_RIGHT, Action.TURN_LEFT], frames)
    assert problem == "action_missing" and matched[1] is None


def test_frontal_required_between_head_moves() -> None:
    frames = seq((1, FRONT), (0.6, {"yaw": -30}), (0.6, {"pitch": 25, "yaw": -5}), (0.6, FRONT))
    events = detect_events(frames)
    _, problem = match_challenge(events, [Action.TURN_LEFT, Action.LOOK_UP], frames)
    assert problem == "not_frontal_between"
