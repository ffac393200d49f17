"""Shared fixtures (helpers are in tests/support.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest


@pytest.fixture(scope="session")
def local_engine():  # type: ignore[no-untyped-def]
    from realname.engine.local import LocalEngine

    cv2.setNumThreads(1)
    return LocalEngine()


@pytest.fixture
def textured() -> np.ndarray:
    """A deterministic non-flat picture (the fake engine 'finds a face' in it)."""
    rng = np.random.default_rng(7)
    img = rng.integers(0, 255, (120, 100, 3), dtype=np.uint8)
    return cv2.GaussianBlur(img, (5, 5), 0)


from tests.registry_support import db_url  # noqa: E402, F401  (the SQLite + PostgreSQL fixture)
