"""The compliance report shows what each operator's purge and capture chain actually use, not only the
service's defaults."""

from __future__ import annotations

from tests.registry_support import seeded

from realname.context import Services
from realname.operators import admin
from realname.operators.auth import authenticate, login
from realname.operators.demo import DEMO_PASSWORD
from realname.supervision.compliance import compliance


def _login(svc: Services, username: str):  # type: ignore[no-untyped-def]
    token, _, _ = login(svc, username, DEMO_PASSWORD)
    return authenticate(svc, token)


def test_the_report_shows_each_operators_own_retention_and_capture_chain(db_url: str) -> None:
    svc, _ = seeded(db_url)
    admin.update_operator_settings(svc, _login(svc, "admin1"), {
        "retention_years_after_service": 3, "session_retention_days": 30, "card_readers": "required"})
    report = compliance(svc, _login(svc, "auditor1"))
    assert report.retention["registrations_years_after_service"] == svc.settings.retention_years_after_service
    assert report.retention["per_operator"]["DEMO"] == {"registrations_years_after_service": 3,
                                                         "verification_sessions_days": 30}
    assert report.settings["card_readers"] == {"DEMO": "required"}
    assert report.settings["enrolled_kiosks_required"] == {"DEMO": False}  # the demo operator relaxes it
