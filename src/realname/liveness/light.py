"""The screen-light check: the kiosk lights the face with a random colour sequence, and a live face reflects it.

A face 30-50 cm from the kiosk's screen takes on the screen's colour; the wall behind it, several times further
away, hardly does. A photo animated by a model, a replayed video or a face re-enacted from the attacker's head
cannot reflect a sequence drawn at random by the server at the moment of capture. The server draws the sequence
(:func:`random_flashes`) and signs it into the challenge; the kiosk shows it around the oval and reports when
each colour actually appeared, on the clock of its frame timestamps.

Per frame (:func:`sample`): the mean linear colour of skin patches (forehead, cheeks, nose bridge, placed by the
landmarks) and of the background beside the head at the same height. The signal is the face's log colour minus
the background's, in chromaticity (each channel minus the mean of the three): the camera's exposure and white
balance multiply face and background alike and cancel, and shading or expression changes all channels alike and
cancel too. What is left follows the displayed chromaticity, a little later (display and camera latency).

Before the fit, the level, slow changes (below ``slow_hz``: a head moving or talking) and the face's position
and size are regressed out of every series. The decision (the session's light checks, on :func:`measure`'s
figures): the response must come within a short window after each colour appeared, no lag beyond it fitting
clearly better (``light_lag``: an attacker reacting to the screen is late); the face must take at least a few
percent of the screen's colour, the fit must stand above the noise, and the shown sequence must fit better than
other colourings of the same timing would (``light_response``: a pre-rendered face takes none, a reflection of
another sequence fits poorly or no better than chance); and the face alone must respond clearly more than the
background alone (``light_uniform``: a tinted injected picture, or a phone or monitor held up to the camera,
colours its glass evenly, face and background
alike). Too few frames during the colours is ``too_short``, never a pass.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from realname.images import BGRImage

RGB = tuple[int, int, int]
Vec = npt.NDArray[np.float64]

# Saturated colours and black/white: chromaticity comes from the first six, a luminance step from the last two.
PALETTE: dict[str, RGB] = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "cyan": (0, 255, 255),
                           "magenta": (255, 0, 255), "yellow": (255, 255, 0), "white": (255, 255, 255),
                           "black": (0, 0, 0)}
NEUTRAL: RGB = (128, 128, 128)  # what the kiosk shows just before and after the colours
_HUES = frozenset(rgb for rgb in PALETTE.values() if len(set(rgb)) > 1)

# Skin patches: MediaPipe mesh indices of the forehead centre and sides, both cheeks and the nose bridge. Lips,
# eyes and brows are left out: they move with expressions and carry their own colour.
SKIN_POINTS = (151, 108, 337, 50, 280, 205, 425, 197)
PATCH = 0.07  # patch radius, as a share of the face's width
_EPS = 1.0 / 255.0


@dataclass(frozen=True)
class Flash:
    """One colour of the sequence and how long the kiosk shows it."""

    rgb: RGB
    ms: int

    @property
    def hex(self) -> str:
        return "{:02x}{:02x}{:02x}".format(*self.rgb)


# 16-20 colours of 120-200 ms (about 3 s): each colour is one more independent sample of the face's response, and
# with ten-odd colours in a two-dimensional chromaticity plane another sequence fitted the shown one by chance.
def random_flashes(count: tuple[int, int] = (16, 20), ms: tuple[int, int] = (120, 200),
                   rng: secrets.SystemRandom | None = None) -> tuple[Flash, ...]:
    """A sequence of ``count`` colours from :data:`PALETTE`, ``ms`` milliseconds each, from a system RNG: no two
    neighbours alike, and at least four different saturated hues so the chromaticity varies in every direction."""
    r = rng or secrets.SystemRandom()
    colours = list(PALETTE.values())
    while True:
        n = r.randint(*count)
        seq: list[RGB] = []
        while len(seq) < n:
            c = r.choice(colours)
            if not seq or c != seq[-1]:
                seq.append(c)
        if len(set(seq) & _HUES) >= 4:
            return tuple(Flash(c, r.randint(*ms)) for c in seq)


def encode(flashes: Sequence[Flash]) -> str:
    """``ff0000:220;00ff00:180``: how a sequence is stored with the verification and signed in the challenge."""
    return ";".join(f"{f.hex}:{f.ms}" for f in flashes)


def decode(text: str) -> tuple[Flash, ...]:
    """The inverse of :func:`encode`; ValueError on anything else."""
    out = []
    for item in text.split(";"):
        colour, _, ms = item.partition(":")
        if len(colour) != 6 or not ms.isdigit() or not all(ch in "0123456789abcdef" for ch in colour):
            raise ValueError(f"not a colour and duration: {item!r}")
        rgb = (int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16))
        if not 50 <= int(ms) <= 2000:
            raise ValueError(f"a colour is shown 50-2000 ms, not {ms}")
        out.append(Flash(rgb, int(ms)))
    if not 2 <= len(out) <= 32:
        raise ValueError("a sequence has 2 to 32 colours")
    return tuple(out)


@dataclass(frozen=True)
class Shown:
    """A sequence as the kiosk displayed it: ``onsets[i]`` is when colour ``i`` appeared, in seconds on the clock
    of the frame timestamps; the last colour ends ``flashes[-1].ms`` after its onset."""

    flashes: tuple[Flash, ...]
    onsets: tuple[float, ...]

    @property
    def start(self) -> float:
        return self.onsets[0]

    @property
    def end(self) -> float:
        return self.onsets[-1] + self.flashes[-1].ms / 1000

    def colour_at(self, t: Vec) -> npt.NDArray[np.float64]:
        """Displayed linear colour (0..1 per channel) at each time; :data:`NEUTRAL` outside the sequence."""
        out = np.tile(_linear(np.array(NEUTRAL, np.float64) / 255), (len(t), 1))
        edges = [*self.onsets, self.end]
        for i, f in enumerate(self.flashes):
            inside = (t >= edges[i]) & (t < edges[i + 1])
            out[inside] = _linear(np.array(f.rgb, np.float64) / 255)
        return out


@dataclass(frozen=True)
class LightLimits:
    margin: float = 0.6  # seconds analysed before the first colour and after the last
    min_frames: int = 12  # frames with a measured face during the colours
    min_seen: float = 0.75  # share of the colours caught by at least one frame
    onset_slack: float = 0.1  # seconds a reported colour may last longer or shorter than signed
    lag_range: tuple[float, float] = (-0.1, 1.2)  # lags searched, seconds
    min_lag: float = -0.05  # a frame cannot show light before it was shown (timestamps are rounded)
    max_lag: float = 0.3  # display + camera latency; a later response is an attacker reacting
    later_by: float = 0.2  # a later lag fitting this much better (in correlation) means the response came late
    min_response: float = 0.03  # the face's response, log units per unit of displayed chromaticity: 3%
    min_snr: float = 1 / 3  # fitted response variance over residual variance (a correlation of 0.5)
    max_uniform: float = 0.5  # background response over face response
    exposure: float = 1 / 30  # a frame integrates the light over this long
    # Colours last 120-200 ms, so their light changes at 2.5-8 Hz; a head that moves, turns in the shop's light or
    # talks changes the face's colour more slowly. Changes slower than this are removed before the fit.
    slow_hz: float = 0.8
    # The sequence shown must fit the face better than other colourings of the same timing do: with a few dozen
    # samples in a two-dimensional chromaticity plane, a face lit by another sequence (a reflection prepared for
    # another challenge) can fit the shown one by chance. ``alternatives`` colourings are drawn, reproducibly from
    # the sequence itself, and at most ``max_chance`` of them may fit at least as well (a p-value).
    alternatives: int = 200
    max_chance: float = 0.01


@dataclass(frozen=True)
class LightSample:
    t: float
    face: Vec  # mean linear RGB of the skin patches
    background: Vec | None  # mean linear RGB beside the head, None when the face fills the picture
    box: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)  # face x0, y0, x1, y1 as shares of the frame


@dataclass(frozen=True)
class LightMeasure:
    frames: int
    seen: float  # share of colours caught by a frame
    timing: float  # largest difference between a reported and a signed colour duration, seconds
    lag: float  # best-fitting lag overall, seconds
    later: float  # how much better the best lag beyond max_lag fits than the best within it (correlation)
    corr: float  # at the best lag within the window
    snr: float
    response: float  # fitted face-minus-background response, log units per unit of displayed chromaticity
    uniform: float  # background-alone response over face-alone response
    chance: float = 1.0  # share of other colourings (same timing) that fit the face at least as well


def _linear(srgb: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """sRGB (0..1) to linear light."""
    result: npt.NDArray[np.float64] = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    return result


_LUT = _linear(np.arange(256, dtype=np.float64) / 255)


Region = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels


def background_regions(shape: tuple[int, ...], points: npt.NDArray[np.float64]) -> tuple[Region, ...]:
    """Where the background is measured: beside the head at the height of the upper face, clear of ears and hair
    by a quarter face width. Chosen once, at the start of the colours, and then kept in place: regions that
    followed the head would slide over the wall's own colours as it moves."""
    h, w = shape[:2]
    xs, ys = points[:, 0], points[:, 1]
    x0, x1, y0, y1 = float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())
    fw = x1 - x0
    top, bottom = max(0, round(y0)), min(h, max(0, round(y0 + 0.6 * (y1 - y0))))
    regions = ((max(0, round(x0 - 1.0 * fw)), top, max(0, round(x0 - 0.25 * fw)), bottom),
               (min(w, round(x1 + 0.25 * fw)), top, min(w, round(x1 + 1.0 * fw)), bottom))
    return tuple(r for r in regions if (r[2] - r[0]) * (r[3] - r[1]) >= 64)


def sample(frame: BGRImage, points: npt.NDArray[np.float64], t: float,
           regions: Sequence[Region]) -> LightSample | None:
    """The frame's skin colour and its background's (linear RGB), or None when the face is too small."""
    h, w = frame.shape[:2]
    fw = float(points[:, 0].max() - points[:, 0].min())
    if fw < 24:
        return None
    r = max(1, round(PATCH * fw))
    face = []
    for i in SKIN_POINTS:
        cx, cy = round(points[i, 0]), round(points[i, 1])
        if r <= cx < w - r and r <= cy < h - r:
            face.append(frame[cy - r:cy + r + 1, cx - r:cx + r + 1].reshape(-1, 3))
    if not face:
        return None
    bg = [frame[y0:y1, x0:x1].reshape(-1, 3) for x0, y0, x1, y1 in regions]
    box = (float(points[:, 0].min()) / w, float(points[:, 1].min()) / h, float(points[:, 0].max()) / w,
           float(points[:, 1].max()) / h)
    return LightSample(t, _mean_linear(np.concatenate(face)), _mean_linear(np.concatenate(bg)) if bg else None, box)


def _mean_linear(bgr: npt.NDArray[np.uint8]) -> Vec:
    lin = _LUT[bgr[:, ::-1]]  # BGR -> RGB, linear
    return np.asarray(lin.mean(axis=0), np.float64)


def _chroma(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(x - x.mean(axis=1, keepdims=True), np.float64)


_STEP = 0.005  # seconds: the grid the displayed light is integrated on


def _exposure_weights(shown: Shown, t: Vec, lags: Vec, exposure: float) -> npt.NDArray[np.float64]:
    """How much of each frame's exposure falls on each colour of the sequence, for each lag (lags x frames x
    (1 + colours); column 0 is the neutral grey before and after): the frame at ``t`` sees the screen of
    ``t - lag - exposure .. t - lag``. One running sum over a fine time grid serves every lag."""
    lo = float(t.min() - lags.max() - exposure) - _STEP
    hi = float(t.max() - lags.min()) + _STEP
    grid = lo + _STEP * np.arange(int((hi - lo) / _STEP) + 2)
    n = len(shown.flashes)
    segment = np.searchsorted(np.array([*shown.onsets, shown.end]), grid, side="right")  # 1..n inside
    segment[(segment < 1) | (segment > n)] = 0
    onehot = np.zeros((len(grid), n + 1))
    onehot[np.arange(len(grid)), segment] = 1.0
    cum = np.concatenate([np.zeros((1, n + 1)), np.cumsum(onehot, axis=0)])
    end = t[None, :] - lags[:, None]
    i1 = np.clip(np.rint((end - lo) / _STEP).astype(int), 1, len(grid))
    i0 = np.clip(np.rint((end - exposure - lo) / _STEP).astype(int), 0, len(grid) - 1)
    i0 = np.minimum(i0, i1 - 1)
    return np.asarray((cum[i1] - cum[i0]) / (i1 - i0)[:, :, None], np.float64)


def _colour_chroma(rgbs: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Chromaticity of displayed colours (0..255 sRGB, ... x 3): linear light minus its mean over the channels."""
    lin = _linear(rgbs / 255)
    return np.asarray(lin - lin.mean(axis=-1, keepdims=True), np.float64)


def _fit(y: npt.NDArray[np.float64], u: npt.NDArray[np.float64]) -> tuple[float, float, float]:
    """Shared gain of ``u`` in ``y`` (both detrended, frames x channels): gain, correlation, SNR."""
    uu, yy = u.ravel(), y.ravel()
    den = float(uu @ uu)
    if den <= 1e-12 or float(yy @ yy) <= 1e-18:
        return 0.0, 0.0, 0.0
    gain = float(uu @ yy) / den
    corr = float(uu @ yy) / math.sqrt(den * float(yy @ yy))
    resid = yy - gain * uu
    snr = float((gain * uu) @ (gain * uu)) / max(float(resid @ resid), 1e-18)
    return gain, corr, snr


def measure(samples: Sequence[LightSample], shown: Shown, limits: LightLimits | None = None) -> LightMeasure:
    """Every figure the light check decides on (pure: samples and the displayed sequence in, numbers out)."""
    lim = limits or LightLimits()
    edges = [*shown.onsets, shown.end]
    durations = np.diff(edges)
    signed = np.array([f.ms / 1000 for f in shown.flashes])
    timing = float(np.max(np.abs(durations - signed))) if len(durations) else 0.0
    window = [s for s in samples if shown.start - lim.margin <= s.t <= shown.end + lim.margin]
    during = [s for s in window if shown.start <= s.t <= shown.end + lim.max_lag]
    seen = {int(np.searchsorted(edges, s.t - 0.1, side="right")) - 1 for s in during}
    share = len(seen & set(range(len(shown.flashes)))) / len(shown.flashes)
    usable = [s for s in window if s.background is not None]
    empty = LightMeasure(len(during), share, timing, float("nan"), 0.0, 0.0, 0.0, 0.0, float("nan"))
    # Colours reported for other durations than signed fail light_timing; they are not fitted either: the fit's
    # time grid spans the reported window, which a kiosk could otherwise stretch to any length.
    if len(usable) < max(lim.min_frames, 8) or timing > lim.onset_slack:
        return empty
    t = np.array([s.t for s in usable])
    # Removed from every series before fitting: level, slow changes (cosines up to ``slow_hz`` over the window),
    # and the face's position and size in the picture (a head that moves carries its patches over other skin and
    # its shadow over the wall).
    box = np.array([s.box for s in usable])
    span = max(float(t.max() - t.min()), 1e-3)
    slow = [np.cos(np.pi * k * (t - t.min()) / span) for k in range(1, int(2 * span * lim.slow_hz) + 1)]
    nuisance = np.stack([np.ones_like(t), t - t.mean(), *slow, box[:, 0] + box[:, 2], box[:, 1] + box[:, 3],
                         box[:, 2] - box[:, 0]], axis=1)
    clean = np.eye(len(t)) - nuisance @ np.linalg.pinv(nuisance)
    face = clean @ _chroma(np.log(np.array([s.face for s in usable]) + _EPS))
    back = clean @ _chroma(np.log(np.array([s.background for s in usable if s.background is not None]) + _EPS))
    diff = face - back
    lags = np.arange(lim.lag_range[0], lim.lag_range[1] + 1e-9, 0.01)
    weights = _exposure_weights(shown, t, lags, lim.exposure)
    colours = np.array([NEUTRAL, *(f.rgb for f in shown.flashes)], np.float64)
    shown_u = np.einsum("ij,ljc->lic", clean, weights @ _colour_chroma(colours))
    num = np.einsum("lic,ic->l", shown_u, diff)
    den = np.sqrt(np.einsum("lic,lic->l", shown_u, shown_u) * float(np.sum(diff * diff))) + 1e-18
    fits = num / den
    inside = (lags >= lim.min_lag) & (lags <= lim.max_lag)
    k = int(np.flatnonzero(inside)[np.argmax(fits[inside])])
    later = float(fits[~inside].max() - fits[k]) if (~inside).any() else 0.0
    lag = float(lags[int(np.argmax(fits))])
    u = shown_u[k]
    gain, corr, snr = _fit(diff, u)
    face_gain, _, _ = _fit(face, u)
    back_gain, _, _ = _fit(back, u)
    uniform = back_gain / face_gain if face_gain > 1e-6 else float("inf")
    chance = _chance(shown, weights[inside], clean, diff, float(fits[k]), lim)
    return LightMeasure(len(during), share, timing, lag, later, corr, snr, gain, uniform, chance)


def _chance(shown: Shown, weights: npt.NDArray[np.float64], clean: npt.NDArray[np.float64],
            diff: npt.NDArray[np.float64], fit: float, lim: LightLimits) -> float:
    """The share of other colourings of the shown timing whose best fit within the lag window is at least
    ``fit`` (counting the shown one, so never 0). Drawn from a generator seeded by the sequence, so the same
    capture always gets the same figure.

    A colouring's displayed chromaticity is the exposure weights times its colours, so the fit of every
    colouring comes from two products computed once: the weights against the face's response, and the weights
    against themselves through the nuisance projection."""
    seed = int.from_bytes(hashlib.sha256(encode(shown.flashes).encode()).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    weights = weights[:, :, 1:]  # the exposure weights at the lags searched; grey has no chromaticity
    towards = np.einsum("lfi,fc->lic", weights, diff)
    gram = np.einsum("lfi,fg,lgj->lij", weights, clean, weights, optimize=True)
    # Colourings without two neighbours alike: each colour after the first is one of the other seven.
    palette = _colour_chroma(np.array(list(PALETTE.values()), np.float64))
    n, k = len(shown.flashes), len(palette)
    steps = rng.integers(1, k, size=(lim.alternatives, n))
    steps[:, 0] = rng.integers(0, k, size=lim.alternatives)
    colours = palette[np.cumsum(steps, axis=1) % k]  # alternatives x colours x 3
    num = np.einsum("aic,lic->al", colours, towards)
    energy = np.einsum("aic,lij,ajc->al", colours, gram, colours, optimize=True)
    fits = num / (np.sqrt(np.maximum(energy, 0.0)) * math.sqrt(float(np.sum(diff * diff))) + 1e-18)
    better = int(np.sum(fits.max(axis=1) >= fit))
    return (better + 1) / (lim.alternatives + 1)
