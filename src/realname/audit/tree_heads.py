"""Signed tree heads (STH): the log's commitment "the first ``size`` events have Merkle root ``root``", signed with
the operator's Ed25519 log key. Pure: signing, checking, and the JSON form a regulator files and exchanges.

What is signed is the canonical JSON of ``{"log", "size", "root", "timestamp", "key_id"}`` (sorted keys, no
whitespace): the signature covers the key id, so a head cannot be re-attributed to another key. Public keys travel
as ``{"keys": {key_id: base64 raw Ed25519 public key}}`` (``realname audit log-keys``): old keys stay listed after a
rotation, so heads signed before it still check.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from realname.errors import BadInputError, ConfigError, IntegrityError
from realname.privacy.keyring import Keyring

LOG_ID = "realname-audit-log/v1"


@dataclass(frozen=True)
class TreeHead:
    size: int
    root: bytes
    timestamp: int  # ms since the epoch, UTC
    key_id: str
    signature: bytes

    def signed_bytes(self) -> bytes:
        return signed_bytes(self.size, self.root, self.timestamp, self.key_id)

    def as_dict(self) -> dict[str, Any]:
        return {"log": LOG_ID, "size": self.size, "root": self.root.hex(), "timestamp": self.timestamp,
                "key_id": self.key_id, "signature": base64.b64encode(self.signature).decode("ascii")}

    @classmethod
    def from_dict(cls, doc: Any) -> TreeHead:
        """A head as exchanged in JSON; anything malformed is bad input (``bad_tree_head``)."""
        def bad(why: str) -> BadInputError:
            return BadInputError(f"not a tree head: {why}", code="bad_tree_head")

        if not isinstance(doc, dict):
            raise bad("expected a JSON object")
        if doc.get("log") != LOG_ID:
            raise bad(f"'log' must be {LOG_ID!r}")
        size, stamp, kid = doc.get("size"), doc.get("timestamp"), doc.get("key_id")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise bad("'size' must be a whole number >= 0")
        if not isinstance(stamp, int) or isinstance(stamp, bool) or stamp < 0:
            raise bad("'timestamp' must be milliseconds since the epoch")
        if not isinstance(kid, str) or not kid:
            raise bad("'key_id' must name the log key")
        return cls(size, hex_hash(doc.get("root"), "root"), stamp, kid, _b64(doc.get("signature"), "signature"))


def hex_hash(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 64:
        raise BadInputError(f"{what} must be 64 hex digits", code="bad_hash")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise BadInputError(f"{what} must be 64 hex digits", code="bad_hash") from None


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise BadInputError(f"{what} must be base64 text", code="bad_tree_head")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadInputError(f"{what} is not valid base64", code="bad_tree_head") from None


def signed_bytes(size: int, root: bytes, timestamp: int, key_id: str) -> bytes:
    doc = {"log": LOG_ID, "size": size, "root": root.hex(), "timestamp": timestamp, "key_id": key_id}
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def sign(keyring: Keyring, size: int, root: bytes, timestamp: int) -> TreeHead:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if keyring.log_active is None:
        raise ConfigError("the keyring has no log signing key: run `realname keys rotate-log` to add one",
                          code="no_log_key")
    key = Ed25519PrivateKey.from_private_bytes(keyring.log_keys[keyring.log_active])
    return TreeHead(size, root, timestamp, keyring.log_active,
                    key.sign(signed_bytes(size, root, timestamp, keyring.log_active)))


def public_keys(keyring: Keyring) -> dict[str, bytes]:
    """Every log key's public half (old ones included), by key id."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return {kid: Ed25519PrivateKey.from_private_bytes(raw).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            for kid, raw in keyring.log_keys.items()}


def keys_document(keys: Mapping[str, bytes]) -> dict[str, Any]:
    return {"log": LOG_ID, "keys": {kid: base64.b64encode(k).decode("ascii") for kid, k in sorted(keys.items())}}


def parse_keys(doc: Any) -> dict[str, bytes]:
    """The public keys of a :func:`keys_document` (or a bare ``{key_id: base64}`` object)."""
    keys = doc.get("keys", doc) if isinstance(doc, dict) else None
    if not isinstance(keys, dict) or not keys:
        raise BadInputError("expected log public keys: {\"keys\": {key_id: base64 Ed25519 public key}}",
                            code="bad_log_keys")
    out = {}
    for kid, value in keys.items():
        raw = _b64(value, f"public key {kid!r}")
        if len(raw) != 32:
            raise BadInputError(f"public key {kid!r} is not a raw Ed25519 key (32 bytes)", code="bad_log_keys")
        out[str(kid)] = raw
    return out


def check(head: TreeHead, keys: Mapping[str, bytes]) -> None:
    """Raise IntegrityError unless ``head`` is signed by the key it names, which must be among ``keys``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    raw = keys.get(head.key_id)
    if raw is None:
        raise IntegrityError(f"the tree head of size {head.size} is signed with log key {head.key_id!r}, which is "
                             "not among the keys given", code="unknown_log_key")
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(head.signature, head.signed_bytes())
    except (InvalidSignature, ValueError):
        raise IntegrityError(f"the tree head of size {head.size} does not carry a valid signature of log key "
                             f"{head.key_id!r}", code="bad_signature") from None
