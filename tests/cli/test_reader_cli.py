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
