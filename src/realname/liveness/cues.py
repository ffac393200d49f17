"""Screen and print cues: supporting evidence that the face is shown on a device or on paper.

The strongest cue in the replays we have is the frame around the face: a phone's or monitor's bezel, or a
photo's paper edge, runs as long straight lines on several sides of the face, close to it. A real face has
no such frame around it: a door or a whiteboard behind a customer gives a line on one side, not on three.
"""

from __future__ import annotations

import cv2
import numpy as np

from realname.images import BGRImage

Box = tuple[float, float, float, float]  # x, y, w, h as fractions of the frame


def framing_sides(frame: BGRImage, box: Box, reach: float = 1.6, min_cover: float = 0.8) -> int:
    """On how many sides of the face (0-4) a straight edge runs past it, within ``reach`` face sizes of it,
    covering at least ``min_cover`` of the face's extent along that side."""
    h, w = frame.shape[:2]
    fx, fy, fw, fh = box[0] * w, box[1] * h, box[2] * w, box[3] * h
    grey = cv2.GaussianBlur(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (5, 5), 0)
    edges = cv2.Canny(grey, 30, 90)
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=40, minLineLength=int(0.7 * min(fw, fh)),
                            maxLineGap=int(0.15 * min(fw, fh)) + 1)
    if lines is None:
        return 0
    sides = set()
    margin = 0.03 * max(w, h)  # letterbox bars and the picture's own edge are not a frame around the face
    for x1, y1, x2, y2 in lines[:, 0, :].astype(np.float64):
        dx, dy = x2 - x1, y2 - y1
        vertical, horizontal = abs(dx) < 0.2 * abs(dy), abs(dy) < 0.2 * abs(dx)
        if vertical and (min(x1, x2) < margin or max(x1, x2) > w - margin):
            continue
        if horizontal and (min(y1, y2) < margin or max(y1, y2) > h - margin):
            continue
        if abs(dx) < 0.2 * abs(dy):  # near-vertical
            x = (x1 + x2) / 2
            cover = (min(max(y1, y2), fy + fh) - max(min(y1, y2), fy)) / fh
            if cover >= min_cover:
                if fx - reach * fw <= x < fx:
                    sides.add("left")
                elif fx + fw < x <= fx + fw + reach * fw:
                    sides.add("right")
        elif abs(dy) < 0.2 * abs(dx):  # near-horizontal
            y = (y1 + y2) / 2
            cover = (min(max(x1, x2), fx + fw) - max(min(x1, x2), fx)) / fw
            if cover >= min_cover:
                if fy - reach * fh <= y < fy:
                    sides.add("top")
                elif fy + fh < y <= fy + fh + reach * fh:
                    sides.add("bottom")
    return len(sides)
