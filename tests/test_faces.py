"""The face service: a verification's portrait is found and embedded once, however many captures compare it."""

from __future__ import annotations

import numpy as np

from realname.config import Settings
from realname.engine.fake import FakeEngine
from realname.faces import PORTRAITS_KEPT, FaceService


def test_the_portrait_is_detected_and_embedded_once_for_every_retake(textured: np.ndarray) -> None:
    engine = FakeEngine()
    faces = FaceService(Settings(engine="fake"), engine=engine)
    portrait = textured.copy()
    lives = [np.roll(textured, k, axis=1) for k in (0, 1, 2)]  # three captures of the same customer
    results = [faces.compare(faces.document_side(portrait), live) for live in lives]
    assert results[0].decision.value == "match"
    # One detection of the portrait, one per live photo; the portrait's plain SFace template made once.
    assert engine.calls.count("detect") == 1 + len(lives)
    assert engine.calls.count("embed:sface") == 1 + len(lives)
    # The same pixels in another array are the same portrait; other pixels are not.
    assert faces.document_side(portrait.copy()) is faces.document_side(portrait)
    assert faces.document_side(lives[1]) is not faces.document_side(portrait)


def test_only_the_last_portraits_are_kept(textured: np.ndarray) -> None:
    faces = FaceService(Settings(engine="fake"), engine=FakeEngine())
    first = faces.document_side(textured)
    for k in range(1, PORTRAITS_KEPT + 1):
        faces.document_side(np.roll(textured, k, axis=0))
    assert faces.document_side(textured) is not first  # pushed out, found again
