"""Readiness: can this process serve a registration now? The database answers, its schema is at the code's
migration head, the keyring loads, and the model files are present and are the files we measured.

Cheap enough to poll every few seconds: the migration head is read from the migration scripts once per process,
and a model file is hashed again only when its size or modification time changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from realname.engine.models import MODEL_FILES, ModelFile, locate, package_dir
from realname.errors import RealnameError


@dataclass(frozen=True)
class Part:
    name: str
    ok: bool
    detail: str


@cache
def migration_head() -> str | None:
    from alembic.script import ScriptDirectory

    from realname.registry.migrate import MIGRATIONS

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current_revision(connection: Any) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def required_models(engine: str) -> list[ModelFile]:
    """The fake engine needs no model; every real engine loads the detector, the embedders and the landmarker."""
    return [] if engine == "fake" else list(MODEL_FILES.values())


_verified: dict[str, tuple[str, int, int]] = {}  # model key -> (path, size, mtime_ns) of the file last verified


def model_file(model: ModelFile) -> Path | None:
    base = package_dir(model.package)
    return base / model.relpath if base is not None else None


def model_ok(model: ModelFile) -> None:
    """Raise ModelError unless ``model`` is present and its sha256 is right; hashes only when the file changed."""
    path = model_file(model)
    try:
        st = os.stat(path) if path is not None else None
    except OSError:
        st = None
    stamp = (str(path), st.st_size, st.st_mtime_ns) if st is not None else None
    if stamp is not None and _verified.get(model.key) == stamp:
        return
    _verified.pop(model.key, None)
    locate(model)  # raises ModelError naming the package to reinstall
    if stamp is not None:
        _verified[model.key] = stamp


def check(services: Any) -> list[Part]:
    """Every part, in order; a part that fails names what is wrong (never a secret or a personal field)."""
    from realname.registry.db import DatabaseError

    parts: list[Part] = []
    try:
        with services.db.engine.connect() as conn:
            revision = current_revision(conn)
        parts.append(Part("database", True, services.db.url.get_backend_name()))
        head = migration_head()
        parts.append(Part("migrations", revision == head, f"at {revision}" if revision == head else
                          f"at {revision or 'no schema'}, the code needs {head}: run `realname db upgrade`"))
    except DatabaseError as exc:
        reason = type(getattr(exc, "orig", None) or exc).__name__
        parts.append(Part("database", False, f"does not answer ({reason})"))
        parts.append(Part("migrations", False, "unknown: the database does not answer"))
    try:
        parts.append(Part("keyring", True, f"active key {services.keyring.active}"))
    except RealnameError as exc:
        parts.append(Part("keyring", False, exc.message))
    problems = []
    models = required_models(services.settings.engine)
    for model in models:
        try:
            model_ok(model)
        except RealnameError as exc:
            problems.append(exc.message)
    parts.append(Part("models", not problems, "; ".join(problems) or f"{len(models)} verified"))
    return parts
