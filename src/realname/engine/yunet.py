"""YuNet face detector (OpenCV's FaceDetectorYN) with the retries that keep failures to acquire rare."""

from __future__ import annotations

import threading

import cv2
import numpy as np

from realname.engine.base import DetectedFace
from realname.engine.models import model_path
from realname.images import BGRImage

# Large frames are searched at this size: a face at the counter fills far more than YuNet's 10-pixel minimum,
# and the detector's cost grows with the pixel count.
MAX_SIDE = 640
# Small images (ID-chip portraits are 102x126) are enlarged so YuNet's landmarks sit on a finer grid.
MIN_SIDE = 256
# (scale factor on top of the above, score threshold): the first pass that finds a face wins.
PASSES: tuple[tuple[float, float], ...] = ((1.0, 0.6), (2.0, 0.5), (2.0, 0.3), (1.0, 0.2))


class YuNetDetector:
    def __init__(self) -> None:
        self._path = str(model_path("yunet"))
        self._local = threading.local()  # cv2 detectors are stateful (input size): one per thread

    def _detector(self) -> cv2.FaceDetectorYN:
        det = getattr(self._local, "det", None)
        if det is None:
            det = cv2.FaceDetectorYN.create(self._path, "", (320, 320), 0.6, 0.3, 5000)
            self._local.det = det
        return det

    def detect(self, image: BGRImage) -> list[DetectedFace]:
        h, w = image.shape[:2]
        longest, shortest = max(h, w), min(h, w)
        base = 1.0
        if longest > MAX_SIDE:
            base = MAX_SIDE / longest
        elif longest < MIN_SIDE:
            base = MIN_SIDE / longest
        det = self._detector()
        for factor, threshold in PASSES:
            scale = base * factor
            if shortest * scale > 4 * MAX_SIDE:
                continue
            work = image if scale == 1.0 else cv2.resize(
                image, None, fx=scale, fy=scale,
                interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC,
            )
            det.setInputSize((work.shape[1], work.shape[0]))
            det.setScoreThreshold(threshold)
            _, rows = det.detect(work)
            if rows is not None and len(rows):
                faces = [DetectedFace.from_yunet_row(r, scale) for r in np.asarray(rows)]
                return [f for f in faces if f.box.w > 1 and f.box.h > 1]
        return []
