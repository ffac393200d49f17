"""Turning a photo into what an ID-card chip holds: a 102x126 head-and-shoulders portrait, JPEG quality 40.

The 2nd-generation resident ID card stores a small, heavily compressed portrait; matching a live frame
against it is the product's real task, so the benchmark can degrade one side of every pair this way.
"""

from __future__ import annotations

import cv2
import numpy as np

from realname.engine.base import FaceEngine
from realname.engine.selection import primary_face
from realname.images import BGRImage

CHIP_W, CHIP_H = 102, 126
JPEG_QUALITY = 40
# Head-and-shoulders framing: the crop is this many face-box widths wide, with the face centre this far
# down from the top (as on an ID photo: head fills the upper two thirds).
WIDTH_IN_FACES = 1.8
FACE_CENTRE_FROM_TOP = 0.42


def idchip(image: BGRImage, engine: FaceEngine) -> BGRImage:
    h, w = image.shape[:2]
    face = primary_face(engine.detect(image), w, h)
    if face is None:
        cx, cy, fw = w / 2, h / 2, w / 2.2
    else:
        (cx, cy), fw = face.box.center, max(face.box.w, face.box.h * 0.8)
    cw = fw * WIDTH_IN_FACES
    ch = cw * CHIP_H / CHIP_W
    x0, y0 = cx - cw / 2, cy - FACE_CENTRE_FROM_TOP * ch
    sx, sy = CHIP_W / cw, CHIP_H / ch
    affine = np.array([[sx, 0, -x0 * sx], [0, sy, -y0 * sy]], dtype=np.float64)
    chip = cv2.warpAffine(image, affine, (CHIP_W, CHIP_H), flags=cv2.INTER_AREA,
                          borderMode=cv2.BORDER_REPLICATE)
    ok, jpeg = cv2.imencode(".jpg", chip, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:  # pragma: no cover - OpenCV always encodes a valid 3-channel image
        raise RuntimeError("JPEG encoding failed")
    return np.asarray(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), dtype=np.uint8)
