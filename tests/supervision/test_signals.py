"""Fraud signals on a generated registry of 40,000 registrations (the README's run has 100,000): each planted
pattern is found with its evidence, and nothing else is (the rest of the data is clean); a clean data set raises
none, on both databases."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.registry_support import make_services

from realname.context import SYSTEM, Actor, Services
from realname.evaluation.synthetic import GenerationSpec, Planted, generate
from realname.registry.migrate import upgrade
from realname.registry.tables import Registration, Reverification
from realname.supervision.period import Period
from realname.supervision.signals import find_signals, reverify_for

YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))
INSPECTOR = Actor("inspector-id", "inspector-t", "inspector")


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Services, Planted]:
    url = f"sqlite:///{tmp_path_factory.mktemp('signals') / 'r.db'}"
    upgrade(url)
    svc = make_services(url, timezone="Asia/Shanghai")
    return svc, generate(svc, GenerationSpec(registrations=40_000, plant=True, seed=11))


def by_kind(found: list[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for s in found:
        out.setdefault(s.kind, []).append(s)
    return out


def test_every_planted_pattern_is_found_and_nothing_else(planted: tuple[Services, Planted]) -> None:
    svc, p = planted
    found = by_kind(find_signals(svc, INSPECTOR, YEAR))
    assert set(found) == {"many_outlets", "fail_then_pass", "agent_volume", "agent_night", "agent_reviews",
                          "quick_cancel", "duplicate_face"}
    # exactly the planted ones: one of each, and the fraudulent agent alone among 500 agents
    assert {k: len(v) for k, v in found.items()} == dict.fromkeys(found, 1)
    for kind in ("agent_volume", "agent_night", "agent_reviews"):
        assert found[kind][0].subject == p.fraud_agent
    many = found["many_outlets"][0]
    assert many.evidence["person"] == p.many_outlets_person and len(many.evidence["outlets"]) == 5
    assert len(many.registrations) == 5
    assert found["fail_then_pass"][0].evidence["person"] == p.fail_then_pass_person
    assert len(found["fail_then_pass"][0].evidence["failures"]) == 4
    assert found["quick_cancel"][0].registrations == [p.quick_cancel_registration]
    assert sorted(found["duplicate_face"][0].evidence["persons"]) == sorted(p.duplicate_face)


def test_a_period_without_the_patterns_is_quiet(planted: tuple[Services, Planted]) -> None:
    svc, _ = planted
    # The planted document and failures are in February and April; the fraud agent works all year.
    found = find_signals(svc, INSPECTOR, Period(date(2026, 6, 1), date(2026, 6, 30)))
    assert {s.kind for s in found} <= {"agent_volume", "agent_night", "agent_reviews"}


def test_a_signal_opens_re_verification_orders(planted: tuple[Services, Planted]) -> None:
    svc, _ = planted
    signal = next(s for s in find_signals(svc, INSPECTOR, YEAR) if s.kind == "many_outlets")
    orders = reverify_for(svc, SYSTEM, signal)
    assert len(orders) == 5
    with svc.db.read() as s:
        ordered = s.execute(select(Reverification.registration_id).where(Reverification.id.in_(orders))).scalars()
        assert set(ordered) == set(signal.registrations)


def test_clean_data_raises_no_signal(db_url: str) -> None:
    svc = make_services(db_url, timezone="Asia/Shanghai")
    generate(svc, GenerationSpec(registrations=20_000, plant=False, seed=5))
    with svc.db.read() as s:
        assert s.execute(select(func.count()).select_from(Registration)).scalar_one() == 20_000
    assert find_signals(svc, INSPECTOR, YEAR) == []


def test_generation_is_reproducible(tmp_path: Path) -> None:
    def chain_head(name: str) -> str:
        url = f"sqlite:///{tmp_path / name}"
        upgrade(url)
        svc = make_services(url)
        generate(svc, GenerationSpec(registrations=500, outlets=12, agents=60, plant=True, seed=11))
        from realname.registry.tables import AuditHead
        with svc.db.read() as s:
            head = s.get(AuditHead, 1)
            assert head is not None
            return head.hash

    assert chain_head("a.db") == chain_head("b.db")
