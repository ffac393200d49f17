"""`realname doctor` on a working installation exits 0; with an unmigrated database or without a keyring it exits
1 and names the command that fixes each problem. `realname --version` prints the version."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.registry_support import KEYRING
from tests.servers import BIN

from realname import __version__
from realname.registry.migrate import upgrade


def doctor(tmp: Path, db: str, keys: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REALNAME_DATABASE_URL": f"sqlite:///{tmp / db}", "REALNAME_KEYRING_FILE": str(keys)}
    env.pop("REALNAME_KEYRING", None)
    return subprocess.run([str(BIN / "realname"), "doctor", *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def test_a_working_installation(tmp_path: Path) -> None:
    upgrade(f"sqlite:///{tmp_path / 'registry.db'}")
    KEYRING.save(tmp_path / "keys.json")
    r = doctor(tmp_path, "registry.db", tmp_path / "keys.json", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    found = {f["part"]: f for f in json.loads(r.stdout)["findings"]}
    assert {"python", "packages", "database", "migrations", "keyring", "chromium"} <= found.keys()
    assert all(found[f"model {m}"]["ok"] for m in ("yunet", "sface", "dlib_resnet", "dlib_shape5", "face_landmarker"))
    assert all(f["ok"] for f in found.values() if f["required"])
    text = doctor(tmp_path, "registry.db", tmp_path / "keys.json")
    assert text.returncode == 0 and "Ready to run." in text.stdout


def test_an_unmigrated_database_and_a_missing_keyring_are_problems_with_their_fixes(tmp_path: Path) -> None:
    r = doctor(tmp_path, "empty.db", tmp_path / "no-keys.json")
    assert r.returncode == 1, r.stdout
    assert "problem migrations" in " ".join(r.stdout.split()) and "fix: realname db upgrade" in r.stdout
    assert "problem keyring" in " ".join(r.stdout.split()) and "fix: realname keys init" in r.stdout
    assert "2 problem(s)" in r.stdout


def test_version() -> None:
    r = subprocess.run([str(BIN / "realname"), "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0 and r.stdout.strip() == f"realname {__version__}" and r.stderr == ""
