"""Which face in a picture is *the* face.

LFW pictures and counter frames both hold background faces. The subject is large and near the centre; a
bystander is smaller or off to the side. Score = share of the image the face covers minus a penalty on the
squared distance from the centre (both relative to the image), so a big face at the edge still beats a tiny
one in the middle, but of two similar faces the central one wins.
"""

from __future__ import annotations

from collections.abc import Sequence

from realname.engine.base import DetectedFace

CENTRE_PENALTY = 2.0


def primary_face(faces: Sequence[DetectedFace], width: int, height: int) -> DetectedFace | None:
    if not faces:
        return None
    cx, cy = width / 2, height / 2
    longest = max(width, height)

    def key(face: DetectedFace) -> float:
        fx, fy = face.box.center
        d2 = ((fx - cx) ** 2 + (fy - cy) ** 2) / longest**2
        return face.box.area / (width * height) - CENTRE_PENALTY * d2

    return max(faces, key=key)


def significant_faces(faces: Sequence[DetectedFace], primary: DetectedFace, ratio: float = 0.35) -> int:
    """Faces at least ``ratio`` as tall as the primary one: people who could be standing at the counter."""
    return sum(1 for f in faces if f.box.h >= ratio * primary.box.h)
