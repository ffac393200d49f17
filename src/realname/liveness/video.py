"""Reading recorded clips as (frame, timestamp) pairs: uploaded captures, offline evaluation and the command line.

A clip is untrusted: only the containers a kiosk records are opened (checked by their magic bytes, before OpenCV
and FFmpeg see the file: an HLS playlist would make FFmpeg read files named in it), and the frame size and count
are checked from the header before frames are decoded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from realname.errors import VideoError
from realname.images import BGRImage

MAX_WIDTH = 640  # frames are analysed at kiosk resolution whatever the recording's
DEFAULT_MAX_PIXELS = 4_000_000  # a camera frame; 8K is 33 million
DEFAULT_MAX_FRAMES = 100_000
CONTAINERS = "MP4/MOV, WebM/Matroska, Y4M or AVI"
# FFmpeg's own protocols: a local file and nothing else (no http, tcp, concat, subfile...).
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "protocol_whitelist;file")


def container_of(head: bytes) -> str | None:
    """The container named by the first bytes of a file, or None when it is not one a kiosk records."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "mp4"  # ISO base media: MP4, MOV, 3GP
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"  # EBML: WebM, MKV
    if head[:10] == b"YUV4MPEG2 ":
        return "y4m"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    return None


def check_container(head: bytes) -> str:
    if not head:
        raise VideoError("the video is empty (0 bytes)", code="empty_video")
    kind = container_of(head[:16])
    if kind is None:
        raise VideoError(f"the video is not in a container the kiosk records ({CONTAINERS})",
                         code="unsupported_video")
    return kind


def frames_in(path: str | Path) -> int:
    """The frame count a clip's container declares (0 when unknown): for a progress bar, never for a decision."""
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        return max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT))) if cap.isOpened() else 0
    finally:
        cap.release()


def read_frames(path: str | Path, max_width: int = MAX_WIDTH, *, max_pixels: int = DEFAULT_MAX_PIXELS,
                max_frames: int = DEFAULT_MAX_FRAMES) -> Iterator[tuple[BGRImage, float]]:
    """Frames (resized to at most ``max_width``) with their timestamps in seconds from the clip's start."""
    p = Path(path)
    if not p.is_file():
        raise VideoError(f"{p}: no such video file", code="file_not_found")
    with p.open("rb") as f:
        check_container(f.read(16))
    cap = cv2.VideoCapture(str(p), cv2.CAP_FFMPEG)
    try:
        if not cap.isOpened():
            raise VideoError(f"{p} is not a video that can be read ({CONTAINERS})", code="unreadable_video")
        width, height = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width * height > max_pixels:
            raise VideoError(f"the video's frames are {width}x{height}; the limit is {max_pixels / 1e6:.1f} "
                             "megapixels a frame", code="too_many_pixels")
        declared = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if declared > max_frames:
            raise VideoError(f"the video has {declared} frames; the limit is {max_frames}", code="too_many_frames")
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        n = 0
        while True:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            if n >= max_frames:  # the header's count can lie
                raise VideoError(f"the video has more than {max_frames} frames", code="too_many_frames")
            if frame.ndim == 2:
                frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
            h, w = frame.shape[:2]
            if w * h > max_pixels:  # a stream may change size after the header
                raise VideoError(f"a frame of the video is {w}x{h}; the limit is {max_pixels / 1e6:.1f} megapixels",
                                 code="too_many_pixels")
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
