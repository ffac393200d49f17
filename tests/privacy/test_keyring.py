"""The keyring: generation, JSON form, loading, atomic saving, rotation."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from realname.errors import ConfigError
from realname.privacy.keyring import KEY_BYTES, KEYRING_ENV, Keyring


def _b64(n: int) -> str:
    return base64.b64encode(b"x" * n).decode()


def test_generate_makes_random_32_byte_keys() -> None:
    a, b = Keyring.generate(), Keyring.generate()
    assert len(a.keys[a.active]) == KEY_BYTES and len(a.index_key) == KEY_BYTES
    assert a.keys[a.active] != b.keys[b.active] and a.index_key != b.index_key
    assert a.active.startswith("k") and a.active != b.active
    assert Keyring.generate("k1").active == "k1"


def test_json_round_trip() -> None:
    ring = Keyring.generate().rotated()
    again = Keyring.from_json(ring.to_json())
    assert again == ring
    # Field keys, the blind-index key, and the audit log's signing keys (the active one and those it replaced).
    assert set(json.loads(ring.to_json())) == {"active", "keys", "index_key", "log_active", "log_keys"}


def test_repr_hides_key_material() -> None:
    ring = Keyring.generate("k1")
    text = repr(ring)
    assert "k1" in text
    assert base64.b64encode(ring.keys["k1"]).decode() not in text and str(ring.index_key) not in text


def test_keys_cannot_be_mutated_after_construction() -> None:
    source = {"k1": b"a" * 32}
    ring = Keyring(keys=source, active="k1", index_key=b"i" * 32)
    source["k2"] = b"b" * 32
    assert set(ring.keys) == {"k1"}
    with pytest.raises(TypeError):
        ring.keys["k3"] = b"c" * 32  # type: ignore[index]


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ("not json", "not valid JSON"),
        ("[]", "JSON object"),
        ({"keys": {"k1": _b64(32)}, "index_key": _b64(32)}, "'active'"),
        ({"active": "k1", "index_key": _b64(32)}, "'keys'"),
        ({"active": "k1", "keys": {"k1": _b64(32)}}, "'index_key'"),
        ({"active": "k2", "keys": {"k1": _b64(32)}, "index_key": _b64(32)}, "'k2' is not among the keys"),
        ({"active": "k1", "keys": {"k1": _b64(16)}, "index_key": _b64(32)}, "'k1' must be 32 bytes"),
        ({"active": "k1", "keys": {"k1": _b64(32)}, "index_key": _b64(31)}, "index_key must be 32 bytes"),
        ({"active": "k1", "keys": {"k1": "%%%not base64"}, "index_key": _b64(32)}, "'k1' is not valid base64"),
        ({"active": "k1", "keys": {"k1": _b64(32)}, "index_key": 7}, "index_key must be a base64 string"),
        ({"active": "k.1", "keys": {"k.1": _b64(32)}, "index_key": _b64(32)}, "key id 'k.1' is invalid"),
        ({"active": "k1", "keys": {}, "index_key": _b64(32)}, "non-empty"),
        ({"active": 1, "keys": {"k1": _b64(32)}, "index_key": _b64(32)}, "'active' must be"),
    ],
)
def test_from_json_names_the_problem(doc: object, fragment: str) -> None:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    with pytest.raises(ConfigError, match="keyring") as info:
        Keyring.from_json(text)
    assert fragment in info.value.message
    assert info.value.code == "bad_config"


def test_load_prefers_the_environment(tmp_path: Path) -> None:
    on_disk, in_env = Keyring.generate("disk"), Keyring.generate("env")
    path = tmp_path / "keyring.json"
    on_disk.save(path)
    assert Keyring.load(path, {KEYRING_ENV: in_env.to_json()}) == in_env
    assert Keyring.load(path, {}) == on_disk
    assert Keyring.load(path, {KEYRING_ENV: "  "}) == on_disk


def test_load_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="realname keys init"):
        Keyring.load(tmp_path / "absent.json", {})
    with pytest.raises(ConfigError, match="realname keys init"):
        Keyring.load(None, {})


def test_load_bad_env_json_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        Keyring.load(tmp_path / "absent.json", {KEYRING_ENV: "{"})


def test_save_is_private_and_atomic(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "keyring.json"
    first, second = Keyring.generate(), Keyring.generate()
    first.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    second.save(path)  # replaces the file, and its loose mode
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Keyring.load(path, {}) == second
    assert [p.name for p in path.parent.iterdir()] == ["keyring.json"]  # no temp files left behind


def test_rotated_adds_an_active_key_and_keeps_the_rest() -> None:
    ring = Keyring.generate("k1")
    new = ring.rotated()
    assert new.active != "k1" and set(new.keys) == {"k1", new.active}
    assert new.keys["k1"] == ring.keys["k1"]
    assert new.index_key == ring.index_key  # never rotated: stored blind indexes must stay findable
    assert len(new.rotated().keys) == 3
