from __future__ import annotations

import numpy as np

from realname.engine.base import FaceEngine
from realname.engine.fake import FakeEngine


def test_fake_satisfies_the_interface() -> None:
    assert isinstance(FakeEngine(), FaceEngine)


def test_flat_image_has_no_face() -> None:
    assert FakeEngine().detect(np.full((50, 50, 3), 128, np.uint8)) == []


def test_same_picture_same_template(textured: np.ndarray) -> None:
    eng = FakeEngine()
    face = eng.detect(textured)[0]
    a, b = eng.embed(textured, face, "fake"), eng.embed(textured.copy(), face, "fake")
    assert a.similarity(b) > 0.999
    other = np.ascontiguousarray(textured[::-1])
    assert a.similarity(eng.embed(other, eng.detect(other)[0], "fake")) < 0.5
