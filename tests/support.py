"""Helpers for tests. Face data lives outside the repository (../shared/data, or $REALNAME_TEST_DATA);
tests that need it skip with the reason when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("REALNAME_TEST_DATA", ROOT.parent / "shared" / "data"))


def need_data(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"face data not available: {path} is absent (set REALNAME_TEST_DATA to the data folder)")
    return path


def lfw_image(name: str, number: int) -> Path:
    return need_data("lfw", "lfw-deepfunneled", name, f"{name}_{number:04d}.jpg")


def jpeg_bytes(image: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()
