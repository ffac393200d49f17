"""Presentation-attack checks on the landmark track and the frames: each returns its measured value, so the
decision can report value and threshold side by side."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from realname.images import BGRImage
from realname.liveness.features import FrameFeatures

# A spread of rigid-ish face points (forehead, brows, eye corners, nose bridge and tip, cheeks, chin, jaw)
# for the planarity test; lips and lids are left out because they move on their own.
RIGID_POINTS = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 33, 133, 362, 263, 70, 300, 105, 334,
                234, 454, 93, 323, 132, 361, 58, 288, 172, 397, 150, 379, 152, 148, 377, 123, 352, 50, 280,
                205, 425, 187, 411, 116, 345, 143, 372, 127, 356)


def planar_residual(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    """How badly one homography explains the motion of the face points between two frames, as a share of
    the face's width. A photo or a screen, however it is tilted, moves as a plane: a homography maps it
    almost exactly (residual near the landmark noise). A real head turning is not a plane: the nose moves
    across the cheeks, and the residual grows with the turn."""
    pa = a[list(RIGID_POINTS), :2].astype(np.float32)
    pb = b[list(RIGID_POINTS), :2].astype(np.float32)
    h, _ = cv2.findHomography(pa, pb, 0)
    if h is None:
        return 0.0
    mapped = cv2.perspectiveTransform(pa.reshape(-1, 1, 2), h).reshape(-1, 2)
    width = float(np.ptp(pb[:, 0])) or 1.0
    return float(np.median(np.linalg.norm(mapped - pb, axis=1)) / width)


def max_planar_residual(frames: Sequence[FrameFeatures], reference: FrameFeatures,
                        moments: Sequence[float]) -> float:
    """The largest residual between the frontal reference frame and the frames at the given moments (the
    peaks of the head turns)."""
    best = 0.0
    if reference.points is None:
        return best
    for m in moments:
        f = min((f for f in frames if f.points is not None), key=lambda f: abs(f.t - m), default=None)
        if f is not None and f.points is not None:
            best = max(best, planar_residual(reference.points, f.points))
    return best


def frame_signature(frame: BGRImage) -> bytes:
    """A tiny grey thumbnail: identical signatures mean a repeated (frozen or looped) frame."""
    small = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (16, 12), interpolation=cv2.INTER_AREA)
    return bytes(small.tobytes())


def largest_jump(frames: Sequence[FrameFeatures], start: float, end: float) -> float:
    """Largest frame-to-frame move of the face centre within [start, end], in face widths: a cut in the
    video (one clip spliced to another) makes the face jump."""
    track = [f for f in frames if f.box is not None and start <= f.t <= end]
    worst = 0.0
    for p, q in itertools.pairwise(track):
        assert p.box is not None and q.box is not None
        cp = np.array([p.box[0] + p.box[2] / 2, p.box[1] + p.box[3] / 2])
        cq = np.array([q.box[0] + q.box[2] / 2, q.box[1] + q.box[3] / 2])
        worst = max(worst, float(np.linalg.norm(cq - cp) / max(p.box[2], 1e-6)))
    return worst
