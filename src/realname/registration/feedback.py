"""Live hints while the customer is in front of the camera: one frame in, what to fix out (English and Chinese,
from the catalogue in :mod:`realname.reasons`).

Stateless and fast: one face detection on a copy of the frame reduced to ``WORK_SIDE`` pixels and a brightness
measure of the face, so the kiosk can ask a few times a second. It never answers a score, never stores the
frame and records nothing: the live check that decides is the capture (``verifications.submit_capture``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from realname import reasons
from realname.context import Actor, Services
from realname.engine.base import FaceEngine
from realname.engine.quality import QualityLimits, brightness, cut_off, face_crop
from realname.engine.selection import primary_face, significant_faces
from realname.errors import ConflictError, NotFoundError
from realname.images import BGRImage
from realname.operators.auth import require
from realname.registry.states import VerificationStatus
from realname.registry.tables import Verification

WORK_SIDE = 200  # a face at the kiosk is large: detection on a small copy finds it (and YuNet retries larger)
MIN_FACE_WIDTH = 0.20  # of the frame's width: smaller, and the customer should come closer
MAX_OFFSET = 0.20  # the face's centre may be this far (of the frame's width / height) from the frame's centre

@dataclass(frozen=True)
class Hint:
    code: str
    en: str
    zh: str


@dataclass(frozen=True)
class Feedback:
    ok: bool
    hints: tuple[Hint, ...]


def _hint(code: str) -> Hint:
    text = reasons.hint(code)
    return Hint(code, text.en, text.zh)


def _light(level: float, limits: QualityLimits) -> list[str]:
    if level < limits.min_brightness:
        return ["too_dark"]
    if level > limits.max_brightness:
        return ["too_bright"]
    return []


def _work_copy(image: BGRImage) -> BGRImage:
    h, w = image.shape[:2]
    scale = WORK_SIDE / max(h, w)
    if scale >= 1.0:
        return image
    small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return np.asarray(small, dtype=np.uint8)


def analyse(engine: FaceEngine, image: BGRImage, limits: QualityLimits | None = None) -> Feedback:
    """Hints for one frame (no database, no permissions: the pure part, for tests and benchmarks)."""
    lim = limits or QualityLimits()
    work = _work_copy(image)
    h, w = work.shape[:2]
    faces = engine.detect(work)
    face = primary_face(faces, w, h)
    if face is None:
        grey = float(cv2.cvtColor(work, cv2.COLOR_BGR2GRAY).mean())
        codes = ["no_face", *_light(grey, lim)]  # a dark room is often why no face is found
    else:
        codes = []
        if significant_faces(faces, face) > 1:
            codes.append("multiple_faces")
        if cut_off(face, w, h, lim) is not None:
            codes.append("face_cut_off")
        elif face.box.w < MIN_FACE_WIDTH * w:
            codes.append("move_closer")
        cx, cy = face.box.center
        if abs(cx - w / 2) > MAX_OFFSET * w or abs(cy - h / 2) > MAX_OFFSET * h:
            codes.append("face_off_center")
        codes += _light(brightness(face_crop(work, face)), lim)
    return Feedback(not codes, tuple(_hint(c) for c in codes))


def frame_feedback(svc: Services, actor: Actor, verification_id: str, image: BGRImage) -> Feedback:
    """Hints for a frame of an open or capturing verification of the caller's operator."""
    require(actor, "verifications.capture")
    with svc.db.read() as s:
        v = s.get(Verification, verification_id)
        status = None if v is None or v.operator_id != actor.operator_id else v.status
    if status is None:
        raise NotFoundError("no such verification")
    if status not in (VerificationStatus.OPEN, VerificationStatus.CAPTURING):
        raise ConflictError("this verification is no longer taking pictures: start a new one",
                            code="not_capturing")
    return analyse(svc.faces.engine, image)
