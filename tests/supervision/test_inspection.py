"""The inspection summary and CSV export on a small data set built through the services, on SQLite and
PostgreSQL: every count is known, the period and the operator scope are respected, and each inspection is audited."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.registry_support import Clock, make_services, noise_frames, portrait_bytes, prc_card, seeded

from realname.context import SYSTEM, Actor, Services
from realname.errors import BadInputError, CapExceededError, ForbiddenError
from realname.live_check import FixedLiveCheck
from realname.operators import admin
from realname.operators.auth import authenticate, login
from realname.operators.demo import DEMO_PASSWORD
from realname.registration import registrations, verifications
from realname.registry.tables import AuditEvent
from realname.supervision import counts, inspection
from realname.supervision.csv_files import safe_cell
from realname.supervision.period import Period

D = date(2026, 3, 10)  # the first day of the period inspected


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def who(svc: Services, username: str, password: str = DEMO_PASSWORD) -> Actor:
    token, _, _ = login(svc, username, password)
    return authenticate(svc, token)


def verify(svc: Services, agent: Actor, card: dict[str, Any]) -> str:
    opened = verifications.open_verification(svc, agent, card, portrait_bytes(), consent=True)
    verifications.start_capture(svc, agent, opened.verification.id, opened.challenge)
    v, _ = verifications.submit_capture(svc, agent, opened.verification.id, noise_frames(4))
    return v.id


@dataclass
class World:
    svc: Services
    clock: Clock
    demo: Any
    cards: dict[str, dict[str, Any]]
    regs: dict[str, str]


def build(url: str) -> World:
    """Five days before the period: one registration (outside it). In the period (D .. D+2):

    D    09:00 A pass + registered, 09:10 B pass + registered, 09:20 C fail (face_mismatch)
    D+1  10:00 E fail (action_too_slow, screen_or_photo), 10:10 F review -> supervisor pass -> registered,
         10:20 A cancelled, 10:30 cap set to 1 then B verifies (pass) and is refused by the cap,
         10:40 re-verification of B ordered
    D+2  11:00 B suspended (order lapsed), 12:00 G registered at another operator
    """
    clock = Clock()
    clock.now = at(D - timedelta(days=5), 9)
    svc, demo = seeded(url, clock=clock)
    failing = make_services(url, live_check=FixedLiveCheck("fail"), clock=clock)
    slow = make_services(url, live_check=FixedLiveCheck("fail", ["action_too_slow", "screen_or_photo"]), clock=clock)
    unsure = make_services(url, live_check=FixedLiveCheck("review", ["match_uncertain"]), clock=clock)
    cards = {k: prc_card() for k in "ABCEFGH"}
    regs: dict[str, str] = {}

    other = admin.create_operator(svc, SYSTEM, "OTHER", "其他电信 Other Telecom")
    outlet = admin.create_outlet(svc, SYSTEM, "OTHER-001", "其他营业厅", "110105", operator_id=other.id)
    admin.create_user(svc, SYSTEM, "agent9", DEMO_PASSWORD, "agent", operator_id=other.id, outlet_id=outlet.id)
    admin.create_user(svc, SYSTEM, "admin9", DEMO_PASSWORD, "operator_admin", operator_id=other.id)
    admin.import_numbers(svc, SYSTEM, "msisdn\n+8619800005000\n+8619800005001\n", operator_id=other.id)

    agent = who(svc, "agent1")
    regs["H"] = registrations.register(svc, agent, verify(svc, agent, cards["H"])).id

    clock.now = at(D, 9)
    agent = who(svc, "agent1")
    regs["A"] = registrations.register(svc, agent, verify(svc, agent, cards["A"])).id
    clock.now = at(D, 9, 10)
    regs["B"] = registrations.register(svc, agent, verify(svc, agent, cards["B"])).id
    clock.now = at(D, 9, 20)
    verify(failing, agent, cards["C"])

    clock.now = at(D + timedelta(days=1), 10)
    agent, supervisor, admin1 = who(svc, "agent1"), who(svc, "super1"), who(svc, "admin1")
    verify(slow, agent, cards["E"])
    clock.now = at(D + timedelta(days=1), 10, 10)
    vid = verify(unsure, agent, cards["F"])
    verifications.review(svc, supervisor, vid, "pass", "same person")
    regs["F"] = registrations.register(svc, agent, vid).id
    clock.now = at(D + timedelta(days=1), 10, 20)
    registrations.cancel(svc, agent, regs["A"], "customer request")
    clock.now = at(D + timedelta(days=1), 10, 30)
    admin.set_cap(svc, admin1, 1)
    with pytest.raises(CapExceededError):
        registrations.register(svc, agent, verify(svc, agent, cards["B"]))
    clock.now = at(D + timedelta(days=1), 10, 40)
    registrations.order_reverification(svc, supervisor, regs["B"], "document reported stolen")

    clock.now = at(D + timedelta(days=2), 11)
    assert registrations.suspend_overdue(svc) == 1
    clock.now = at(D + timedelta(days=2), 12)
    agent9 = who(svc, "agent9")
    regs["G"] = registrations.register(svc, agent9, verify(svc, agent9, cards["G"])).id

    clock.now = at(D + timedelta(days=3), 8)
    return World(svc, clock, demo, cards, regs)


def test_summary_counts_everything_in_the_period(db_url: str) -> None:
    w = build(db_url)
    inspector = who(w.svc, "inspector1")
    got = inspection.summary(w.svc, inspector, D, D + timedelta(days=2))

    assert (got.period.start, got.period.end) == (D, D + timedelta(days=2))
    assert got.chain.ok and got.chain.count > 0 and got.chain.problem is None
    assert got.totals == counts.Totals(registrations=4, verifications=7, passed=5, failed=2, review=1,
                                           cap_refusals=1, cancellations=1, suspensions=1)
    assert [(r.day, r.registrations, r.verifications, r.passed, r.failed) for r in got.by_day] == [
        (D, 2, 3, 2, 1), (D + timedelta(days=1), 1, 3, 2, 1), (D + timedelta(days=2), 1, 1, 1, 0)]
    assert [(r.outlet, r.registrations, r.verifications, r.failed) for r in got.by_outlet] == [
        ("DEMO-001", 3, 6, 2), ("OTHER-001", 1, 1, 0)]
    assert got.by_outlet[0].name == "演示营业厅 Demo outlet"
    assert [(r.agent, r.outlet, r.registrations, r.verifications, r.failed, r.reviews) for r in got.by_agent] == [
        ("agent1", "DEMO-001", 3, 6, 2, 1), ("agent9", "OTHER-001", 1, 1, 0, 0)]
    assert got.failure_reasons == {"action_too_slow": 1, "face_mismatch": 1, "screen_or_photo": 1}


def test_an_operators_admin_sees_only_its_operator(db_url: str) -> None:
    w = build(db_url)
    own = inspection.summary(w.svc, who(w.svc, "admin1"), D, D + timedelta(days=2))
    assert own.totals == counts.Totals(registrations=3, verifications=6, passed=4, failed=2, review=1,
                                           cap_refusals=1, cancellations=1, suspensions=1)
    assert [r.outlet for r in own.by_outlet] == ["DEMO-001"] and [r.agent for r in own.by_agent] == ["agent1"]

    other = inspection.summary(w.svc, who(w.svc, "admin9"), D, D + timedelta(days=2))
    assert other.totals == counts.Totals(registrations=1, verifications=1, passed=1, failed=0, review=0,
                                             cap_refusals=0, cancellations=0, suspensions=0)
    assert other.failure_reasons == {}

    with pytest.raises(ForbiddenError):
        inspection.summary(w.svc, who(w.svc, "agent1"))


def test_period_bounds_and_defaults(db_url: str) -> None:
    w = build(db_url)
    auditor = who(w.svc, "auditor1")
    first_day = inspection.summary(w.svc, auditor, D, D)
    assert first_day.totals.registrations == 2 and first_day.totals.cap_refusals == 0
    assert [r.day for r in first_day.by_day] == [D]
    before = inspection.summary(w.svc, auditor, D - timedelta(days=5), D - timedelta(days=5))
    assert before.totals.registrations == 1 and before.totals.verifications == 1

    default = inspection.summary(w.svc, auditor)  # today is D+3: the last 30 days hold everything
    assert default.period == Period(D + timedelta(days=3) - timedelta(days=29), D + timedelta(days=3))
    assert len(default.by_day) == 30 and default.totals.registrations == 5

    with pytest.raises(BadInputError) as backwards:
        inspection.summary(w.svc, auditor, D, D - timedelta(days=1))
    assert backwards.value.code == "bad_period"
    with pytest.raises(BadInputError) as too_long:
        inspection.summary(w.svc, auditor, D - timedelta(days=366), D)
    assert too_long.value.code == "bad_period"
    assert len(inspection.summary(w.svc, auditor, D - timedelta(days=365), D).by_day) == 366


def test_every_inspection_is_audited(db_url: str) -> None:
    w = build(db_url)
    inspection.summary(w.svc, who(w.svc, "inspector1"), D, D)
    _, chunks = inspection.registrations_csv(w.svc, who(w.svc, "admin1"), D, D + timedelta(days=1))
    # audited when asked for, before a byte is read
    with w.svc.db.read() as s:
        events = s.execute(select(AuditEvent).where(AuditEvent.action == "inspection")
                           .order_by(AuditEvent.seq)).scalars().all()
    assert [(e.actor, e.payload) for e in events] == [
        ("inspector1", {"what": "summary", "start": "2026-03-10", "end": "2026-03-10", "operator": None}),
        ("admin1", {"what": "registrations.csv", "start": "2026-03-10", "end": "2026-03-11",
                    "operator": w.demo.operator_id})]
    assert "".join(chunks).startswith("\ufeff")


def test_csv_is_masked_scoped_and_batched(db_url: str) -> None:
    w = build(db_url)
    _, chunks = inspection.registrations_csv(w.svc, who(w.svc, "inspector1"), D, D + timedelta(days=2), batch=2)
    parts = list(chunks)
    assert len(parts) == 3  # the header, then 4 rows in batches of 2
    text = "".join(parts)
    assert text.startswith("\ufeff登记编号/registration_id,号码/msisdn,证件号(脱敏)/person_number,营业厅/outlet,")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == list(inspection.CSV_HEADER)
    assert [r[0] for r in rows[1:]] == [w.regs[k] for k in "ABFG"]  # in creation order, H is before the period
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id[w.regs["A"]][5] == "cancelled" and by_id[w.regs["B"]][5] == "suspended"
    assert by_id[w.regs["G"]][3:5] == ["OTHER-001", "agent9"]
    assert by_id[w.regs["A"]][6].startswith("2026-03-10T09:00:00") and by_id[w.regs["A"]][6].endswith("Z")
    for card in w.cards.values():
        assert card["number"] not in text and card["name"] not in text
    assert all("*" in r[2] for r in rows[1:])

    _, own = inspection.registrations_csv(w.svc, who(w.svc, "admin9"), D, D + timedelta(days=2))
    assert [r[0] for r in list(csv.reader(io.StringIO("".join(own).lstrip("\ufeff"))))[1:]] == [w.regs["G"]]
    _, empty = inspection.registrations_csv(w.svc, who(w.svc, "inspector1"), D + timedelta(days=3))
    assert len(list(empty)) == 1  # only the header


def test_csv_cells_cannot_be_formulas() -> None:  # the writer itself: tests/services/test_csv_files.py
    assert safe_cell("+8619800000000") == "+8619800000000"
    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_cell("+1+2") == "'+1+2" and safe_cell("@x") == "'@x"
    assert safe_cell(None) == ""


def test_names_are_masked() -> None:
    assert inspection.mask_name("张三") == "张*"
    assert inspection.mask_name("欧阳娜娜") == "欧***"
    assert inspection.mask_name("李") == "李*"
    assert inspection.mask_name("") == ""
