"""Action detection and challenge matching on synthetic feature sequences."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from realname.liveness.actions import ActionLimits, detect_events, match_challenge
from realname.liveness.challenges import Action
from realname.liveness.features import FrameFeatures

FPS = 15.0
OPEN = 0.1  # eye-blink score of open eyes


def seq(*segments: tuple[float, dict[str, float]], fps: float = FPS, noise: float = 0.005,
        seed: int = 0) -> list[FrameFeatures]:
    """Frames at ``fps``: each segment lasts its seconds with the given yaw/pitch/ear/mouth and eye-blink scores
    (``blink`` both eyes, or ``blink_left``/``blink_right``; default frontal with open eyes)."""
    out, t = [], 0.0
    rng = np.random.default_rng(seed)
    for seconds, values in segments:
        for _ in range(round(seconds * fps)):
            ear = values.get("ear", 0.3) + float(rng.normal(0, 0.005))
            both = values.get("blink", OPEN)
            left, right = (float(np.clip(values.get(k, both) + rng.normal(0, noise), 0, 1))
                           for k in ("blink_left", "blink_right"))
            out.append(FrameFeatures(t=t, faces=1, box=(0.3, 0.2, 0.4, 0.5), yaw=values.get("yaw", 0.0),
                                     pitch=values.get("pitch", 0.0), ear_left=ear, ear_right=ear,
                                     mouth=values.get("mouth", 0.02), blink_left=left, blink_right=right))
            t += 1 / fps
    return out


def blinks(frames: list[FrameFeatures], limits: ActionLimits | None = None) -> list[float]:
    return [round(e.peak, 2) for e in detect_events(frames, limits) if e.action is Action.BLINK]


FRONT: dict[str, float] = {}


def test_turns_nods_blink_mouth() -> None:
    frames = seq((1, FRONT), (0.6, {"yaw": -30}), (0.6, FRONT), (0.6, {"yaw": 30}), (0.6, FRONT),
                 (0.6, {"pitch": 20}), (0.6, FRONT), (0.6, {"pitch": -20}), (0.6, FRONT),
                 (0.2, {"ear": 0.08, "blink": 0.6}), (0.6, FRONT), (0.5, {"mouth": 0.5}), (0.5, FRONT))
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
    closed_forever = seq((1, FRONT), (1.5, {"ear": 0.05, "blink": 0.7}))
    assert Action.BLINK not in [e.action for e in detect_events(closed_forever)]


# --- blinks from the eye-blink blendshapes -------------------------------------------------------------

@pytest.mark.parametrize("fps", [12.0, 15.0, 25.0, 30.0])
def test_blink_of_both_eyes(fps: float) -> None:
    """A 0.2 s blink is found at kiosk and camera rates, at its time."""
    assert blinks(seq((1, FRONT), (0.2, {"blink": 0.6}), (1, FRONT), fps=fps)) == [pytest.approx(1.0, abs=0.2)]


def test_single_frame_blink_counts() -> None:
    """At 15 fps the closed eyes of a quick blink may be caught in one frame only."""
    assert len(blinks(seq((1, FRONT), (1 / FPS, {"blink": 0.55}), (1, FRONT)))) == 1


def test_two_blinks_apart_are_two() -> None:
    frames = seq((1, FRONT), (0.13, {"blink": 0.6}), (0.33, FRONT), (0.13, {"blink": 0.6}), (1, FRONT), fps=30)
    assert len(blinks(frames)) == 2


def test_quick_blinks_that_reopen_stay_apart() -> None:
    """Two blinks 0.1 s apart with the eyes open between them are two, however close (expressive faces)."""
    frames = seq((1, FRONT), (0.1, {"blink": 0.7}), (0.1, {"blink": 0.2}), (0.1, {"blink": 0.7}), (1, FRONT),
                 fps=30)
    assert len(blinks(frames)) == 2


def test_wavering_closed_score_is_one_blink() -> None:
    """A blink whose score dips back under the closed level for a frame, eyes not open, is one blink."""
    frames = seq((1, FRONT), (0.1, {"blink": 0.6}), (1 / 30, {"blink": 0.38}), (0.1, {"blink": 0.55}), (1, FRONT),
                 fps=30)
    assert len(blinks(frames)) == 1


def test_wink_is_not_a_blink() -> None:
    for eye in ("blink_left", "blink_right"):
        # The other eye narrows a little in a wink, as in the one-eye closures of liveness/more.
        other = "blink_right" if eye == "blink_left" else "blink_left"
        assert blinks(seq((1, FRONT), (0.3, {eye: 0.7, other: 0.2}), (1, FRONT))) == []


def test_long_closure_is_not_a_blink() -> None:
    for seconds in (0.7, 1.0, 2.0):
        assert blinks(seq((1, FRONT), (seconds, {"blink": 0.7}), (1.5, FRONT))) == [], seconds


def test_blink_and_long_closure_apart() -> None:
    frames = seq((1, FRONT), (0.2, {"blink": 0.6}), (1, FRONT), (1.0, {"blink": 0.7}), (1, FRONT))
    assert blinks(frames) == [pytest.approx(1.07, abs=0.1)]


def test_noise_and_half_closed_eyes_are_not_blinks() -> None:
    """Score noise, and eyes that sit narrow for a while (looking up, smiling: 0.3-0.39 for narrow eyes)."""
    assert blinks(seq((6, FRONT), noise=0.05, seed=3)) == []
    assert blinks(seq((1, FRONT), (1.5, {"blink": 0.39, "pitch": 9}), (1, FRONT), noise=0.02)) == []


def test_narrow_eyes_blink_from_their_own_level() -> None:
    """Open eyes that score 0.3 still blink at 0.6; a rise of 0.15 to 0.45 is a squint, not a blink."""
    assert len(blinks(seq((1, {"blink": 0.3}), (0.2, {"blink": 0.6}), (1, {"blink": 0.3})))) == 1
    assert blinks(seq((1, {"blink": 0.3}), (0.2, {"blink": 0.45}), (1, {"blink": 0.3}))) == []


def test_blink_with_the_head_turned() -> None:
    """Blendshape blinks need no frontal head (unlike the eye aspect ratio did), and count beside the turn."""
    frames = seq((1, FRONT), (0.5, {"yaw": -30}), (0.2, {"yaw": -30, "blink": 0.6}), (0.5, {"yaw": -30}),
                 (1, FRONT))
    assert sorted(e.action.value for e in detect_events(frames)) == ["blink", "turn_left"]


def test_blink_at_the_clip_edges() -> None:
    """A clip that ends with the eyes still closing counts the blink, as it did with the eye aspect ratio."""
    assert len(blinks(seq((1, FRONT), (0.13, {"blink": 0.6})))) == 1
    assert blinks(seq((0.7, {"blink": 0.7}), (1, FRONT))) == []  # closed from the start for too long


def test_eye_aspect_ratio_alone_is_no_blink() -> None:
    """Eyelid points that come together while the blink scores stay open (a landmark glitch) are no blink."""
    assert blinks(seq((1, FRONT), (0.2, {"ear": 0.08}), (1, FRONT))) == []


def test_levels_are_settings() -> None:
    frames = seq((1, FRONT), (0.2, {"blink": 0.35}), (1, FRONT))
    assert blinks(frames) == []
    assert len(blinks(frames, ActionLimits(blink_closed_score=0.3, blink_score_rise=0.2))) == 1


def test_faceless_frames_are_skipped() -> None:
    frames = seq((1, FRONT), (0.2, {"blink": 0.6}), (1, FRONT))
    frames[3] = replace(frames[3], faces=0, blink_left=0.0, blink_right=0.0)
    assert len(blinks(frames)) == 1


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


def test_a_move_done_again_after_the_head_came_back_counts_in_order() -> None:
    # Set off into the turn while still looking up, come back, then turn properly: the later turn is matched.
    frames = seq((1, FRONT), (0.5, {"pitch": 20}), (0.5, {"pitch": 14, "yaw": 16}), (0.6, FRONT),
                 (0.6, {"yaw": 25}), (0.6, FRONT))
    events = detect_events(frames)
    assert [e.action for e in events if e.action.is_head_move].count(Action.TURN_RIGHT) == 2
    matched, problem = match_challenge(events, [Action.LOOK_UP, Action.TURN_RIGHT], frames)
    assert problem is None and matched[1] is not None and matched[1].peak > 2.5
    # Without the later turn the overlapping one is all there is, and it does not count.
    early = frames[:round(2.6 * FPS)]
    _, problem = match_challenge(detect_events(early), [Action.LOOK_UP, Action.TURN_RIGHT], early)
    assert problem == "not_frontal_between"


def test_a_turn_under_way_when_the_recording_starts_is_not_the_first_action() -> None:
    # A window cut from a recording in the middle of a right turn, then left and right again: the tail of the
    # first turn was not seen to start, so "right, then left" is not in this clip.
    frames = seq((0.4, {"yaw": 25}), (0.6, FRONT), (0.6, {"yaw": -30}), (0.6, FRONT), (0.6, {"yaw": 30}),
                 (0.6, FRONT))
    events = detect_events(frames)
    assert [e.action for e in events][:1] == [Action.TURN_RIGHT] and events[0].start == 0.0
    matched, problem = match_challenge(events, [Action.TURN_RIGHT, Action.TURN_LEFT], frames)
    assert problem == "action_missing" and matched[0] is not None and matched[0].peak > 2.0
    _, problem = match_challenge(events, [Action.TURN_LEFT, Action.TURN_RIGHT], frames)
    assert problem is None
