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
