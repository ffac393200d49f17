"""`realname generate`, `report`, `sample`, `signals` and `compliance` on a small generated registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from realname.cli.main import app

runner = CliRunner()
YEAR = ["--from", "2026-01-01", "--to", "2026-12-31"]


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REALNAME_DATABASE_URL", f"sqlite:///{tmp_path / 'r.db'}")
    monkeypatch.setenv("REALNAME_KEYRING_FILE", str(tmp_path / "keys.json"))
    monkeypatch.setenv("REALNAME_ENGINE", "fake")
    assert runner.invoke(app, ["keys", "init"]).exit_code == 0
    done = runner.invoke(app, ["generate", "--registrations", "600", "--outlets", "12", "--agents", "60",
                               "--plant", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["planted"]["fraud_agent"]
    return tmp_path


def test_signals_exit_1_with_evidence(registry: Path) -> None:
    r = runner.invoke(app, ["signals", *YEAR, "--json"])
    assert r.exit_code == 1, r.output
    kinds = {s["kind"] for s in json.loads(r.output)}
    assert {"many_outlets", "fail_then_pass", "quick_cancel", "duplicate_face"} <= kinds


def test_report_files_and_sample(registry: Path) -> None:
    out = registry / "r.csv"
    r = runner.invoke(app, ["report", *YEAR, "--format", "csv", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "audit chain intact" in r.output and out.read_bytes().startswith(b"\xef\xbb\xbf")
    pdf = registry / "r.pdf"
    assert runner.invoke(app, ["report", *YEAR, "--format", "pdf", "--out", str(pdf)]).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    r = runner.invoke(app, ["report", *YEAR, "--outlet", "SYN-O001"])
    assert r.exit_code == 0 and json.loads(r.output)["scope"]["outlet"] == "SYN-O001"
    assert runner.invoke(app, ["report", "--from", "2026-02-30"]).exit_code == 2
    first = runner.invoke(app, ["sample", *YEAR, "--size", "3", "--seed", "9"]).output
    assert first == runner.invoke(app, ["sample", *YEAR, "--size", "3", "--seed", "9"]).output
    assert len(first.splitlines()) == 3


def test_compliance_names_what_needs_attention(registry: Path) -> None:
    r = runner.invoke(app, ["compliance", "--json"])
    doc = json.loads(r.output)
    assert doc["audit_chain"]["ok"] and doc["consent"]["coverage"] == 1.0
    # the synthetic set keeps templates while the setting is off: flagged
    assert r.exit_code == 1 and any("template" in p for p in doc["problems"])
