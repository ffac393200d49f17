"""The keys that protect personal data: a set of AES-256 data keys (one active) and one blind-index key.

Stored as JSON, outside the database (a file with mode 0600, or the ``REALNAME_KEYRING`` environment variable):
``{"active": "k1", "keys": {"k1": "<base64>"}, "index_key": "<base64>"}``. Old data keys stay in the keyring
after :meth:`Keyring.rotated` so values encrypted under them still decrypt until they are re-encrypted.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from realname.errors import ConfigError

KEY_BYTES = 32  # AES-256 and HMAC-SHA256 keys
KEYRING_ENV = "REALNAME_KEYRING"
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # no "." : key ids sit inside "v1.<key_id>.<data>" tokens
_INIT_HINT = "run `realname keys init` to create one"


@dataclass(frozen=True)
class Keyring:
    """Data keys by id, the id used for new encryptions, and the blind-index key.

    ``index_key`` is never rotated by :meth:`rotated`: blind indexes are stored HMACs that lookups recompute, so a
    new index key would make every stored index unfindable until all rows were re-indexed from decrypted values.
    Keys are excluded from ``repr`` so they never reach logs or tracebacks.
    """

    keys: Mapping[str, bytes] = field(repr=False)
    active: str
    index_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        for key_id, key in self.keys.items():
            if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
                raise ConfigError(f"keyring: key id {key_id!r} is invalid (use 1-64 letters, digits, '_' or '-')")
            if not isinstance(key, bytes) or len(key) != KEY_BYTES:
                raise ConfigError(f"keyring: key {key_id!r} must be {KEY_BYTES} bytes")
        if self.active not in self.keys:
            raise ConfigError(f"keyring: the active key {self.active!r} is not among the keys")
        if not isinstance(self.index_key, bytes) or len(self.index_key) != KEY_BYTES:
            raise ConfigError(f"keyring: index_key must be {KEY_BYTES} bytes")
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))  # callers cannot mutate it later

    @staticmethod
    def new_key_id() -> str:
        """``k`` + UTC date + random hex: sortable by age at a glance, unique without coordination."""
        return f"k{datetime.now(UTC):%Y%m%d}{secrets.token_hex(3)}"

    @classmethod
    def generate(cls, key_id: str | None = None) -> Keyring:
        kid = key_id or cls.new_key_id()
        return cls(keys={kid: os.urandom(KEY_BYTES)}, active=kid, index_key=os.urandom(KEY_BYTES))

    def rotated(self) -> Keyring:
        """A new data key becomes active; old keys are kept so existing tokens still decrypt."""
        kid = self.new_key_id()
        while kid in self.keys:
            kid = self.new_key_id()
        return Keyring(keys={**self.keys, kid: os.urandom(KEY_BYTES)}, active=kid, index_key=self.index_key)

    # -- serialisation --------------------------------------------------------------------------------------------

    def to_json(self) -> str:
        doc = {
            "active": self.active,
            "keys": {kid: base64.b64encode(key).decode("ascii") for kid, key in sorted(self.keys.items())},
            "index_key": base64.b64encode(self.index_key).decode("ascii"),
        }
        return json.dumps(doc, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"keyring: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(doc, dict):
            raise ConfigError("keyring: expected a JSON object with 'active', 'keys' and 'index_key'")
        missing = [k for k in ("active", "keys", "index_key") if k not in doc]
        if missing:
            raise ConfigError(f"keyring: missing {', '.join(repr(m) for m in missing)}")
        if not isinstance(doc["active"], str):
            raise ConfigError("keyring: 'active' must be a key id string")
        if not isinstance(doc["keys"], dict) or not doc["keys"]:
            raise ConfigError("keyring: 'keys' must be a non-empty object of key id -> base64 key")
        keys = {kid: _b64(value, f"key {kid!r}") for kid, value in doc["keys"].items()}
        return cls(keys=keys, active=doc["active"], index_key=_b64(doc["index_key"], "index_key"))

    @classmethod
    def load(cls, path: Path | None, env: Mapping[str, str]) -> Keyring:
        """From ``$REALNAME_KEYRING`` (the JSON itself) when set, else from ``path``."""
        text = env.get(KEYRING_ENV, "")
        if text.strip():
            return cls.from_json(text)
        if path is None:
            raise ConfigError(f"no keyring: set {KEYRING_ENV} or configure a keyring file; {_INIT_HINT}")
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"no keyring file at {path}; {_INIT_HINT}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read keyring file {path}: {exc}") from None
        return cls.from_json(text)

    def save(self, path: Path) -> None:
        """Write atomically with mode 0600: a crash leaves the old file or the new one, never half of either."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # created 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                os.fchmod(fh.fileno(), 0o600)
                fh.write(self.to_json())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ConfigError(f"keyring: {what} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"keyring: {what} is not valid base64") from None
