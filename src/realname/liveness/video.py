"""Reading recorded clips as (frame, timestamp) pairs, for offline evaluation and the command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from realname.errors import VideoError
from realname.images import BGRImage

MAX_WIDTH = 640  # frames are analysed at kiosk resolution whatever the recording's


def read_frames(path: str | Path, max_width: int = MAX_WIDTH) -> Iterator[tuple[BGRImage, float]]:
    """Frames (resized to at most ``max_width``) with their timestamps in seconds from the clip's start."""
    p = Path(path)
    if not p.is_file():
        raise VideoError(f"{p}: no such video file", code="file_not_found")
    if p.stat().st_size == 0:
        raise VideoError(f"{p} is empty (0 bytes)", code="empty_video")
    cap = cv2.VideoCapture(str(p))
    try:
        if not cap.isOpened():
            raise VideoError(f"{p} is not a video that can be read (MP4/H.264, AVI, WebM, Y4M)",
                             code="unreadable_video")
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        n = 0
        while True:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            if frame.ndim == 2:
                frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
            h, w = frame.shape[:2]
            if w > max_width:
                frame = cv2.resize(frame, (max_width, round(h * max_width / w)), interpolation=cv2.INTER_AREA)
            # Frame index over the nominal rate: container timestamps are often missing or coarse.
            t = n / fps if fps > 0 else float(cap.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
            yield np.ascontiguousarray(frame), t
            n += 1
        if n == 0:
            raise VideoError(f"{p} holds no frames that can be decoded", code="empty_video")
    finally:
        cap.release()
