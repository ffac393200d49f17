"""The matcher with the fake engine: the flow, not the accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from realname.engine.fake import FakeEngine
from realname.errors import NoFaceError
from realname.verification.matcher import Decision, Matcher
from realname.verification.thresholds import load_thresholds


@pytest.fixture
def matcher() -> Matcher:
    return Matcher(FakeEngine(), load_thresholds(), "cascade")


def test_same_picture_matches(matcher: Matcher, textured: np.ndarray) -> None:
    r = matcher.compare(textured, textured.copy())
    assert r.decision is Decision.MATCH and r.score > 0.99
    assert r.document.face is not None and r.live.face is not None


def test_different_pictures_do_not_match(matcher: Matcher, textured: np.ndarray) -> None:
    other = np.random.default_rng(1).integers(0, 255, textured.shape, dtype=np.uint8)
    assert matcher.compare(textured, other).decision is Decision.NO_MATCH


def test_no_face_is_a_typed_error_naming_the_side(matcher: Matcher, textured: np.ndarray) -> None:
    flat = np.full_like(textured, 100)
    with pytest.raises(NoFaceError, match="live photo"):
        matcher.compare(textured, flat)
    with pytest.raises(NoFaceError, match="document photo"):
        matcher.compare(flat, textured)


@pytest.mark.models
@pytest.mark.data
def test_half_a_face_is_a_retake_not_a_decision(local_engine) -> None:  # type: ignore[no-untyped-def]
    """A live photo with half the face outside the picture is refused with the quality finding (the same person's
    whole face matches); a cut document photo is named as such."""
    from tests.support import lfw_image

    from realname.errors import FaceQualityError
    from realname.images import read_image

    matcher = Matcher(local_engine, load_thresholds(), "cascade")
    document, live = read_image(lfw_image("Al_Gore", 2)), read_image(lfw_image("Al_Gore", 1))
    assert matcher.compare(document, live).decision is Decision.MATCH
    half = live[:, : live.shape[1] // 2]  # LFW faces sit in the middle: this keeps their left half
    with pytest.raises(FaceQualityError, match="live photo") as raised:
        matcher.compare(document, half)
    assert raised.value.code == "face_cut_off" and raised.value.photo == "live photo"
    with pytest.raises(FaceQualityError, match="document photo"):
        matcher.compare(half, live)
