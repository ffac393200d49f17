"""Backups that keep the keyring and the database together, and restores that prove they can be read first.

An archive is one tar file (mode 0600: it holds the keys) with three members:

    manifest.json   format, versions, database kind, migration revision, key ids, audit head, sha256 of each part
    keyring.json    the keyring (every key, the active one, the index key)
    database.*      SQLite: a copy made with SQLite's online backup API (``database.sqlite3``);
                    PostgreSQL: ``pg_dump --format=custom`` of the registry's schema (``database.pgdump``)

Before an archive is written, and again before a restore replaces anything, the copy is opened with the archive's
keyring: a sample of every kind of encrypted field must decrypt and the audit chain must verify. A restore whose
keyring cannot open its data is refused with nothing changed. On PostgreSQL the check runs in a scratch database
that is created and dropped for it (the restoring role needs CREATEDB); ``pg_dump`` and ``pg_restore`` must be on
PATH (the README's "Operating it" describes the manual procedure otherwise).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from realname import __version__
from realname.errors import BadInputError, ConfigError, IntegrityError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL
    from sqlalchemy.orm import Session

    from realname.privacy.keyring import Keyring

FORMAT = 1
MANIFEST, KEYRING = "manifest.json", "keyring.json"
SQLITE_PART, PG_PART = "database.sqlite3", "database.pgdump"
SAMPLE = 500  # encrypted values of each kind decrypted to prove the keyring opens the data


@dataclass(frozen=True)
class Verified:
    """What the check of a copy found: enough to tell a restore from another, no personal data."""

    migration: str | None
    audit_events: int
    audit_head: str
    key_ids_used: list[str]
    values_decrypted: int


# -- the check ----------------------------------------------------------------------------------------------------


def verify_copy(session: Session, keyring: Keyring, sample: int = SAMPLE) -> Verified:
    """Raise IntegrityError unless ``keyring`` decrypts a sample of each encrypted field and the chain verifies."""
    from sqlalchemy import select, text

    from realname.audit.log import verify_chain
    from realname.privacy.fields import PERSON_FIELDS, FieldCipher
    from realname.registry.tables import FaceTemplate, Person, Verification

    cipher = FieldCipher(keyring)
    used: set[str] = set()
    count = 0

    def opens(token: str, context: str, as_bytes: bool) -> None:
        nonlocal count
        key_id = cipher.key_id_of(token)
        used.add(key_id)
        try:
            (cipher.decrypt_bytes if as_bytes else cipher.decrypt)(token, context=context)
        except Exception as exc:
            known = "is in" if key_id in keyring.keys else "is not in"
            raise IntegrityError(f"the keyring cannot open the data: a {context} value encrypted with key {key_id} "
                                 f"(which {known} the keyring) does not decrypt") from exc
        count += 1

    columns = [getattr(Person, attr) for attr, _ in PERSON_FIELDS]
    for row in session.execute(select(*columns).order_by(Person.id).limit(sample)):
        for (_, context), token in zip(PERSON_FIELDS, row, strict=True):
            if token:
                opens(token, context, False)
    for (token,) in session.execute(select(Verification.portrait_enc).where(Verification.portrait_enc.is_not(None))
                                    .order_by(Verification.id).limit(sample)):
        opens(str(token), "verification.portrait", True)
    for (token,) in session.execute(select(FaceTemplate.template_enc).order_by(FaceTemplate.id).limit(sample)):
        opens(token, "face.template", True)
    report = verify_chain(session)
    if not report.ok:
        raise IntegrityError(f"the audit chain does not verify ({report.problem} at event {report.first_bad_seq})")
    migration = session.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
    return Verified(migration, report.count, report.last_hash, sorted(used), count)


# -- helpers ------------------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@contextmanager
def reading(url: str | URL) -> Iterator[Session]:
    """A read transaction on the copy at ``url``, disposed of afterwards."""
    from realname.registry.db import Database

    db = Database(url if isinstance(url, str) else url.render_as_string(hide_password=False))
    try:
        with db.read() as s:
            yield s
    finally:
        db.dispose()



def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for pg_dump/pg_restore, with the password in the environment, not in argv."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    tool = shutil.which(argv[0])
    if tool is None:
        raise ConfigError(f"{argv[0]} is not on PATH: install the PostgreSQL client tools (Debian: postgresql-client) "
                          "or follow the manual procedure in the README (Operating it, Backups)", code="no_pg_tools")
    done = subprocess.run([tool, *argv[1:]], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # pg_dump's messages name objects and servers, not row data.
        raise ConfigError(f"{what} failed: {done.stderr.strip()[-500:]}", code="backup_failed")


def _manifest(kind: str, part: Path, ring_bytes: bytes, keyring: Keyring, verified: Verified,
              extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "realname": __version__,
        "python": platform.python_version(),
        "database": {"kind": kind, "part": part.name, **extra},
        "migration": verified.migration,
        "keyring": {"active": keyring.active, "key_ids": sorted(keyring.keys), "key_ids_used": verified.key_ids_used},
        "audit": {"events": verified.audit_events, "head": verified.audit_head},
        "sha256": {part.name: _sha256(part), KEYRING: hashlib.sha256(ring_bytes).hexdigest()},
    }


def _write_archive(dest: Path, manifest: dict[str, Any], ring_bytes: bytes, part: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")  # created 0600
    try:
        with os.fdopen(fd, "wb") as fh, tarfile.open(fileobj=fh, mode="w:gz") as tar:
            for name, data in ((MANIFEST, json.dumps(manifest, indent=2).encode()), (KEYRING, ring_bytes)):
                info = tarfile.TarInfo(name)
                info.size, info.mode = len(data), 0o600
                tar.addfile(info, io.BytesIO(data))
            tar.add(part, arcname=part.name)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- backup -------------------------------------------------------------------------------------------------------


def backup(services: Any, dest: Path) -> dict[str, Any]:
    """Write the archive at ``dest``; returns its manifest. Refuses (IntegrityError) to write one that could not
    be restored."""
    keyring = services.keyring
    ring_bytes = keyring.to_json().encode()
    url = services.db.url
    with tempfile.TemporaryDirectory(dir=dest.parent if dest.parent.exists() else None) as work:
        if services.db.is_sqlite:
            part = Path(work) / SQLITE_PART
            source = sqlite3.connect(url.database)
            target = sqlite3.connect(part)
            try:
                source.backup(target)  # a consistent copy while the service keeps running
            finally:
                target.close()
                source.close()
            with reading(f"sqlite:///{part}") as s:
                verified = verify_copy(s, keyring)
            manifest = _manifest("sqlite", part, ring_bytes, keyring, verified, {})
        else:
            part = Path(work) / PG_PART
            manifest = _pg_dump(services, keyring, ring_bytes, part)
        _write_archive(dest, manifest, ring_bytes, part)
    return manifest


def _pg_dump(services: Any, keyring: Keyring, ring_bytes: bytes, part: Path) -> dict[str, Any]:
    """pg_dump of the registry's schema, from the very snapshot the check reads (an exported snapshot)."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    with services.db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            server = conn.execute(text("SHOW server_version")).scalar_one()
            with Session(bind=conn) as session:
                verified = verify_copy(session, keyring)
            uri, env = _libpq(services.db.url)
            _run(["pg_dump", "--format=custom", "--no-owner", f"--schema={schema}", f"--snapshot={snapshot}",
                  f"--file={part}", f"--dbname={uri}"], env, "pg_dump")
    return _manifest("postgresql", part, ring_bytes, keyring, verified, {"schema": schema, "server": server})


# -- restore ------------------------------------------------------------------------------------------------------


def read_archive(archive: Path, work: Path) -> tuple[dict[str, Any], Keyring, Path]:
    """Unpack into ``work`` and check the manifest and every part's sha256; returns the manifest, the keyring and
    the database part."""
    from realname.privacy.keyring import Keyring

    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(work, filter="data")
    except (OSError, tarfile.TarError) as exc:
        raise BadInputError(f"{archive} is not a realname backup archive ({type(exc).__name__})",
                            code="bad_archive") from None
    try:
        manifest = json.loads((work / MANIFEST).read_text(encoding="utf-8"))
        kind, part_name = manifest["database"]["kind"], manifest["database"]["part"]
        sums = manifest["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        raise BadInputError(f"{archive} has no readable manifest", code="bad_archive") from None
    if manifest.get("format") != FORMAT:
        raise BadInputError(f"{archive} is in backup format {manifest.get('format')}; this version reads {FORMAT}",
                            code="bad_archive")
    for name in (KEYRING, part_name):
        path = work / name
        if not path.is_file() or _sha256(path) != sums.get(name):
            raise IntegrityError(f"{archive}: the part {name} is missing or does not match the manifest's sha256")
    if kind not in ("sqlite", "postgresql"):
        raise BadInputError(f"{archive} holds a {kind!r} database", code="bad_archive")
    return manifest, Keyring.from_json((work / KEYRING).read_text(encoding="utf-8")), work / part_name


def _known_revision(revision: str | None) -> None:
    from alembic.script import ScriptDirectory

    from realname.registry.migrate import MIGRATIONS

    scripts = ScriptDirectory(str(MIGRATIONS))
    if revision is not None and revision not in {s.revision for s in scripts.walk_revisions()}:
        raise BadInputError(f"the backup's schema is at migration {revision}, which this version of realname does "
                            "not know: restore it with the version that made it", code="newer_schema")


def restore(services: Any, archive: Path) -> dict[str, Any]:
    """Check the archive, then replace the database and the keyring file with its contents. The keyring file
    that was there is kept beside it (``<name>.before-restore``). Stop the service first."""
    from realname.privacy.keyring import KEYRING_ENV

    if os.environ.get(KEYRING_ENV, "").strip():
        raise BadInputError(f"the keyring comes from {KEYRING_ENV}: a restore writes the keyring file "
                            "(REALNAME_KEYRING_FILE); unset the variable", code="keyring_in_env")
    keyring_file: Path = services.settings.keyring_file
    db = services.db
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        manifest, keyring, part = read_archive(archive, work)
        kind = "sqlite" if db.is_sqlite else "postgresql"
        if manifest["database"]["kind"] != kind:
            raise BadInputError(f"the archive holds a {manifest['database']['kind']} database and "
                                f"REALNAME_DATABASE_URL is {kind}", code="bad_archive")
        _known_revision(manifest.get("migration"))
        if db.is_sqlite:
            with reading(f"sqlite:///{part}") as s:
                verify_copy(s, keyring)
        else:
            _pg_check(db.url, manifest, keyring, part)
        # Checked: now replace. The old keyring is kept, for data written after the backup was made.
        if keyring_file.exists():
            shutil.copy2(keyring_file, keyring_file.with_name(keyring_file.name + ".before-restore"))
        if db.is_sqlite:
            db.dispose()
            source, target = sqlite3.connect(part), sqlite3.connect(db.url.database)
            try:
                source.backup(target)  # page by page inside one transaction of the target
            finally:
                target.close()
                source.close()
        else:
            uri, env = _libpq(db.url)
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", f"--dbname={uri}",
                  str(part)], env, "pg_restore")
        keyring.save(keyring_file)
    return dict(manifest)


def _pg_check(url: URL, manifest: dict[str, Any], keyring: Keyring, part: Path) -> None:
    """Restore the dump into a scratch database, check it there, drop it."""
    from sqlalchemy import create_engine, text

    scratch = f"realname_restore_check_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    except Exception as exc:
        admin.dispose()
        raise ConfigError(f"cannot create the scratch database the restore is checked in "
                          f"({type(getattr(exc, 'orig', exc)).__name__}): the restoring role needs CREATEDB",
                          code="restore_check_failed") from None
    try:
        schema = manifest["database"].get("schema", "public")
        target = url.set(database=scratch, query={"options": f"-csearch_path={schema}"})
        uri, env = _libpq(target)
        _run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={uri}", str(part)], env,
             "pg_restore (into the scratch database)")
        with reading(target) as s:
            verify_copy(s, keyring)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


def describe(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest fields worth printing."""
    return {"created": manifest.get("created"), "realname": manifest.get("realname"),
            "database": manifest.get("database", {}).get("kind"), "migration": manifest.get("migration"),
            "active_key": manifest.get("keyring", {}).get("active"),
            "audit_events": manifest.get("audit", {}).get("events")}

