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


def face_crop(image: BGRImage, face: DetectedFace, size: int = 128) -> BGRImage:
    h, w = image.shape[:2]
    b = face.box
    x0, y0 = max(int(b.x), 0), max(int(b.y), 0)
    x1, y1 = min(int(b.x + b.w), w), min(int(b.y + b.h), h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return np.zeros((size, size, 3), np.uint8)
    return np.asarray(cv2.resize(image[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA), np.uint8)


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
