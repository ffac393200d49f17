"""The transparency log from the command line: an operator publishes heads and proofs; an inspector checks them
with files only (check-proof, check-head, witness). SQLite file and keyring file in tmp."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from realname.cli.main import app

runner = CliRunner()


def cli(*args: str, code: int = 0) -> str:
    r = runner.invoke(app, list(args))
    assert r.exit_code == code, f"{args}: exit {r.exit_code}\n{r.output}"
    return r.output


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REALNAME_DATABASE_URL", f"sqlite:///{tmp_path / 'r.db'}")
    monkeypatch.setenv("REALNAME_KEYRING_FILE", str(tmp_path / "keys.json"))
    monkeypatch.delenv("REALNAME_KEYRING", raising=False)
    monkeypatch.chdir(tmp_path)
    cli("keys", "init")
    cli("demo")
    return tmp_path


def test_publish_prove_and_check_offline(env: Path) -> None:
    cli("audit", "log-keys", "--out", "keys.pub.json")
    cli("audit", "publish-head", "--out", "h1.json")
    h1 = json.loads((env / "h1.json").read_text())
    assert h1["size"] > 0 and len(h1["root"]) == 64

    cli("witness", "init", "--key", "keys.pub.json", "--store", "w.json")
    assert "added the head" in cli("witness", "add", "h1.json", "--store", "w.json")
    cli("operator", "add", "X2", "Second")  # more events
    cli("audit", "publish-head", "--out", "h2.json")
    h2 = json.loads((env / "h2.json").read_text())
    assert "extends" in cli("audit", "check-head", "h1.json", "h2.json", "--key", "keys.pub.json")
    cli("audit", "consistency", str(h1["size"]), str(h2["size"]), "--out", "c.json")
    assert "extends" in cli("audit", "check-head", "h1.json", "h2.json", "--key", "keys.pub.json",
                            "--proof", "c.json")
    assert "consistency proof between sizes" in cli("witness", "add", "h2.json", "--store", "w.json", code=2)
    assert "consistent" in cli("witness", "add", "h2.json", "--proof", "c.json", "--store", "w.json")
    assert "OK" in cli("witness", "check", "c.json", "--store", "w.json")

    # The operator rewrites history (an event changed, the tree rebuilt, a new head signed with its own key).
    with sqlite3.connect(env / "r.db") as con:
        for table in ("audit_leaves", "audit_tree_nodes", "audit_tree_heads"):
            con.execute(f"DELETE FROM {table}")
        con.execute("UPDATE audit_log_state SET size = 0, next_seq = 1, frontier = '[]', verified_size = 0, "
                    "verified_seq = 0, verified_frontier = '[]'")
        con.execute("DELETE FROM audit_events WHERE seq = 2")
        con.execute("INSERT INTO audit_skips (seq, noted_at, reason) VALUES (2, 'forged', 'rolled back')")
    con.close()
    cli("operator", "add", "X3", "Third")
    cli("operator", "add", "X4", "Fourth")
    cli("audit", "publish-head", "--out", "h4.json")
    assert json.loads((env / "h4.json").read_text())["size"] > h2["size"]
    assert "history was rewritten" in cli("audit", "check-head", "h2.json", "h4.json", "--key", "keys.pub.json",
                                          code=1)
    # The best proof the rewritten log can give (its heads of before are gone: made from its nodes).
    from realname.audit.proofs import consistency
    from realname.audit.tree_heads import TreeHead
    from realname.registry.db import Database

    db = Database(f"sqlite:///{env / 'r.db'}")
    with db.read() as s:
        forged = consistency(s, TreeHead.from_dict(h2), TreeHead.from_dict(json.loads((env / "h4.json").read_text())))
    db.dispose()
    (env / "c2.json").write_text(json.dumps(forged))
    assert "history was rewritten" in cli("witness", "add", "h4.json", "--proof", "c2.json", "--store", "w.json",
                                          code=1)
    assert "not a realname-inclusion-proof" in cli("audit", "check-proof", "c2.json", "--key", "keys.pub.json", code=2)


def test_check_proof_reads_files_only(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.registry_support import noise_frames, portrait_bytes, prc_card

    from realname.config import Settings
    from realname.context import Services
    from realname.live_check import FixedLiveCheck
    from realname.operators.auth import authenticate, login
    from realname.operators.demo import DEMO_PASSWORD
    from realname.registration import registrations, verifications

    svc = Services(Settings(test_mode=True, light_check=False, timezone="UTC"), live_check=FixedLiveCheck("pass"))
    agent = authenticate(svc, login(svc, "agent1", DEMO_PASSWORD)[0])
    opened = verifications.open_verification(svc, agent, prc_card(), portrait_bytes(), consent=True)
    verifications.start_capture(svc, agent, opened.verification.id, opened.challenge)
    v, _ = verifications.submit_capture(svc, agent, opened.verification.id, noise_frames())
    reg = registrations.register(svc, agent, v.id)
    svc.db.dispose()

    cli("audit", "log-keys", "--out", "keys.pub.json")
    cli("audit", "prove", reg.id, "--out", "proof.json")
    doc = json.loads((env / "proof.json").read_text())
    assert {e["event"]["action"] for e in doc["events"]} >= {"decision", "number_assigned"}
    # Offline: no database, no keyring.
    monkeypatch.setenv("REALNAME_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("REALNAME_KEYRING_FILE", str(env / "absent.json"))
    assert "OK" in cli("audit", "check-proof", "proof.json", "--key", "keys.pub.json")
    doc["events"][0]["event"]["actor"] = "someone-else"
    (env / "bad.json").write_text(json.dumps(doc))
    assert "altered" in cli("audit", "check-proof", "bad.json", "--key", "keys.pub.json", code=1)
    assert "no proof file" in cli("audit", "check-proof", "missing.json", "--key", "keys.pub.json", code=2)
    monkeypatch.setenv("REALNAME_DATABASE_URL", f"sqlite:///{env / 'r.db'}")
    monkeypatch.setenv("REALNAME_KEYRING_FILE", str(env / "keys.json"))
    assert "no such registration" in cli("audit", "prove", "nope", code=2)
