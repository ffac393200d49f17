"""Image quality of a face, as findings a clerk can act on.

Pure functions over pixels and landmarks, so every backend (and the fake) reports the same way. Limits are
deliberately generous: they catch the pictures that make matching unreliable, not ordinary ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from realname.engine.base import DetectedFace, QualityFinding, QualityReport
from realname.engine.selection import significant_faces
from realname.images import BGRImage


@dataclass(frozen=True)
class QualityLimits:
    min_face_height: float = 48.0  # pixels; a 102x126 ID-chip portrait has a face about 70 px tall
    min_brightness: float = 50.0  # mean grey of the face, 0..255
    max_brightness: float = 215.0
    # Variance of the Laplacian over the variance of the grey levels, on the face scaled to 128 px: sharp LFW
    # faces score 0.013 and up (median 0.031), the same faces blurred with sigma 2 px at most 0.011.
    min_sharpness: float = 0.010
    max_yaw: float = 30.0  # degrees
    max_pitch: float = 30.0
    max_roll: float = 20.0
    min_eye_openness: float = 0.14  # eye aspect ratio, when landmarks that can see eyelids are available
    # A face cut by the picture's border (see `cut_off`). Measured on 300-400 LFW, 100-200 ORL and 100-150
    # ID-chip pictures: the whole-face share is at least 0.85 (ORL's tight crops; 1.00 elsewhere), the landmark
    # margin at least 0.37 inter-ocular distances, the box share at least 0.91 and the box's width/height 0.63-0.90.
    # The detector puts a cut face's landmarks inside what it sees, so a box at the border with a face's
    # impossible shape (half a face is tall and thin, a face cut at the brows short and wide) counts too.
    # With these limits: none of those 750 whole faces is refused; of 100 LFW faces cropped so that 30% of the box
    # is outside, 85-99 are found per side (93-100 at 45%, 97 of 99 cut in half down the middle).
    min_face_inside: float = 0.80
    min_landmark_margin: float = 0.15
    min_box_inside: float = 0.85
    box_aspect: tuple[float, float] = (0.60, 1.00)


# Findings that make a face unfit to compare at all: the compare answers a retake, never a match decision.
REFUSING: frozenset[str] = frozenset({"face_cut_off"})
CUT_OFF_MESSAGE = "Face cut off by the picture's border: move so the whole face is inside the frame"


def face_crop(image: BGRImage, face: DetectedFace, size: int = 128) -> BGRImage:
    h, w = image.shape[:2]
    b = face.box
    x0, y0 = max(int(b.x), 0), max(int(b.y), 0)
    x1, y1 = min(int(b.x + b.w), w), min(int(b.y + b.h), h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return np.zeros((size, size, 3), np.uint8)
    return np.asarray(cv2.resize(image[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA), np.uint8)


def _inside(xs: npt.NDArray[np.float64], ys: npt.NDArray[np.float64], width: float, height: float) -> float:
    return float(np.mean((xs >= 0) & (xs <= width) & (ys >= 0) & (ys <= height)))


def whole_face_share(face: DetectedFace, width: float, height: float) -> float:
    """Share of the whole face's expected extent that lies inside the picture.

    The detector shrinks its box to what it sees (a face cut at the eyebrows gets a short box that is wholly
    inside), so the extent comes from the five landmarks instead: from 0.6 inter-ocular distances above the eyes
    to 0.7 below the mouth, one distance either side of the eyes' midpoint, in the face's own (roll) frame.
    Sampled on a grid, so a rotated extent costs the same as an upright one.
    """
    re, le, _, rm, lm = (face.landmarks[i].astype(np.float64) for i in range(5))
    across = le - re
    iod = float(np.hypot(*across))
    if iod < 1e-6:
        return 0.0
    ux = across / iod
    uy = np.array([-ux[1], ux[0]])  # down the face
    eyes, mouth = (re + le) / 2, (rm + lm) / 2
    top, bottom = -0.6 * iod, float(np.dot(mouth - eyes, uy)) + 0.7 * iod
    u, v = np.meshgrid(np.linspace(-iod, iod, 21), np.linspace(top, bottom, 21))
    xs = eyes[0] + u * ux[0] + v * uy[0]
    ys = eyes[1] + u * ux[1] + v * uy[1]
    return _inside(xs.ravel(), ys.ravel(), width, height)


def landmark_margin(face: DetectedFace, width: float, height: float) -> float:
    """The nearest landmark's distance from the picture's border, in inter-ocular distances (< 0: outside)."""
    pts = face.landmarks.astype(np.float64)
    iod = float(np.hypot(*(pts[1] - pts[0])))
    nearest = min(float(pts[:, 0].min()), float(pts[:, 1].min()), width - float(pts[:, 0].max()),
                  height - float(pts[:, 1].max()))
    return nearest / max(iod, 1e-6)


def box_inside_share(x: float, y: float, w: float, h: float, width: float, height: float) -> float:
    """Share of a face box's area inside a ``width`` x ``height`` picture (any units, the same for both)."""
    if w <= 0 or h <= 0:
        return 0.0
    iw = max(0.0, min(x + w, width) - max(x, 0.0))
    ih = max(0.0, min(y + h, height) - max(y, 0.0))
    return min(1.0, iw * ih / (w * h))


def cut_off(face: DetectedFace, width: float, height: float, limits: QualityLimits | None = None) -> float | None:
    """The whole-face share when the face is cut by the picture's border (a landmark on or past the border, the
    box or the face's expected extent partly outside); None when the face is whole."""
    lim = limits or QualityLimits()
    share = whole_face_share(face, width, height)
    b = face.box
    at_border = min(b.x, b.y, width - b.x - b.w, height - b.y - b.h) < 0.05 * max(b.w, b.h)
    odd_shape = not lim.box_aspect[0] <= b.w / max(b.h, 1e-6) <= lim.box_aspect[1]
    if (share < lim.min_face_inside or landmark_margin(face, width, height) < lim.min_landmark_margin
            or box_inside_share(b.x, b.y, b.w, b.h, width, height) < lim.min_box_inside
            or (at_border and odd_shape)):
        return share
    return None


def brightness(crop: BGRImage) -> float:
    return float(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).mean())


def sharpness(crop: BGRImage) -> float:
    """Edge energy relative to contrast, so a dim or low-contrast face is not mistaken for a blurred one."""
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).astype(np.float64)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var() / max(float(grey.var()), 1.0))


def pose_from_five(landmarks: npt.NDArray[np.float32]) -> tuple[float, float, float]:
    """Rough yaw, pitch, roll in degrees from YuNet's five points (right eye, left eye, nose, mouth corners).

    Roll is the eye line's angle. Yaw and pitch come from where the nose tip sits relative to the eyes and
    mouth: the tip stands about 0.6 inter-ocular distances in front of the eye plane, so its sideways shift
    is 0.6*IOD*tan(yaw). Pitch uses the nose's position between eye line and mouth line (0.5 when level).
    """
    re, le, nose, rm, lm = (landmarks[i].astype(np.float64) for i in range(5))
    eye_vec = le - re
    iod = float(np.hypot(*eye_vec))
    if iod < 1e-6:
        return 0.0, 0.0, 0.0
    roll = math.degrees(math.atan2(eye_vec[1], eye_vec[0]))
    # Work in the roll-corrected frame.
    c, s = eye_vec / iod
    rot = np.array([[c, s], [-s, c]])
    eyes_mid, mouth_mid = rot @ ((re + le) / 2), rot @ ((rm + lm) / 2)
    n = rot @ nose
    # Sign as in realname.engine.mesh.head_pose: > 0 when the face turns toward the image's left.
    yaw = -math.degrees(math.atan2(n[0] - (eyes_mid[0] + mouth_mid[0]) / 2, 0.6 * iod))
    span = mouth_mid[1] - eyes_mid[1]
    ratio = (n[1] - eyes_mid[1]) / span if abs(span) > 1e-6 else 0.5
    # Level faces sit near 0.55 on frontal photos; every 0.1 is roughly 12 degrees.
    pitch = (ratio - 0.55) * 120.0
    return yaw, pitch, roll


def assess(
    image: BGRImage,
    faces: list[DetectedFace],
    primary: DetectedFace | None,
    limits: QualityLimits | None = None,
    eye_openness: float | None = None,
    pose: tuple[float, float, float] | None = None,
) -> QualityReport:
    """Findings for the primary face. ``pose`` and ``eye_openness`` come from a dense landmark model when
    the caller has one; otherwise pose is estimated from the five detector points."""
    lim = limits or QualityLimits()
    if primary is None:
        return QualityReport(0, None, {}, (QualityFinding("no_face", "No face found: face the camera"),))
    findings: list[QualityFinding] = []
    crop = face_crop(image, primary)
    yaw, pitch, roll = pose if pose is not None else pose_from_five(primary.landmarks)
    m = {
        "face_height": primary.box.h,
        "brightness": brightness(crop),
        "sharpness": sharpness(crop),
        "yaw": yaw,
        "pitch": pitch,
        "roll": roll,
        "detector_score": primary.score,
    }
    h, w = image.shape[:2]
    m["face_inside"] = whole_face_share(primary, w, h)
    cut = cut_off(primary, w, h, lim)
    if cut is not None:
        findings.append(QualityFinding("face_cut_off", CUT_OFF_MESSAGE, cut, lim.min_face_inside))
    others = significant_faces(faces, primary)
    if others > 1:
        findings.append(QualityFinding("multiple_faces", f"{others} faces in view: only the customer may be "
                                       "in the picture", float(others), 1.0))
    if m["face_height"] < lim.min_face_height:
        findings.append(QualityFinding("face_too_small", "Face too small: move closer to the camera",
                                       m["face_height"], lim.min_face_height))
    if m["brightness"] < lim.min_brightness:
        findings.append(QualityFinding("too_dark", "Too dark: add light in front of the face",
                                       m["brightness"], lim.min_brightness))
    if m["brightness"] > lim.max_brightness:
        findings.append(QualityFinding("too_bright", "Too bright: avoid direct light or glare on the face",
                                       m["brightness"], lim.max_brightness))
    if m["sharpness"] < lim.min_sharpness:
        findings.append(QualityFinding("blurred", "Blurred: hold still and check the camera focus",
                                       m["sharpness"], lim.min_sharpness))
    if abs(yaw) > lim.max_yaw:
        findings.append(QualityFinding("head_turned", "Head turned: look straight at the camera",
                                       yaw, lim.max_yaw))
    if abs(pitch) > lim.max_pitch:
        findings.append(QualityFinding("head_tilted_up_down", "Head tilted up or down: look straight ahead",
                                       pitch, lim.max_pitch))
    if abs(roll) > lim.max_roll:
        findings.append(QualityFinding("head_tilted_sideways", "Head tilted sideways: hold the head upright",
                                       roll, lim.max_roll))
    if eye_openness is not None:
        m["eye_openness"] = eye_openness
        if eye_openness < lim.min_eye_openness:
            findings.append(QualityFinding("eyes_closed", "Eyes closed: keep the eyes open",
                                           eye_openness, lim.min_eye_openness))
    return QualityReport(len(faces), primary, m, tuple(findings))
