"""Enrolled kiosks in a real browser: Chromium's virtual authenticator (DevTools protocol
``WebAuthn.addVirtualAuthenticator``, a platform authenticator as a kiosk's TPM would be) enrols the kiosk from the
back office, and the kiosk page then proves every step of a registration with it. A browser that is not enrolled
is refused by an operator that requires enrolled kiosks, and the page says why."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

from playwright.sync_api import Page, expect
from sqlalchemy import select
from tests.registry_support import prc_card, seeded
from tests.servers import serve
from tests.web.browser import (
    GENUINE_ACTIONS,
    TINTING_CAMERA,
    BrowserFactory,
    Shots,
    WebServer,
    login,
    new_page,
)
from tests.web.test_kiosk import CAPTURE_MS, STRENGTH, type_card

from realname.context import SYSTEM
from realname.operators import admin
from realname.operators.demo import DEMO_PASSWORD
from realname.registry.tables import AuditEvent, Kiosk, Registration, Verification


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[WebServer]:
    """`realname serve` over each database (SQLite, PostgreSQL) whose demo operator requires enrolled kiosks."""
    svc, demo = seeded(db_url)
    admin.update_operator_settings(svc, SYSTEM, {"require_enrolled_kiosks": True}, operator_id=demo.operator_id)
    url, proc = serve(db_url, tmp_path, tmp_path / "server.log", REALNAME_FIXED_CHALLENGE=GENUINE_ACTIONS,
                      REALNAME_WEBAUTHN_RP_ID="localhost")
    # WebAuthn binds credentials to a host name, never an IP address: the pages are opened on localhost
    s = WebServer(url.replace("127.0.0.1", "localhost"), db_url, svc, proc, tmp_path / "server.log")
    yield s
    s.stop()


def with_authenticator(page: Page) -> None:
    """A platform authenticator in this tab, answering without a touch (a kiosk's TPM)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})


def enrol_here(page: Page, base: str, shot: Shots, name: str) -> None:
    login(page, base, "/office", "admin1", DEMO_PASSWORD)
    page.click("#nav-devices")
    expect(page.locator("#k-outlet option")).to_have_count(1)
    page.fill("#k-name", name)
    shot("devices")
    page.get_by_role("button", name="登记本机为终端").click()
    expect(page.locator("#panel")).to_contain_text(f"已登记终端 {name}")
    expect(page.locator("#panel table").first).to_contain_text("本机")
    shot("enrolled")
    page.click("#logout")


def test_an_unenrolled_browser_is_refused_and_the_page_says_why(server: WebServer, launch: BrowserFactory) -> None:
    page, errors = new_page(launch())
    login(page, server.url, "/kiosk", "agent1", DEMO_PASSWORD)
    expect(page.locator("#kiosk-device")).to_contain_text("本机不是已登记的终端")
    status = page.evaluate("""async () => {
      const token = sessionStorage.getItem("realname.token");
      const body = JSON.stringify({card: {}, portrait: "", consent_face_processing: true});
      const r = await fetch("/v1/verifications", {method: "POST", body,
        headers: {"Authorization": `Bearer ${token}`, "Content-Type": "application/json"}});
      return [r.status, (await r.json()).error.code];
    }""")
    assert status == [403, "kiosk_assertion_required"]
    assert errors == []


def test_a_kiosk_enrolled_in_the_back_office_registers_a_number(server: WebServer, launch: BrowserFactory,
                                                              clips: Any, genuine_portrait: Path, genuine_face: Any,
                                                              tmp_path: Path) -> None:
    page, errors = new_page(launch(clips("genuine")))
    with_authenticator(page)
    shot = Shots(page, "devices-kiosk")
    enrol_here(page, server.url, shot, "柜台一号")
    page.add_init_script(TINTING_CAMERA % json.dumps([*genuine_face, STRENGTH]))
    login(page, server.url, "/kiosk", "agent1", DEMO_PASSWORD)
    expect(page.locator("#kiosk-device")).to_contain_text("本机是已登记的终端：柜台一号")
    page.click("#go-register")
    card = prc_card()
    type_card(page, card)
    page.set_input_files("#f-portrait", str(genuine_portrait))
    page.click("#doc-submit")
    page.click("#consent-accept")
    start = page.locator("#live-start")
    expect(start).to_be_enabled(timeout=30_000)
    with page.expect_response(lambda r: r.url.endswith("/capture"), timeout=CAPTURE_MS) as captured:
        start.click()
    decision = captured.value.json()
    assert decision["decision"] == "pass", decision
    page.get_by_role("button", name="接受并分配号码").click()
    expect(page.locator("#issued-msisdn")).to_have_text(re.compile(r"^\+86\d{11}$"))
    shot("number")
    with server.svc.db.read() as s:
        kiosk = s.execute(select(Kiosk)).scalar_one()
        v = s.get(Verification, decision["id"])
        reg = s.execute(select(Registration)).scalar_one()
        assert v is not None and v.kiosk_id == kiosk.id and reg.verification_id == v.id
        assert kiosk.sign_count >= 4  # open, start, capture, register: each proved
        proved = [e.payload.get("kiosk") for e in s.scalars(select(AuditEvent).where(AuditEvent.action.in_(
            ["document_read", "capture_started", "decision", "number_assigned"])))]
    assert proved == [kiosk.id] * 4
    assert errors == []
