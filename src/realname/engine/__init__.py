"""Face engines: the interface in :mod:`.base`, the real backends in :mod:`.local`, a fake for tests."""

from __future__ import annotations

from realname.engine.base import FaceEngine


def build_engine(name: str = "local") -> FaceEngine:
    """``local`` (YuNet + SFace + dlib + FaceMesh) or ``fake``. Cheap: models load on first use."""
    if name == "fake":
        from realname.engine.fake import FakeEngine

        return FakeEngine()
    if name == "local":
        from realname.engine.local import LocalEngine

        return LocalEngine()
    raise ValueError(f"unknown engine {name!r}: use 'local' or 'fake'")
