"""The keys that protect personal data: a set of AES-256 data keys (one active) and one blind-index key; and the
Ed25519 keys that sign the audit log's tree heads (one active).

Stored as JSON, outside the database (a file with mode 0600, or the ``REALNAME_KEYRING`` environment variable):
``{"active": "k1", "keys": {"k1": "<base64>"}, "index_key": "<base64>", "log_active": "l1",
"log_keys": {"l1": "<base64 Ed25519 private key>"}}``. Old data keys stay in the keyring after
:meth:`Keyring.rotated` so values encrypted under them still decrypt until they are re-encrypted; old log keys stay
after :meth:`Keyring.rotated_log_key` so tree heads signed with them can still be checked (their public halves
are what the regulator keeps). A keyring written before the log existed has no log key until it is rotated in.
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
LOG_KEY_BYTES = 32  # an Ed25519 private key, raw
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
    log_keys: Mapping[str, bytes] = field(default_factory=dict, repr=False)  # Ed25519 private keys (raw)
    log_active: str | None = None

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
        for key_id, key in self.log_keys.items():
            if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
                raise ConfigError(f"keyring: log key id {key_id!r} is invalid (use 1-64 letters, digits, '_' or '-')")
            if not isinstance(key, bytes) or len(key) != LOG_KEY_BYTES:
                raise ConfigError(f"keyring: log key {key_id!r} must be {LOG_KEY_BYTES} bytes")
        if (self.log_active is None) != (not self.log_keys) or (self.log_active and self.log_active not in
                                                                 self.log_keys):
            raise ConfigError(f"keyring: the active log key {self.log_active!r} is not among the log keys")
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))  # callers cannot mutate it later
        object.__setattr__(self, "log_keys", MappingProxyType(dict(self.log_keys)))

    @staticmethod
    def new_key_id() -> str:
        """``k`` + UTC date + random hex: sortable by age at a glance, unique without coordination."""
        return f"k{datetime.now(UTC):%Y%m%d}{secrets.token_hex(3)}"

    @classmethod
    def generate(cls, key_id: str | None = None) -> Keyring:
        kid = key_id or cls.new_key_id()
        lid = "l" + kid[1:] if kid.startswith("k") else "l" + kid[:63]
        return cls(keys={kid: os.urandom(KEY_BYTES)}, active=kid, index_key=os.urandom(KEY_BYTES),
                   log_keys={lid: os.urandom(LOG_KEY_BYTES)}, log_active=lid)

    def rotated(self) -> Keyring:
        """A new data key becomes active; old keys are kept so existing tokens still decrypt."""
        kid = self.new_key_id()
        while kid in self.keys:
            kid = self.new_key_id()
        return Keyring(keys={**self.keys, kid: os.urandom(KEY_BYTES)}, active=kid, index_key=self.index_key,
                       log_keys=self.log_keys, log_active=self.log_active)

    def rotated_log_key(self) -> Keyring:
        """A new active log signing key (the first one for a keyring that has none); old ones are kept so the
        public keys of old tree heads can still be listed and their heads checked."""
        lid = "l" + self.new_key_id()[1:]
        while lid in self.log_keys:
            lid = "l" + self.new_key_id()[1:]
        return Keyring(keys=self.keys, active=self.active, index_key=self.index_key,
                       log_keys={**self.log_keys, lid: os.urandom(LOG_KEY_BYTES)}, log_active=lid)

    # -- serialisation --------------------------------------------------------------------------------------------

    def to_json(self) -> str:
        doc: dict[str, Any] = {
            "active": self.active,
            "keys": {kid: base64.b64encode(key).decode("ascii") for kid, key in sorted(self.keys.items())},
            "index_key": base64.b64encode(self.index_key).decode("ascii"),
        }
        if self.log_keys:
            doc["log_active"] = self.log_active
            doc["log_keys"] = {kid: base64.b64encode(key).decode("ascii") for kid, key in sorted(self.log_keys.items())}
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
        log_keys = doc.get("log_keys") or {}
        if not isinstance(log_keys, dict) or not isinstance(doc.get("log_active"), (str, type(None))):
            raise ConfigError("keyring: 'log_keys' must be an object of key id -> base64 key, 'log_active' a key id")
        return cls(keys=keys, active=doc["active"], index_key=_b64(doc["index_key"], "index_key"),
                   log_keys={kid: _b64(v, f"log key {kid!r}") for kid, v in log_keys.items()},
                   log_active=doc.get("log_active"))

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
