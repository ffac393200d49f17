"""The registry administration commands through Typer's runner, on a SQLite file and a keyring file in tmp."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from tests.registry_support import noise_frames, portrait_bytes, prc_card
from typer.testing import CliRunner

from realname.cli.main import app
from realname.cli.registry import _masked

runner = CliRunner()


class Env:
    def __init__(self, tmp: Path) -> None:
        self.db = tmp / "r.db"
        self.keys = tmp / "keys.json"
        self.url = f"sqlite:///{self.db}"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    e = Env(tmp_path)
    monkeypatch.setenv("REALNAME_DATABASE_URL", e.url)
    monkeypatch.setenv("REALNAME_KEYRING_FILE", str(e.keys))
    monkeypatch.delenv("REALNAME_KEYRING", raising=False)
    return e


def cli(*args: str, code: int = 0, stdin: str | None = None) -> str:
    r = runner.invoke(app, list(args), input=stdin)
    assert r.exit_code == code, f"{args}: exit {r.exit_code}\n{r.output}"
    return r.output


def test_keys_init_writes_0600_and_refuses_to_overwrite(env: Env) -> None:
    assert "active key" in cli("keys", "init")
    assert stat.S_IMODE(os.stat(env.keys).st_mode) == 0o600
    first = env.keys.read_text()
    assert "not overwritten" in cli("keys", "init", code=2)
    assert cli("keys", "init", "--if-missing").strip() == ""
    assert env.keys.read_text() == first
    cli("keys", "init", "--force", "--if-missing", code=2)
    cli("keys", "init", "--force")
    assert env.keys.read_text() != first and stat.S_IMODE(os.stat(env.keys).st_mode) == 0o600


def test_db_upgrade_then_check(env: Env) -> None:
    assert "not current" in cli("db", "check", code=1)
    assert env.url in cli("db", "upgrade")
    assert "matches the code" in cli("db", "check")
    assert "no such table" not in cli("db", "upgrade")  # idempotent


def test_database_url_password_is_masked() -> None:
    shown = _masked("postgresql+psycopg://clerk:s3cret@db.example:5432/realname")
    assert "s3cret" not in shown and "clerk" in shown and "db.example" in shown
    assert _masked("::not a url::") == "<invalid database URL>"


def test_unmigrated_database_and_bad_settings_give_one_line_errors(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "realname db upgrade" in cli("operator", "add", "X", "x", code=1)
    monkeypatch.setenv("REALNAME_CHALLENGE_ACTIONS", "9")
    assert "REALNAME_CHALLENGE_ACTIONS" in cli("purge", code=2)


def test_demo_seeds_once_and_says_so_the_second_time(env: Env) -> None:
    text = cli("demo")
    assert "demo-pass-123" in text and "agent1" in text and "DEMO-001" in text
    assert "demo data already present" in cli("demo", "--if-empty")
    assert "demo data already present" in cli("demo", code=1)
    assert json.loads(cli("demo", "--if-empty", "--json")) == {"created": False}


def test_operator_outlet_user_and_numbers(env: Env, tmp_path: Path) -> None:
    cli("db", "upgrade")
    op = json.loads(cli("operator", "add", "CMCC", "China Mobile", "--kind", "mvno", "--cap", "3", "--json"))
    assert op["kind"] == "mvno" and op["cap_per_person"] == 3
    assert "exists" in cli("operator", "add", "CMCC", "again", code=2)
    assert "'basic'" in cli("operator", "add", "X1", "x", "--kind", "other", code=2)

    assert "Outlet BJ-01 of CMCC created" in cli("outlet", "add", "CMCC", "BJ-01", "Beijing 1", "--region", "110105")
    assert "no operator with code 'NOPE'" in cli("outlet", "add", "NOPE", "BJ-02", "x", code=2)

    agent = json.loads(cli("user", "add", "alice", "--role", "agent", "--outlet", "BJ-01", "--password", "lamp-7-river",
                           "--json"))
    assert agent["operator_id"] == op["id"] and agent["outlet_id"] is not None  # operator taken from the outlet
    prompted = cli("user", "add", "carol", "--role", "operator_admin", "--operator", "CMCC",
                   stdin="pw-123456\npw-123456\n")
    assert "User carol (operator_admin) created" in prompted and "pw-123456" not in prompted
    assert "at least 8" in cli("user", "add", "bob", "--role", "inspector", "--password", "short", code=2)
    assert "weak_password" in cli("user", "add", "bob", "--role", "inspector", "--password", "secret-123", code=2)
    assert "outlet" in cli("user", "add", "dave", "--role", "agent", "--operator", "CMCC", "--password", "lamp-7-river",
                           code=2)

    numbers = tmp_path / "numbers.csv"
    numbers.write_text("msisdn,status\n+8613800000001,available\n13800000002,reserved\n")
    assert "2 numbers added to CMCC, 0 already present" in cli("numbers", "import", "CMCC", str(numbers))
    assert json.loads(cli("numbers", "import", "CMCC", str(numbers), "--json")) == {"added": 0,
                                                                                  "skipped_existing": 2}
    numbers.write_text("msisdn\n+8613800000003\n123\n")
    assert "line 3" in cli("numbers", "import", "CMCC", str(numbers), code=2)
    assert "cannot read" in cli("numbers", "import", "CMCC", str(tmp_path / "missing.csv"), code=2)


def test_user_unblacklist_lifts_a_blacklist_with_a_reason(env: Env) -> None:
    from sqlalchemy import select

    from realname.config import Settings
    from realname.context import SYSTEM, Services
    from realname.operators.admin import find_user, set_user_state
    from realname.registry.tables import AuditEvent

    cli("db", "upgrade")
    cli("demo")
    cli("user", "add", "admin2", "--role", "operator_admin", "--operator", "DEMO", "--password", "lamp-7-river")
    svc = Services(Settings())
    set_user_state(svc, SYSTEM, find_user(svc, "admin1").id, blacklisted=True, reason="suspected fraud")
    assert "--reason" in cli("user", "unblacklist", "admin1", code=2)  # a reason is required
    assert "Blacklist of admin1 lifted" in cli("user", "unblacklist", "admin1", "--reason", "cleared by the audit")
    assert "not blacklisted" in cli("user", "unblacklist", "admin1", "--reason", "again", code=2)
    assert "no user 'ghost'" in cli("user", "unblacklist", "ghost", "--reason", "x", code=2)
    agent1 = find_user(svc, "agent1").id
    set_user_state(svc, SYSTEM, agent1, active=False)
    set_user_state(svc, SYSTEM, agent1, blacklisted=True, reason="again")
    lifted = json.loads(cli("user", "unblacklist", "agent1", "--reason", "cleared", "--json"))
    assert (lifted["username"], lifted["blacklisted"], lifted["active"]) == ("agent1", False, False)
    with svc.db.read() as s:
        reasons = [e.payload["reason"] for e in s.execute(
            select(AuditEvent).where(AuditEvent.action == "agent_blacklist_lifted").order_by(AuditEvent.seq)).scalars()]
    assert reasons == ["cleared by the audit", "cleared"]
    svc.db.dispose()


def test_audit_verify_intact_then_names_the_tampered_event(env: Env) -> None:
    cli("demo")
    text = cli("audit", "verify")
    assert text.startswith("Audit chain intact: ") and "events, last hash " in text
    assert json.loads(cli("audit", "verify", "--json"))["ok"] is True

    with sqlite3.connect(env.db) as con:
        assert con.execute("UPDATE audit_events SET payload = ? WHERE seq = 3", ('{"code": "EVIL"}',)).rowcount == 1
    con.close()
    broken = cli("audit", "verify", code=1)
    assert "event 3" in broken and "altered" in broken
    report = json.loads(runner.invoke(app, ["audit", "verify", "--json"]).stdout)
    assert report["ok"] is False and report["first_bad_seq"] == 3 and report["count"] == 2


def _register_one_person(env: Env) -> str:
    """A real registration through the services, encrypted with the keyring file the CLI uses."""
    from realname.config import Settings
    from realname.context import Services
    from realname.live_check import FixedLiveCheck
    from realname.operators.auth import login
    from realname.operators.demo import DEMO_PASSWORD
    from realname.privacy.keyring import Keyring
    from realname.registration import registrations, verifications

    # A fixed live-check outcome: no screen-light sequence to answer.
    svc = Services(Settings(database_url=env.url, keyring_file=env.keys, light_check=False),
                   keyring=Keyring.load(env.keys, {}),
                   live_check=FixedLiveCheck("pass"))
    _, _, agent = login(svc, "agent1", DEMO_PASSWORD)
    opened = verifications.open_verification(svc, agent, prc_card(), portrait_bytes(), consent=True)
    verifications.start_capture(svc, agent, opened.verification.id, opened.challenge)
    verifications.submit_capture(svc, agent, opened.verification.id, noise_frames())
    reg = registrations.register(svc, agent, opened.verification.id)
    svc.db.dispose()
    return reg.person_id


def _key_ids(db: Path) -> set[str]:
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT number_enc, name_enc, address_enc, birth_date_enc FROM persons").fetchall()
    con.close()
    return {token.split(".")[1] for row in rows for token in row if token}


def test_keys_rotate_reencrypts_then_purge_erase_and_suspend(env: Env) -> None:
    cli("keys", "init")
    cli("demo")
    person_id = _register_one_person(env)
    old_key = json.loads(env.keys.read_text())["active"]
    assert _key_ids(env.db) == {old_key}

    rotated = json.loads(cli("keys", "rotate", "--json"))
    assert rotated["previous"] == old_key and rotated["key_id"] != old_key
    assert rotated["re_encrypted"] == 4  # the person's number, name, address and birth date
    assert _key_ids(env.db) == {rotated["key_id"]}
    ring = json.loads(env.keys.read_text())
    assert ring["active"] == rotated["key_id"] and old_key in ring["keys"]
    assert stat.S_IMODE(os.stat(env.keys).st_mode) == 0o600
    assert "values re-encrypted" in cli("keys", "rotate")

    purged = cli("purge")
    for what in ("verifications", "registrations", "persons", "face_templates", "tokens"):
        assert what in purged
    assert "Recorded as audit event" in purged
    purge_json = json.loads(cli("purge", "--json"))
    assert purge_json["event"]["action"] == "purge" and purge_json["face_data_warning"] is None

    proof = json.loads(cli("erase-biometrics", person_id, "--json"))
    assert proof["action"] == "biometric_erased" and proof["subject"] == person_id
    assert proof["payload"]["face_data_left"] == 0
    assert "Proof: audit event" in cli("erase-biometrics", person_id)
    assert "no such person" in cli("erase-biometrics", "nobody", code=2)

    assert "0 overdue" in cli("suspend-overdue")
    assert "Audit chain intact" in cli("audit", "verify")


def test_rotate_refuses_a_keyring_from_the_environment(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("keys", "init")
    monkeypatch.setenv("REALNAME_KEYRING", env.keys.read_text())
    assert "REALNAME_KEYRING" in cli("keys", "rotate", code=2)
