"""Live feedback's hints carry the catalogue's texts (realname/reasons.json), in the order they were found."""

from __future__ import annotations

import numpy as np

from realname import reasons
from realname.engine.fake import FakeEngine
from realname.registration.feedback import analyse


def test_hints_carry_the_catalogue_texts(textured: np.ndarray) -> None:
    assert analyse(FakeEngine(), textured).ok
    got = analyse(FakeEngine(), np.full((240, 320, 3), 20, np.uint8))  # flat and dark: nobody, and no light
    assert not got.ok and [h.code for h in got.hints] == ["no_face", "too_dark"]
    for h in got.hints:
        text = reasons.hint(h.code)
        assert (h.en, h.zh) == (text.en, text.zh)
    assert got.hints[0].zh == "没有检测到人脸：请把脸放在椭圆框内"  # the kiosk's wording, now the server's too
