"""Encrypt single column values, and compute blind indexes for exact-match lookups.

A token is ``v1.<key_id>.<base64url(nonce || ciphertext+tag)>`` (no padding): plain text, safe in any column, and
it names its key so rotation can find values still under an old key. The column's ``context`` (``"person.name"``)
is the AES-GCM associated data, so a token copied into another column, or another row type, fails to decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from realname.errors import IntegrityError
from realname.privacy.keyring import Keyring

# A person's encrypted text columns and their contexts (key rotation re-encrypts them, a restore samples them).
PERSON_FIELDS = (("number_enc", "person.number"), ("name_enc", "person.name"), ("address_enc", "person.address"),
                 ("birth_date_enc", "person.birth_date"))

VERSION = "v1"
NONCE_BYTES = 12  # the GCM standard size; random nonces are safe far beyond any realistic count per key
_TAG_BYTES = 16


class FieldCipher:
    """AES-256-GCM over column values, with the keyring's active key for new values and any key for old ones."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._aead = {kid: AESGCM(key) for kid, key in keyring.keys.items()}

    def encrypt(self, plaintext: str, *, context: str) -> str:
        return self.encrypt_bytes(plaintext.encode("utf-8"), context=context)

    def decrypt(self, token: str, *, context: str) -> str:
        data = self.decrypt_bytes(token, context=context)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise IntegrityError(f"the {context} value is binary, not text") from None

    def encrypt_bytes(self, plaintext: bytes, *, context: str) -> str:
        kid = self.keyring.active
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead[kid].encrypt(nonce, plaintext, _aad(context))
        return f"{VERSION}.{kid}.{_b64encode(nonce + sealed)}"

    def decrypt_bytes(self, token: str, *, context: str) -> bytes:
        kid, blob = _parse(token, context)
        aead = self._aead.get(kid)
        if aead is None:
            raise IntegrityError(f"the {context} value is encrypted under key {kid!r}, which is not in the keyring")
        try:
            return aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(context))
        except InvalidTag:
            raise IntegrityError(f"the {context} value fails authentication: altered, or from another column") \
                from None

    def key_id_of(self, token: str) -> str:
        return _parse(token, "token")[0]

    def needs_rotation(self, token: str) -> bool:
        """True when the value should be re-encrypted under the active key."""
        return self.key_id_of(token) != self.keyring.active


def normalise_for_index(value: str) -> str:
    """NFKC (full-width -> ASCII digits and letters), trimmed, upper-case: how a clerk's typing should match."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def blind_index(keyring: Keyring, value: str, *, context: str) -> str:
    """HMAC-SHA256 hex of ``context NUL normalised-value`` under the index key.

    Keyed, so the index cannot be brute-forced from the database alone (document numbers have little entropy);
    the context keeps equal values in different columns from sharing an index.
    """
    _check_context(context)
    msg = context.encode("utf-8") + b"\x00" + normalise_for_index(value).encode("utf-8")
    return hmac.new(keyring.index_key, msg, hashlib.sha256).hexdigest()


def _aad(context: str) -> bytes:
    _check_context(context)
    return context.encode("utf-8")


def _check_context(context: str) -> None:
    if not context or "\x00" in context:
        raise ValueError("context must be a non-empty string without NUL, such as 'person.name'")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _parse(token: str, context: str) -> tuple[str, bytes]:
    """Split and strictly decode a token; anything unexpected is an IntegrityError, never a silent fix-up."""
    bad = IntegrityError(f"the {context} value is not a valid encrypted token")
    if not isinstance(token, str):
        raise bad
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != VERSION or not parts[1]:
        raise bad
    kid, text = parts[1], parts[2]
    try:
        blob = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise bad from None
    # The decoder ignores stray characters and unused low bits; re-encoding rejects any non-canonical spelling.
    if _b64encode(blob) != text or len(blob) < NONCE_BYTES + _TAG_BYTES:
        raise bad
    return kid, blob
