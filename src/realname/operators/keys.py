"""Key rotation: a new active key, and every encrypted value re-encrypted with it.

The new keyring (old keys kept) is saved before the data is re-encrypted, so a crash in between leaves values
that still decrypt; the re-encryption itself is one transaction.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select

from realname.audit.log import append
from realname.context import SYSTEM, Actor, Services
from realname.errors import ConfigError
from realname.privacy.fields import PERSON_FIELDS, FieldCipher
from realname.privacy.keyring import KEYRING_ENV, Keyring
from realname.registry.tables import FaceTemplate, Person, Verification


def rotate_log_key(svc: Services, keyring_path: Path, actor: Actor = SYSTEM) -> tuple[str, str | None]:
    """A new active log signing key; returns it and the previous one. The keyring file is re-read and saved inside
    the write transaction that records the rotation, so two rotations at once are serialised."""
    if os.environ.get(KEYRING_ENV, "").strip():
        raise ConfigError(f"{KEYRING_ENV} is set: rotate a keyring file (REALNAME_KEYRING_FILE), then update the "
                          "variable from it")
    with svc.db.write() as s:
        current = Keyring.load(keyring_path, {})
        new_ring = current.rotated_log_key()
        assert new_ring.log_active is not None
        new_ring.save(keyring_path)
        append(s, at=svc.now(), actor=actor.username, action="log_key_rotation", subject=new_ring.log_active,
               payload={"previous": current.log_active})
    return new_ring.log_active, current.log_active


def rotate_keys(svc: Services, keyring_path: Path, actor: Actor = SYSTEM) -> tuple[str, int]:
    """Returns the new key id and the number of values re-encrypted.

    The keyring is re-read from its file inside the write transaction, so two rotations at once are serialised
    and the second starts from the first one's keys. A keyring given in ``REALNAME_KEYRING`` cannot be rotated
    here (the variable would still hold the old keys): rotate the file instead.
    """
    if os.environ.get(KEYRING_ENV, "").strip():
        raise ConfigError(f"{KEYRING_ENV} is set: rotate a keyring file (REALNAME_KEYRING_FILE), then update the "
                          "variable from it")
    count = 0
    with svc.db.write() as s:
        current = Keyring.load(keyring_path, {})
        old = FieldCipher(current)
        new_ring = current.rotated()
        new_ring.save(keyring_path)  # saved before re-encrypting: a crash leaves values that still decrypt
        new = FieldCipher(new_ring)
        for person in s.execute(select(Person)).scalars():
            for attr, context in PERSON_FIELDS:
                token = getattr(person, attr)
                if token:
                    setattr(person, attr, new.encrypt(old.decrypt(token, context=context), context=context))
                    count += 1
        for v in s.execute(select(Verification).where(Verification.portrait_enc.is_not(None))).scalars():
            assert v.portrait_enc is not None
            v.portrait_enc = new.encrypt_bytes(old.decrypt_bytes(v.portrait_enc, context="verification.portrait"),
                                               context="verification.portrait")
            count += 1
        for t in s.execute(select(FaceTemplate)).scalars():
            t.template_enc = new.encrypt_bytes(old.decrypt_bytes(t.template_enc, context="face.template"),
                                               context="face.template")
            count += 1
        append(s, at=svc.now(), actor=actor.username, action="key_rotation", subject=new_ring.active,
               payload={"values": count, "previous": current.active})
    return new_ring.active, count
