"""Screen and print cues: supporting evidence that the face is shown on a device or on paper.

The strongest cue in the replays we have is the frame around the face: a phone's or monitor's bezel, or a
photo's paper edge, runs as long straight lines on several sides of the face, close to it. A real face has
no such frame around it: a door or a whiteboard behind a customer gives a line on one side, not on three. A
studio or shop behind a customer can give three (pillars or shelves on both sides, a beam above: measured on
TV-studio clips of real people); what they do not give is a straight edge just below the face, where a live
person's neck and shoulders are and a held-up screen or print has its lower edge. A face is framed when straight
edges run on at least three sides, the one below included.
"""

from __future__ import annotations

import cv2
import numpy as np

from realname.images import BGRImage

Box = tuple[float, float, float, float]  # x, y, w, h as fractions of the frame


CANONICAL_FACES = (128, 96)  # pixels: the face widths at which edges are also looked for
Side = tuple[str, str]  # (axis, "before" or "after" the face): ("y", "after") is below it
BELOW: Side = ("y", "after")


def is_framed(frame: BGRImage, box: Box) -> bool:
    """Straight edges on three sides of the face or four, one of them below it, at any of the scales looked at."""
    return any(len(sides) >= 3 and BELOW in sides for sides in _sides_at_scales(frame, box, 1.6, 0.8))


def framing_sides(frame: BGRImage, box: Box, reach: float = 1.6, min_cover: float = 0.8) -> int:
    """On how many sides of the face (0-4) a straight edge runs past it, within ``reach`` face sizes of it,
    covering at least ``min_cover`` of the face's extent along that side.

    Looked for at the frame's own scale and, for larger faces, with the face reduced to a canonical width: an
    upscaled or high-resolution camera picture has soft edges that the fixed edge thresholds miss at full size
    (a screen replay upscaled from 368 to 640 px showed its bezel in 21% of frames instead of 45%)."""
    return max(len(sides) for sides in _sides_at_scales(frame, box, reach, min_cover))


def _sides_at_scales(frame: BGRImage, box: Box, reach: float, min_cover: float) -> list[set[Side]]:
    found = [_framing_sides(frame, box, reach, min_cover)]
    face_w = box[2] * frame.shape[1]
    for canonical in CANONICAL_FACES:
        if face_w > canonical and len(found[-1]) < 4:
            scale = canonical / face_w
            small = cv2.resize(frame, (max(1, round(frame.shape[1] * scale)), max(1, round(frame.shape[0] * scale))),
                               interpolation=cv2.INTER_AREA)
            found.append(_framing_sides(np.asarray(small, np.uint8), box, reach, min_cover))
    return found


def _framing_sides(frame: BGRImage, box: Box, reach: float, min_cover: float) -> set[Side]:
    h, w = frame.shape[:2]
    fx, fy, fw, fh = box[0] * w, box[1] * h, box[2] * w, box[3] * h
    grey = cv2.GaussianBlur(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (5, 5), 0)
    edges = cv2.Canny(grey, 30, 90)
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=40, minLineLength=int(0.7 * min(fw, fh)),
                            maxLineGap=int(0.15 * min(fw, fh)) + 1)
    if lines is None:
        return set()
    sides: set[Side] = set()
    margin = 0.03 * max(w, h)  # letterbox bars and the picture's own edge are not a frame around the face
    for x1, y1, x2, y2 in lines[:, 0, :].astype(np.float64):
        dx, dy = x2 - x1, y2 - y1
        if abs(dx) < 0.2 * abs(dy):  # near-vertical: a left or right edge
            side = _side((x1, x2), (y1, y2), (fx, fw), (fy, fh), w, margin, reach, min_cover)
            if side:
                sides.add(("x", side))
        elif abs(dy) < 0.2 * abs(dx):  # near-horizontal: a top or bottom edge
            side = _side((y1, y2), (x1, x2), (fy, fh), (fx, fw), h, margin, reach, min_cover)
            if side:
                sides.add(("y", side))
    return sides


def _side(pos: tuple[float, float], ends: tuple[float, float], across: tuple[float, float], along: tuple[float, float],
          extent: float, margin: float, reach: float, min_cover: float) -> str | None:
    """Where a straight edge at ``pos`` (its two ends across; ``ends`` along it) lies relative to the
    face: "before" or "after" it within ``reach`` face sizes, covering ``min_cover`` of the face's ``along``
    extent; None if it is elsewhere or hugs the picture's border."""
    start, size = across
    if min(pos) < margin or max(pos) > extent - margin:
        return None
    at = (pos[0] + pos[1]) / 2
    cover = (min(max(ends), along[0] + along[1]) - max(min(ends), along[0])) / along[1]
    if cover < min_cover:
        return None
    if start - reach * size <= at < start:
        return "before"
    if start + size < at <= start + size + reach * size:
        return "after"
    return None
