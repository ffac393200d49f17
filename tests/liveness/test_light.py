"""The screen-light check on synthetic captures: a face and a wall lit by the displayed colours as physics says
(the face near the screen takes much more of its light than the wall behind), and the attacks that do not."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from realname.errors import ChallengeError
from realname.images import BGRImage
from realname.liveness.challenges import Action
from realname.liveness.features import FrameFeatures
from realname.liveness.light import (
    PALETTE,
    SKIN_POINTS,
    Flash,
    Shown,
    decode,
    encode,
    random_flashes,
)
from realname.liveness.session import LivenessSession

W, H = 320, 240
SKIN, WALL = np.array([0.45, 0.30, 0.22]), np.array([0.30, 0.32, 0.35])  # linear RGB


def _shown(seed: int, start: float = 1.0) -> Shown:
    flashes = random_flashes(rng=random.Random(seed))  # type: ignore[arg-type]
    onsets, t = [], start
    for f in flashes:
        onsets.append(t)
        t += f.ms / 1000
    return Shown(flashes, tuple(onsets))


def _points() -> npt.NDArray[np.float64]:
    """A landmark cloud over a face ellipse centred in the frame, skin points on the cheeks and forehead."""
    rng = np.random.default_rng(0)
    angle, radius = rng.uniform(0, 2 * np.pi, 478), np.sqrt(rng.uniform(0, 1, 478))
    pts = np.stack([160 + 45 * radius * np.cos(angle), 120 + 60 * radius * np.sin(angle), np.zeros(478)], axis=1)
    for k, i in enumerate(SKIN_POINTS):
        pts[i, :2] = (160 + 22 * np.cos(k), 115 + 30 * np.sin(k))
    return pts


def _srgb(lin: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    x = np.clip(lin, 0, 1)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055) * 255


def capture(lit: Shown | None, *, face: float, wall: float, lag: float = 0.12, fps: float = 15, seconds: float = 5,
            noise: float = 2.0, seed: int = 0) -> list[tuple[BGRImage, float]]:
    """Frames of a face ellipse on a wall; the light of ``lit`` adds ``face`` and ``wall`` shares of each surface's
    own brightness, ``lag`` seconds late; a slow drift of exposure on top."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W]
    inside = ((xx - 160) / 48) ** 2 + ((yy - 120) / 64) ** 2 <= 1
    out = []
    for n in range(int(seconds * fps)):
        t = n / fps
        s = lit.colour_at(np.array([t - lag]))[0] if lit is not None else np.zeros(3)
        gain = 1.0 + 0.05 * np.sin(t)  # exposure wandering
        img = np.empty((H, W, 3))
        img[inside], img[~inside] = _srgb(gain * SKIN * (1 + face * s)), _srgb(gain * WALL * (1 + wall * s))
        img += rng.normal(0, noise, img.shape)
        out.append((np.asarray(np.clip(np.rint(img[:, :, ::-1]), 0, 255), np.uint8), t))
    return out


class Still:
    """Stands in for the landmark model: one frontal face where the ellipse is (a fake, not a patch)."""

    def __init__(self) -> None:
        self.points = _points()

    def analyse(self, frame: BGRImage, t: float) -> FrameFeatures:
        return FrameFeatures(t=t, faces=1, box=(115 / W, 60 / H, 90 / W, 120 / H), ear_left=0.3, ear_right=0.3,
                             points=self.points)

    def close(self) -> None:
        pass


def judge(frames: Sequence[tuple[BGRImage, float]], shown: Shown, clock: float = 100.0) -> dict[str, str | None]:
    """Light checks only (no actions); frames and onsets on a kiosk clock that does not start at zero."""
    reported = Shown(shown.flashes, tuple(o + clock for o in shown.onsets))
    session = LivenessSession([], None, analyzer=Still(), light=reported)
    for frame, t in frames:
        session.feed(frame, t + clock)
    checks = [c for c in session.result().checks if c.name.startswith("light")]
    assert checks
    return {c.name: (None if c.passed else c.reason) for c in checks}


def failed(result: dict[str, str | None]) -> set[str]:
    return {r for r in result.values() if r}


@pytest.mark.parametrize("seed", range(5))
def test_a_face_near_the_screen_passes(seed: int) -> None:
    shown = _shown(seed)
    assert failed(judge(capture(shown, face=0.08, wall=0.01, seed=seed), shown)) == set()


@pytest.mark.parametrize("seed", range(5))
def test_a_face_that_reflects_nothing_is_refused(seed: int) -> None:
    shown = _shown(seed)
    assert "light_response" in failed(judge(capture(None, face=0.0, wall=0.0, seed=seed), shown))


@pytest.mark.parametrize("seed", range(5))
def test_a_picture_tinted_all_over_is_refused(seed: int) -> None:
    shown = _shown(seed)
    assert failed(judge(capture(shown, face=0.08, wall=0.08, seed=seed), shown)) & {"light_response", "light_uniform"}


@pytest.mark.parametrize("seed", range(5))
def test_a_late_reflection_is_refused(seed: int) -> None:
    shown = _shown(seed)
    assert failed(judge(capture(shown, face=0.08, wall=0.01, lag=0.6, seed=seed), shown)) & {"light_lag",
                                                                                              "light_response"}


@pytest.mark.parametrize("seed", range(5))
def test_a_reflection_of_another_sequence_is_refused(seed: int) -> None:
    shown, other = _shown(seed), _shown(seed + 100)
    assert "light_response" in failed(judge(capture(other, face=0.08, wall=0.01, seed=seed), shown))


@pytest.mark.parametrize("seed", range(5))
def test_another_colouring_of_the_same_timing_does_not_fit_better_than_chance(seed: int) -> None:
    # A reflection prepared for another challenge whose colours changed at the same moments: its fit to the
    # shown sequence is one draw among other colourings, so it does not stand out from them.
    shown = _shown(seed)
    n = len(shown.flashes)
    colours = random_flashes(count=(n, n), rng=random.Random(seed + 100))  # type: ignore[arg-type]
    recoloured = Shown(tuple(Flash(c.rgb, f.ms) for c, f in zip(colours, shown.flashes, strict=True)), shown.onsets)
    assert judge(capture(recoloured, face=0.08, wall=0.01, seed=seed), shown)["light_sequence"] == "light_response"
    assert judge(capture(shown, face=0.08, wall=0.01, seed=seed), shown)["light_sequence"] is None


def test_too_few_frames_during_the_colours_is_too_short_never_a_pass() -> None:
    shown = _shown(1)
    result = judge(capture(shown, face=0.08, wall=0.01, fps=2), shown)
    assert result["light_frames"] == "too_short"
    shown_late = Shown(shown.flashes, tuple(o + 20 for o in shown.onsets))  # the colours after the capture ended
    assert judge(capture(shown, face=0.08, wall=0.01), shown_late)["light_frames"] == "too_short"


def test_colours_reported_for_other_durations_than_signed() -> None:
    shown = _shown(2)
    stretched = Shown(shown.flashes, tuple(shown.start + 0.6 * i for i in range(len(shown.flashes))))
    assert judge(capture(stretched, face=0.08, wall=0.01), stretched)["light_timing"] == "light_timing"


def test_a_reported_window_stretched_to_days_is_refused_without_fitting() -> None:
    # An insider's kiosk reports the last colour a week later and sends a frame from then: the fit's time grid
    # would span the week (over a hundred million steps, gigabytes). The durations disagree with the signed
    # ones: nothing is fitted.
    from realname.liveness.light import LightSample, measure

    shown = _shown(3)
    onsets = (*shown.onsets[:-1], 7 * 86400.0)
    samples = [LightSample(t, np.array([0.4, 0.3, 0.2]), np.array([0.3, 0.3, 0.3]))
               for t in (*np.arange(0.0, 4.0, 1 / 15), 7 * 86400.0 + 0.1)]
    m = measure(samples, Shown(shown.flashes, onsets))
    assert m.timing > 1000 and m.response == 0.0 and m.chance == 1.0


def test_a_session_needs_actions_or_light() -> None:
    with pytest.raises(ChallengeError):
        LivenessSession([], None, analyzer=Still())
    LivenessSession([Action.BLINK], None, analyzer=Still())


def test_random_sequences_vary_every_way() -> None:
    for seed in range(200):
        flashes = random_flashes(rng=random.Random(seed))  # type: ignore[arg-type]
        assert 16 <= len(flashes) <= 20 and all(120 <= f.ms <= 200 for f in flashes)
        assert all(a.rgb != b.rgb for a, b in itertools.pairwise(flashes))
        assert len({f.rgb for f in flashes if len(set(f.rgb)) > 1}) >= 4
        assert {f.rgb for f in flashes} <= set(PALETTE.values())


@given(st.lists(st.tuples(st.sampled_from(list(PALETTE.values())), st.integers(50, 2000)), min_size=2, max_size=32))
def test_encode_decode_round_trip(items: list[tuple[tuple[int, int, int], int]]) -> None:
    flashes = tuple(Flash(rgb, ms) for rgb, ms in items)
    assert decode(encode(flashes)) == flashes


@pytest.mark.parametrize("text", ["", "ff0000", "ff0000:10;00ff00:200", "red:200;00ff00:200", "ff0000:200",
                                  "ff0000:-200;00ff00:200", "FF0000:200;00ff00:200x"])
def test_decode_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError):
        decode(text)
