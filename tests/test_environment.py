"""The installed environment is the locked one: versions match requirements/*.lock, the heavy dependencies
mediapipe declares but we do not use are absent, and exactly one OpenCV distribution is installed (a second
one would silently replace cv2's files with another build)."""

from __future__ import annotations

import importlib
import re
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OPENCV_DISTS = {"opencv-python", "opencv-contrib-python", "opencv-python-headless",
                "opencv-contrib-python-headless"}
NOT_WANTED = {"jax", "jaxlib", "opencv-contrib-python", "sounddevice", "sentencepiece", "torch"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked(lock: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / lock).read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s\\;]+)", line)
        if m:
            pins[_norm(m.group(1))] = m.group(2)
    return pins


def _installed() -> dict[str, str]:
    return {_norm(d.metadata["Name"]): d.version for d in metadata.distributions()}


def test_runtime_lock_is_a_subset_of_dev_lock() -> None:
    runtime, dev = _locked("runtime.lock"), _locked("dev.lock")
    assert runtime, "runtime.lock has no pins"
    assert {k: v for k, v in dev.items() if k in runtime} == runtime


def test_installed_versions_match_the_lock() -> None:
    installed = _installed()
    wrong = {name: (version, installed.get(name)) for name, version in _locked("dev.lock").items()
             if installed.get(name) != version}
    assert not wrong, f"locked version vs installed: {wrong}"


def test_nothing_outside_the_lock_is_installed() -> None:
    allowed = set(_locked("dev.lock")) | {"pip", "setuptools", "wheel", "realname"}
    extra = sorted(set(_installed()) - allowed)
    assert not extra, f"installed but not locked (install from the lock with --no-deps): {extra}"


def test_exactly_one_opencv_distribution() -> None:
    present = OPENCV_DISTS & set(_installed())
    assert present == {"opencv-python-headless"}, present


def test_unused_mediapipe_dependencies_are_absent() -> None:
    assert not NOT_WANTED & set(_installed())


@pytest.mark.parametrize("module", ["cv2", "dlib", "numpy", "mediapipe", "fastapi", "typer", "PIL"])
def test_imports(module: str) -> None:
    importlib.import_module(module)


def test_pins_that_the_models_need() -> None:
    import cv2
    import google.protobuf
    import numpy

    assert cv2.__version__.startswith("4.11."), "OpenCV 5's FaceRecognizerSF fails on these SFace files"
    assert int(numpy.__version__.split(".")[0]) < 2, "mediapipe 0.10.21 is built against numpy 1.x"
    assert int(google.protobuf.__version__.split(".")[0]) < 5, "mediapipe 0.10.21 needs protobuf < 5"
    assert hasattr(cv2, "FaceDetectorYN") and hasattr(cv2, "FaceRecognizerSF")
