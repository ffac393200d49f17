"""The real engine on real faces (LFW, from ../shared/data)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from tests.support import lfw_image

from realname.engine.base import FaceEngine
from realname.engine.selection import primary_face
from realname.evaluation.degrade import CHIP_H, CHIP_W, idchip
from realname.images import read_image

pytestmark = pytest.mark.models


def test_interface(local_engine) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(local_engine, FaceEngine)


def test_detects_and_embeds(local_engine) -> None:  # type: ignore[no-untyped-def]
    img = read_image(lfw_image("Abel_Pacheco", 1))
    faces = local_engine.detect(img)
    face = primary_face(faces, img.shape[1], img.shape[0])
    assert face is not None and face.landmarks.shape == (5, 2)
    assert 60 < face.box.h < 200
    for model in local_engine.models:
        t = local_engine.embed(img, face, model)
        assert t.model == model and np.isfinite(t.vector).all()
    assert local_engine.align(img, face, "sface").shape == (112, 112, 3)
    assert local_engine.align(img, face, "dlib").shape == (150, 150, 3)
    assert local_engine.landmarks(img, face).shape[0] == 478  # FaceMesh


def test_primary_face_is_the_large_central_one(local_engine) -> None:  # type: ignore[no-untyped-def]
    main = read_image(lfw_image("Abel_Pacheco", 1))
    bystander = cv2.resize(read_image(lfw_image("AJ_Cook", 1)), (110, 110))
    canvas = cv2.copyMakeBorder(main, 60, 60, 200, 200, cv2.BORDER_REFLECT101)
    canvas[10:120, 10:120] = bystander
    faces = local_engine.detect(canvas)
    assert len(faces) >= 2
    face = primary_face(faces, canvas.shape[1], canvas.shape[0])
    assert face is not None
    cx, cy = face.box.center
    assert abs(cx - canvas.shape[1] / 2) < 40 and abs(cy - canvas.shape[0] / 2) < 40
    report = local_engine.quality(canvas)
    assert "multiple_faces" in {f.code for f in report.findings}


def test_id_chip_portrait_is_detected_and_matches(local_engine) -> None:  # type: ignore[no-untyped-def]
    live = read_image(lfw_image("Abel_Pacheco", 1))
    chip = idchip(read_image(lfw_image("Abel_Pacheco", 4)), local_engine)
    other = idchip(read_image(lfw_image("AJ_Cook", 1)), local_engine)
    assert chip.shape == (CHIP_H, CHIP_W, 3)

    def template(img):  # type: ignore[no-untyped-def]
        f = primary_face(local_engine.detect(img), img.shape[1], img.shape[0])
        assert f is not None
        return local_engine.embed(img, f, "sface")

    same = template(live).similarity(template(chip))
    diff = template(live).similarity(template(other))
    assert same > diff + 0.2


def test_quality_of_a_good_photo_and_a_dark_one(local_engine) -> None:  # type: ignore[no-untyped-def]
    img = read_image(lfw_image("Abel_Pacheco", 1))
    good = local_engine.quality(img)
    assert good.faces >= 1 and "eye_openness" in good.measures
    assert {f.code for f in good.findings} <= {"multiple_faces"}
    dark = local_engine.quality((img * 0.15).astype(np.uint8))
    assert "too_dark" in {f.code for f in dark.findings} or "no_face" in {f.code for f in dark.findings}


def test_no_face_in_a_flat_picture(local_engine) -> None:  # type: ignore[no-untyped-def]
    report = local_engine.quality(np.full((240, 320, 3), 90, np.uint8))
    assert [f.code for f in report.findings] == ["no_face"]


def test_turned_head_is_reported(local_engine) -> None:  # type: ignore[no-untyped-def]
    img = read_image(lfw_image("Abel_Pacheco", 1))
    rotated = cv2.warpAffine(img, cv2.getRotationMatrix2D((125, 125), 35, 1.0), (250, 250),
                             borderMode=cv2.BORDER_REFLECT101)
    codes = {f.code for f in local_engine.quality(rotated).findings}
    assert "head_tilted_sideways" in codes


def test_blurred_photo_is_reported(local_engine) -> None:  # type: ignore[no-untyped-def]
    img = read_image(lfw_image("Abel_Pacheco", 1))
    codes = {f.code for f in local_engine.quality(cv2.GaussianBlur(img, (0, 0), 4)).findings}
    assert "blurred" in codes
