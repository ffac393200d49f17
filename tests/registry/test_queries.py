"""The registry's read-only queries on SQLite and PostgreSQL: lookups by code inside an operator or not, the
registration view, and a scoped window's registrations, verifications and audit events (the counts built on them
are tested through the inspection summary and the reports)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from tests.registry_support import noise_frames, portrait_bytes, prc_card, seeded

from realname.context import SYSTEM, Actor, Services
from realname.operators import admin
from realname.operators.auth import authenticate, login
from realname.operators.demo import DEMO_PASSWORD
from realname.registration import registrations, verifications
from realname.registry import queries
from realname.registry.tables import AuditEvent, Registration, Verification


def test_lookups_by_code_stay_inside_the_operator_asked_for(db_url: str) -> None:
    svc, demo = seeded(db_url)
    other = admin.create_operator(svc, SYSTEM, "OTHER", "Other Telecom")
    outlet = admin.create_outlet(svc, SYSTEM, "OTHER-001", "Other outlet", operator_id=other.id)
    admin.create_user(svc, SYSTEM, "other_agent", "a long enough passphrase 7", "agent", operator_id=other.id,
                      outlet_id=outlet.id)
    with svc.db.read() as s:
        assert queries.operator_id_by_code(s, "DEMO") == demo.operator_id
        assert queries.operator_id_by_code(s, "OTHER") == other.id
        assert queries.operator_id_by_code(s, "demo") is None  # codes are exact
        assert queries.outlet_by_code(s, "DEMO-001") == queries.OutletRef(demo.outlet_id, demo.operator_id)
        assert queries.outlet_by_code(s, "OTHER-001", operator_id=other.id) == (outlet.id, other.id)
        assert queries.outlet_by_code(s, "OTHER-001", operator_id=demo.operator_id) is None
        assert queries.outlet_by_code(s, "NOPE") is None
        assert queries.user_id_by_name(s, "agent1") == demo.users["agent1"]
        assert queries.user_id_by_name(s, "other_agent", operator_id=demo.operator_id) is None
        assert queries.user_id_by_name(s, "inspector1", operator_id=demo.operator_id) is None  # the regulator's
        assert queries.user_id_by_name(s, "inspector1") == demo.users["inspector1"]


def _user(svc: Services, username: str) -> Actor:
    return authenticate(svc, login(svc, username, DEMO_PASSWORD)[0])


def test_registration_view_and_a_scoped_window(db_url: str) -> None:
    svc, demo = seeded(db_url)
    agent = _user(svc, "agent1")
    card = prc_card()
    opened = verifications.open_verification(svc, agent, card, portrait_bytes(), consent=True)
    verifications.start_capture(svc, agent, opened.verification.id, opened.challenge)
    v, _ = verifications.submit_capture(svc, agent, opened.verification.id, noise_frames())
    reg = registrations.register(svc, agent, v.id)

    with svc.db.read() as s:
        view = queries.registration_view(s, reg.id)
        assert queries.registration_view(s, "no-such-id") is None
    assert view is not None
    assert (view.id, view.status, view.operator_id, view.outlet_id) == (reg.id, "active", demo.operator_id,
                                                                         demo.outlet_id)
    assert view.msisdn.startswith("+86") and view.created_at == reg.created_at
    assert "*" in view.person_number and view.person_number[-4:] == card["number"][-4:]
    assert card["number"] not in view.person_number

    now = svc.now()

    def around(**scope: str) -> queries.Window:
        return queries.Window(now - timedelta(hours=1), now + timedelta(hours=1), "UTC", **scope)

    def counted(w: queries.Window) -> tuple[int, int, int]:
        with svc.db.read() as s:
            regs = s.execute(select(func.count()).select_from(Registration).where(*queries.registrations_in(w)))
            vers = s.execute(select(func.count()).select_from(Verification).where(*queries.verifications_in(w)))
            events = s.execute(select(func.count()).select_from(AuditEvent)
                               .where(*queries.events_in(w, ("number_assigned",))))
            return regs.scalar_one(), vers.scalar_one(), events.scalar_one()

    assert not around().is_scoped and around(agent_id="x").is_scoped
    assert counted(around()) == (1, 1, 1)
    assert counted(around(operator_id=demo.operator_id)) == (1, 1, 1)
    assert counted(around(outlet_id=demo.outlet_id, agent_id=demo.users["agent1"])) == (1, 1, 1)
    assert counted(around(operator_id="elsewhere")) == (0, 0, 0)
    assert counted(around(agent_id=demo.users["super1"])) == (0, 0, 0)
    later = queries.Window(now + timedelta(hours=1), now + timedelta(hours=2), "UTC")
    assert counted(later) == (0, 0, 0)
