"""Supervision reports on a small registry built through the services (every count known), on both databases;
the files (CSV with BOM, PDF rendered to PNG for a person to look at) and the evidence sample."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from tests.registry_support import noise_frames, portrait_bytes, prc_card, seeded

from realname.context import SYSTEM, Actor, Services
from realname.errors import CapExceededError, ForbiddenError
from realname.live_check import FixedLiveCheck
from realname.operators import admin
from realname.operators.auth import authenticate, login
from realname.operators.demo import DEMO_PASSWORD
from realname.registration import registrations, verifications
from realname.registry.tables import AuditEvent, Operator
from realname.supervision.period import Period
from realname.supervision.report_files import to_csv, to_json, to_pdf
from realname.supervision.reports import Scope, build_report, sample

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "reports"


def who(svc: Services, username: str) -> Actor:
    return authenticate(svc, login(svc, username, DEMO_PASSWORD)[0])


def verify(svc: Services, agent: Actor, card: dict[str, Any]) -> str:
    opened = verifications.open_verification(svc, agent, card, portrait_bytes(), consent=True)
    verifications.start_capture(svc, agent, opened.verification.id, opened.challenge)
    return verifications.submit_capture(svc, agent, opened.verification.id, noise_frames())[0].id


def build(db_url: str) -> tuple[Services, Period]:
    """3 registrations (one cancelled), 1 attack refused, 1 review settled by super1, 1 cap refusal."""
    check = FixedLiveCheck("pass")
    svc, demo = seeded(db_url, live_check=check)
    agent, sup = who(svc, "agent1"), who(svc, "super1")
    one, two = prc_card(), prc_card()
    regs = [registrations.register(svc, agent, verify(svc, agent, card)) for card in (one, one, two)]
    registrations.cancel(svc, agent, regs[0].id, "customer request")
    check.decision, check.reasons = "fail", ["screen_or_photo"]
    verify(svc, agent, prc_card())
    check.decision, check.reasons = "review", ["match_uncertain"]
    reviewed = verify(svc, agent, prc_card())
    verifications.review(svc, sup, reviewed, "pass", "same person")
    check.decision, check.reasons = "pass", []
    admin.set_cap(svc, SYSTEM, 1, demo.operator_id)
    with pytest.raises(CapExceededError):
        registrations.register(svc, agent, verify(svc, agent, two))
    today = svc.now().date()
    return svc, Period(today, today)


def test_counts_categories_reviews_and_breakdowns(db_url: str) -> None:
    svc, today = build(db_url)
    report = build_report(svc, who(svc, "inspector1"), today)
    d = report.as_dict()
    assert d["totals"] == {"registrations": 3, "verifications": 6, "passed": 5, "failed": 1, "review": 1,
                           "cap_refusals": 1, "cancellations": 1, "suspensions": 0}
    assert d["failures_by_category"] == {"liveness_action": 0, "attack_suspected": 1, "face_mismatch": 0,
                                         "quality": 0}
    assert d["reviews"] == [{"decided_by": "super1", "passed": 1, "failed": 0}]
    outlet = d["by_outlet"][0]
    assert (outlet["outlet"], outlet["registrations"], outlet["cancellations"], outlet["cap_refusals"],
            outlet["attack_suspected"]) == ("DEMO-001", 3, 1, 1, 1)
    agent = d["by_agent"][0]
    assert (agent["agent"], agent["registrations"], agent["reviews"]) == ("agent1", 3, 1)
    assert d["audit_chain"]["ok"] and d["audit_chain"]["events_in_period"] > 0
    # scoped to an agent with no activity: nothing counted
    assert build_report(svc, SYSTEM, today, Scope(agent="super1")).summary.totals.registrations == 0
    # the report is itself on record
    with svc.db.read() as s:
        event = s.execute(select(AuditEvent).where(AuditEvent.seq == report.audit_event["seq"])).scalar_one()
        assert event.action == "report" and event.actor == "inspector1"


def test_operator_staff_see_only_their_operator_and_agents_none(db_url: str) -> None:
    svc, today = build(db_url)
    with svc.db.write() as s:
        s.add(Operator(code="OTHER", name="Other", kind="mvno", cap_per_person=5, created_at=svc.now()))
    with pytest.raises(ForbiddenError):
        build_report(svc, who(svc, "admin1"), today, Scope(operator="OTHER"))
    assert build_report(svc, who(svc, "admin1"), today).summary.totals.registrations == 3
    with pytest.raises(ForbiddenError):
        build_report(svc, who(svc, "agent1"), today)


def test_a_broken_chain_is_stated_in_the_report(db_url: str) -> None:
    svc, today = build(db_url)
    with svc.db.write() as s:
        s.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(actor="someone-else"))
    chain = build_report(svc, SYSTEM, today).chain
    assert not chain["ok"] and chain["problem"] == "altered" and "event 3" in chain["detail"]


def test_files_csv_json_pdf(tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    url = f"sqlite:///{tmp_path / 'r.db'}"
    from realname.registry.migrate import upgrade
    upgrade(url)
    svc, today = build(url)
    report = build_report(svc, SYSTEM, today)
    csv_bytes = to_csv(report)
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    text = csv_bytes.decode("utf-8-sig")
    assert "登记/Registrations,3" in text and "营业厅/by outlet" in text and "DEMO-001" in text
    assert json.loads(to_json(report))["totals"]["registrations"] == 3
    pdf = to_pdf(report)
    assert pdf.startswith(b"%PDF")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "report.pdf").write_bytes(pdf)
    doc = pdfium.PdfDocument(pdf)
    assert len(doc) == 4
    for i in range(len(doc)):
        image = doc[i].render(scale=2).to_pil()
        image.save(ARTIFACTS / f"report-page{i + 1}.png")
        low, high = image.convert("L").getextrema()
        assert image.size[0] > 1000 and high - low > 100  # drawn, not blank


def test_sample_is_reproducible_and_holds_evidence_not_biometrics(db_url: str) -> None:
    svc, today = build(db_url)
    first = sample(svc, SYSTEM, today, 2, seed=7)
    again = sample(svc, SYSTEM, today, 2, seed=7)
    assert [r["registration_id"] for r in first] == [r["registration_id"] for r in again]
    assert len(sample(svc, SYSTEM, today, 50, seed=1)) == 3
    row = first[0]
    assert row["checks"]["face_match"] == "pass" and row["model_version"] and row["threshold_version"]
    assert {e["action"] for e in row["audit_events"]} >= {"number_assigned", "decision"}
    text = json.dumps(first)
    assert "template" not in text and "portrait_enc" not in text and "*" in row["person_number"]
