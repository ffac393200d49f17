"""A real database dump holds no plaintext document number, name, address, portrait or embedding."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy.engine import make_url
from tests.registry_support import PG_URL, noise_frames, portrait_bytes, prc_card, seeded

from realname.operators.auth import authenticate, login
from realname.operators.demo import DEMO_PASSWORD
from realname.registration import registrations, verifications


def dump(db_url: str) -> bytes:
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        # The file itself and its write-ahead log: what a stolen disk would give.
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    schema = unquote(str(url.query["options"])).split("=")[-1]
    base = make_url(PG_URL)
    out = subprocess.run(["pg_dump", "-h", str(base.host), "-p", str(base.port or 5432), "-U", str(base.username),
                          "-n", schema, "--data-only", str(base.database)], capture_output=True, check=False)
    if out.returncode != 0:
        pytest.skip(f"pg_dump failed: {out.stderr.decode()[:200]}")
    return out.stdout


def test_dump_has_no_plaintext_personal_or_biometric_data(db_url: str) -> None:
    svc, _ = seeded(db_url)
    agent = authenticate(svc, login(svc, "agent1", DEMO_PASSWORD)[0])
    card = prc_card(name="欧阳·娜娜")
    card["address"] = "上海市浦东新区世纪大道100号"
    portrait = portrait_bytes()
    opened = verifications.open_verification(svc, agent, card, portrait, consent=True)
    verifications.start_capture(svc, agent, opened.verification.id, opened.challenge)
    verifications.submit_capture(svc, agent, opened.verification.id, noise_frames())
    registrations.register(svc, agent, opened.verification.id)
    svc.db.dispose()  # flush connections so the SQLite file is complete
    data = dump(db_url)
    assert opened.document.display_number.encode() in data  # the dump is real: the masked number is there
    for secret in (card["number"], card["name"], card["address"], "欧阳", card["birth_date"].replace("-", "")):
        assert secret.encode() not in data, secret
    assert portrait[:64] not in data and base64.b64encode(portrait)[:40] not in data
    assert b"\xff\xd8\xff" not in data or db_url.startswith("sqlite")  # no JPEG in a text dump
