"""`realname backup` and `realname restore` on SQLite and PostgreSQL, as an operator runs them: back up, rotate the
keys (every value re-encrypted, a new keyring file), keep working, restore; then every encrypted field reads with
the restored keyring and the audit chain verifies. An archive whose keyring cannot open its data is refused with
nothing replaced."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.registry_support import KEYRING, make_services, noise_frames, portrait_bytes, prc_card, seeded
from tests.servers import BIN

from realname.audit.log import verify_chain
from realname.context import Services
from realname.operators.auth import authenticate, login
from realname.operators.demo import DEMO_PASSWORD
from realname.privacy.fields import PERSON_FIELDS, FieldCipher
from realname.privacy.keyring import Keyring
from realname.registration import registrations, verifications
from realname.registry.tables import AuditEvent, FaceTemplate, Person, Verification


def realname(*args: str, url: str, keys: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REALNAME_DATABASE_URL": url, "REALNAME_KEYRING_FILE": str(keys)}
    env.pop("REALNAME_KEYRING", None)
    return subprocess.run([str(BIN / "realname"), *args], env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def register_some(svc: Services, n: int) -> str:
    """``n`` registrations, and one verification left open (its encrypted portrait is kept until decided)."""
    agent = authenticate(svc, login(svc, "agent1", DEMO_PASSWORD)[0])
    for _ in range(n):
        opened = verifications.open_verification(svc, agent, prc_card(), portrait_bytes(), consent=True)
        verifications.start_capture(svc, agent, opened.verification.id, opened.challenge)
        verifications.submit_capture(svc, agent, opened.verification.id, noise_frames())
        registrations.register(svc, agent, opened.verification.id)
    return verifications.open_verification(svc, agent, prc_card(), portrait_bytes(), consent=True).verification.id


def read_everything(svc: Services, keyring: Keyring) -> int:
    """Decrypt every encrypted field with ``keyring``; the number of values read."""
    cipher, n = FieldCipher(keyring), 0
    with svc.db.read() as s:
        for person in s.execute(select(Person)).scalars():
            for attr, context in PERSON_FIELDS:
                if token := getattr(person, attr):
                    assert cipher.decrypt(token, context=context)
                    n += 1
        for v in s.execute(select(Verification).where(Verification.portrait_enc.is_not(None))).scalars():
            assert v.portrait_enc is not None and cipher.decrypt_bytes(v.portrait_enc, context="verification.portrait")
            n += 1
        for t in s.execute(select(FaceTemplate)).scalars():
            assert cipher.decrypt_bytes(t.template_enc, context="face.template")
            n += 1
    return n


def counts(svc: Services) -> dict[str, Any]:
    with svc.db.read() as s:
        return {"people": s.execute(select(func.count()).select_from(Person)).scalar_one(),
                "events": s.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
                "chain": verify_chain(s).ok}


def test_backup_rotate_restore(db_url: str, tmp_path: Path) -> None:
    svc, _ = seeded(db_url)
    keys, archive = tmp_path / "keys.json", tmp_path / "backup.tar.gz"
    KEYRING.save(keys)
    register_some(svc, 3)
    before = counts(svc)
    assert before["chain"] and read_everything(svc, KEYRING) == 4 * before["people"] + 1

    made = realname("backup", str(archive), "--json", url=db_url, keys=keys)
    assert made.returncode == 0 and made.stderr == "", made.stderr
    manifest = json.loads(made.stdout)
    assert manifest["keyring"]["key_ids"] == [KEYRING.active] and manifest["migration"]
    assert manifest["audit"]["events"] == before["events"] and oct(archive.stat().st_mode & 0o777) == "0o600"

    rotated = realname("keys", "rotate", url=db_url, keys=keys)
    assert rotated.returncode == 0, rotated.stderr
    new_ring = Keyring.load(keys, {})
    assert new_ring.active != KEYRING.active
    register_some(make_services(db_url, keyring=new_ring), 1)  # work goes on after the backup

    restored = realname("restore", str(archive), url=db_url, keys=keys)
    assert restored.returncode == 0 and restored.stderr == "", restored.stderr
    ring = Keyring.load(keys, {})
    assert ring.active == KEYRING.active and set(ring.keys) == {KEYRING.active}
    assert Keyring.load(tmp_path / "keys.json.before-restore", {}).active == new_ring.active  # kept, not lost
    svc = make_services(db_url, keyring=ring)
    assert counts(svc) == before  # the backup's state: the registration made after it is gone
    assert read_everything(svc, ring) == 4 * before["people"] + 1
    assert realname("audit", "verify", url=db_url, keys=keys).returncode == 0


def _with_keyring(archive: Path, dest: Path, ring: Keyring) -> None:
    """The archive with another keyring in it, its manifest's sha256 updated to match (a consistent archive whose
    keyring does not belong to its data, as when the wrong keyring file was packed)."""
    import hashlib

    with tarfile.open(archive) as tar:
        parts = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    parts["keyring.json"] = ring.to_json().encode()
    manifest = json.loads(parts["manifest.json"])
    manifest["sha256"]["keyring.json"] = hashlib.sha256(parts["keyring.json"]).hexdigest()
    parts["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(dest, "w:gz") as tar:
        for name, data in parts.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_a_restore_whose_keyring_cannot_open_the_data_is_refused(db_url: str, tmp_path: Path) -> None:
    svc, _ = seeded(db_url)
    keys, archive, foreign = tmp_path / "keys.json", tmp_path / "backup.tar.gz", tmp_path / "foreign.tar.gz"
    KEYRING.save(keys)
    register_some(svc, 1)
    assert realname("backup", str(archive), url=db_url, keys=keys).returncode == 0
    _with_keyring(archive, foreign, Keyring.generate())
    register_some(svc, 1)
    before, key_bytes = counts(svc), keys.read_bytes()

    refused = realname("restore", str(foreign), url=db_url, keys=keys)
    assert refused.returncode == 1 and "cannot open the data" in refused.stderr, refused.stderr
    assert counts(svc) == before and keys.read_bytes() == key_bytes  # nothing replaced
    assert not (tmp_path / "keys.json.before-restore").exists()

    archive.write_bytes(archive.read_bytes()[:-200])  # a damaged archive is refused too
    damaged = realname("restore", str(archive), url=db_url, keys=keys)
    assert damaged.returncode in (1, 2) and damaged.stderr and counts(svc) == before


@pytest.mark.parametrize("args", [["backup"], ["restore", "/no/such/archive.tar.gz"]])
def test_backup_and_restore_need_their_argument_and_an_archive(args: list[str], tmp_path: Path) -> None:
    r = realname(*args, url=f"sqlite:///{tmp_path / 'r.db'}", keys=tmp_path / "keys.json")
    assert r.returncode == 2 and r.stderr
