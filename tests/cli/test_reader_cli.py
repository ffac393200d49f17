"""`realname reader keygen` and `simulate` produce exactly what a signing reader sends: the service accepts it
under the printed public key, and refuses it once anything in it is changed."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from realname.cli.main import app
from realname.documents import attestation
from realname.errors import AttestationError

runner = CliRunner()


def test_the_simulators_output_verifies_and_a_changed_copy_does_not(tmp_path: Path) -> None:
    key = tmp_path / "reader.pem"
    made = runner.invoke(app, ["reader", "keygen", "--out", str(key)])
    assert made.exit_code == 0, made.output
    public = base64.b64decode(made.output.strip())
    assert len(public) == 32 and key.stat().st_mode & 0o077 == 0
    assert runner.invoke(app, ["reader", "keygen", "--out", str(key)]).exit_code == 2  # never overwritten

    card = tmp_path / "card.json"
    card.write_text(json.dumps({"doc_type": "prc_id", "name": "张三", "number": "11010519491231002X"},
                               ensure_ascii=False), encoding="utf-8")
    portrait = tmp_path / "portrait.jpg"
    portrait.write_bytes(b"\xff\xd8 the chip's portrait")
    out = runner.invoke(app, ["reader", "simulate", str(card), str(portrait), "--key", str(key),
                              "--reader-id", "R-01"])
    assert out.exit_code == 0, out.output
    sent = json.loads(out.output)
    image = base64.b64decode(sent["portrait"])
    now, age = datetime.now(UTC), timedelta(minutes=10)
    assert attestation.verify(public, sent, image, now=now, max_age=age).reader_id == "R-01"
    with pytest.raises(AttestationError):
        attestation.verify(public, {**sent, "name": "李四"}, image, now=now, max_age=age)


def test_the_service_opens_a_verification_from_the_simulators_output(tmp_path: Path, db_url: str) -> None:
    """Readers required: what `simulate` prints opens a verification under the enrolled key; the same file with
    another portrait does not."""
    from tests.registry_support import portrait_bytes, prc_card, seeded

    from realname.operators import admin, readers
    from realname.operators.auth import authenticate, login
    from realname.operators.demo import DEMO_PASSWORD
    from realname.registration import verifications

    key = tmp_path / "reader.pem"
    public = runner.invoke(app, ["reader", "keygen", "--out", str(key)]).output.strip()
    card, portrait = tmp_path / "card.json", tmp_path / "portrait.jpg"
    card.write_text(json.dumps(prc_card(), ensure_ascii=False), encoding="utf-8")
    portrait.write_bytes(portrait_bytes())
    sent = json.loads(runner.invoke(app, ["reader", "simulate", str(card), str(portrait), "--key", str(key),
                                          "--reader-id", "R-01"]).output)
    svc, _ = seeded(db_url)
    admin1 = authenticate(svc, login(svc, "admin1", DEMO_PASSWORD)[0])
    readers.enrol_reader(svc, admin1, "R-01", "counter reader", public)
    admin.update_operator_settings(svc, admin1, {"card_readers": "required"})
    agent = authenticate(svc, login(svc, "agent1", DEMO_PASSWORD)[0])
    image = base64.b64decode(sent.pop("portrait"))
    opened = verifications.open_verification(svc, agent, sent, image, consent=True)
    assert opened.verification.reader_attestation == "attested"
    with pytest.raises(AttestationError):
        verifications.open_verification(svc, agent, sent, portrait_bytes() + b"\x00", consent=True)
