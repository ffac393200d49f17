"""Live feedback's hints carry the catalogue's texts (realname/reasons.json), in the order they were found."""

from __future__ import annotations

import numpy as np
import pytest
from tests.support import lfw_image

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


@pytest.mark.models
def test_a_face_cut_by_the_border_is_told_to_move_in(local_engine) -> None:  # type: ignore[no-untyped-def]
    """A real face (LFW) cut in half by the picture's edge gets the cut-off hint; the whole picture does not."""
    import cv2

    whole = cv2.imread(str(lfw_image("Al_Gore", 2)))
    assert "face_cut_off" not in [h.code for h in analyse(local_engine, whole).hints]
    got = analyse(local_engine, whole[:, : whole.shape[1] // 2])
    assert "face_cut_off" in [h.code for h in got.hints]
    assert reasons.hint("face_cut_off").en.endswith("move so the whole face is inside the frame")
