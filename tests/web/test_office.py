"""The back office in a browser against a real server: a supervisor settles a review, an operator's administrator
adds an outlet and an agent, imports a number block and shortens the live check, an inspector reads the
dashboard and exports the CSV, reads the fraud signals and downloads the report (an administrator orders a
re-verification from a signal); the kiosk's consent refusal and server-side field errors; and an accessibility
smoke test of both pages. No face models: the verifications behind the review and the dashboard are made through
the services with a fixed live-check outcome, and nothing here reaches the camera step."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

from playwright.sync_api import Page, expect
from stdnum.cn import ric
from tests.registry_support import Clock, flash_times, make_services, noise_frames, portrait_bytes, prc_card
from tests.web.browser import UNNAMED_CONTROLS, BrowserFactory, Shots, WebServer, login, new_page, start_web_server

from realname.context import Services
from realname.live_check import FixedLiveCheck, Outcome
from realname.operators import auth
from realname.operators.demo import DEMO_PASSWORD
from realname.registration import registrations, verifications
from realname.registry.tables import AuditEvent, Reverification, Verification


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    s = start_web_server(tmp_path_factory.mktemp("office"))
    yield s
    s.stop()


def verified(svc: Services, card: dict[str, str]) -> Verification:
    """A decided verification by agent1, with whatever outcome `svc`'s fixed live check gives."""
    token, _, _ = auth.login(svc, "agent1", DEMO_PASSWORD)
    agent = auth.authenticate(svc, token)
    opened = verifications.open_verification(svc, agent, card, portrait_bytes(), consent=True)
    verifications.start_capture(svc, agent, opened.verification.id, opened.challenge)
    # The administrator's settings form (an earlier test) may have stored the light check on for the operator.
    v, _ = verifications.submit_capture(svc, agent, opened.verification.id, noise_frames(),
                                        flash_times(opened.verification.challenge_flash))
    return v


def with_outcome(server: WebServer, decision: Outcome, *reasons: str) -> Services:
    return make_services(server.db_url, live_check=FixedLiveCheck(decision, reasons))


def operator_settings(server: WebServer) -> dict[str, Any]:
    r = httpx.get(server.url + "/v1/operator/settings", headers=api_token(server, "agent1"), timeout=30)
    assert r.status_code == 200, r.text
    settings: dict[str, Any] = r.json()
    return settings


def type_card(page: Page, card: dict[str, Any]) -> None:
    for field in ("doc_type", "sex"):
        page.select_option(f"#f-{field}", card[field])
    for field in ("name", "birth_date", "number", "issue_date", "expiry_date", "address"):
        page.fill(f"#f-{field}", card[field])


def api_token(server: WebServer, username: str) -> dict[str, str]:
    r = httpx.post(server.url + "/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_supervisor_settles_a_review_from_the_queue(server: WebServer, launch: BrowserFactory) -> None:
    card = prc_card()
    waiting = verified(with_outcome(server, "review", "match_uncertain"), card)
    assert waiting.decision == "review"
    page, errors = new_page(launch())
    shot = Shots(page, "office-review")
    login(page, server.url, "/office", "super1", DEMO_PASSWORD)
    expect(page.locator("#nav-reviews")).to_have_attribute("aria-current", "page")
    row = page.locator(f"tr[data-verification='{waiting.id}']")
    expect(row).to_contain_text(card["number"][:3] + "*" * 11 + card["number"][-4:])
    expect(row).to_contain_text("agent1")
    expect(row).to_contain_text("比对结果不确定")
    assert card["number"] not in page.locator("#panel").inner_text()
    shot("queue")

    row.get_by_role("button", name="复核").click()
    panel = page.locator("#panel")
    panel.get_by_label("通过（确认为本人）").check()
    panel.get_by_label("复核理由").select_option("original_document_checked")
    panel.get_by_label("补充说明（可选）").fill("核对了身份证原件")
    shot("decide")
    page.get_by_role("button", name="提交复核").click()
    expect(page.get_by_text("已提交复核结论")).to_be_visible()
    expect(page.get_by_text("当前没有待复核的核验")).to_be_visible()
    shot("done")

    with server.svc.db.read() as s:
        v = s.get(Verification, waiting.id)
        assert v is not None and v.decision == "pass" and v.reviewed_by is not None
        assert v.review_reason == "original_document_checked: 核对了身份证原件"
    assert errors == []


def test_admin_adds_an_agent_imports_numbers_and_shortens_the_challenge(server: WebServer, launch: BrowserFactory,
                                                                         tmp_path: Path) -> None:
    page, errors = new_page(launch())
    shot = Shots(page, "office-admin")
    login(page, server.url, "/office", "admin1", DEMO_PASSWORD)
    expect(page.locator("#nav-outlets")).to_have_attribute("aria-current", "page")
    panel = page.locator("#panel")
    expect(panel.locator("table")).to_contain_text("DEMO-001")
    panel.get_by_label("编码").fill("DEMO-002")
    panel.get_by_label("名称").fill("第二营业厅")
    panel.get_by_label("行政区划代码（可选）").fill("110106")
    page.get_by_role("button", name="新增营业厅").click()
    expect(page.get_by_text("已新增营业厅 DEMO-002。")).to_be_visible()
    expect(page.locator("#panel table")).to_contain_text("第二营业厅")
    shot("outlets")

    page.click("#nav-users")
    panel.get_by_label("用户名").fill("agent9")
    panel.get_by_label("初始密码（至少 8 位）").fill("agent9-pass-123")
    panel.get_by_label("角色").select_option("agent")
    panel.get_by_label("营业厅").select_option(label="DEMO-002 · 第二营业厅")
    page.get_by_role("button", name="新增人员").click()
    expect(page.get_by_text("已新增人员 agent9。")).to_be_visible()
    row = page.locator("tr[data-user='agent9']")
    expect(row).to_contain_text("DEMO-002")
    expect(row).to_contain_text("正常")
    assert httpx.post(server.url + "/v1/auth/login", json={"username": "agent9", "password": "agent9-pass-123"},
                      timeout=30).status_code == 200
    row.get_by_role("button", name="停用").click()
    expect(page.locator("tr[data-user='agent9']")).to_contain_text("已停用")
    refused = httpx.post(server.url + "/v1/auth/login", json={"username": "agent9", "password": "agent9-pass-123"},
                         timeout=30)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "account_disabled"
    page.locator("tr[data-user='agent9']").get_by_role("button", name="列入黑名单").click()
    panel.get_by_label("列入黑名单的原因").fill("冒用他人证件办理")
    panel.get_by_role("button", name="确认列入黑名单").click()
    expect(page.locator("tr[data-user='agent9']")).to_contain_text("已列入黑名单")
    page.locator("tr[data-user='agent9']").get_by_role("button", name="解除黑名单").click()
    panel.get_by_role("button", name="确认解除黑名单").click()  # no reason yet: refused on the page
    expect(page.get_by_text("请填写原因。")).to_be_visible()
    panel.get_by_label("解除黑名单的原因").fill("核实后为误报")
    panel.get_by_role("button", name="确认解除黑名单").click()
    expect(page.locator("tr[data-user='agent9']")).to_contain_text("已停用")  # lifted; still disabled
    expect(page.locator("tr[data-user='agent9']").get_by_role("button", name="列入黑名单")).to_be_visible()
    with server.svc.db.read() as s:
        lifted = s.execute(select(AuditEvent).where(AuditEvent.action == "agent_blacklist_lifted")).scalar_one()
    assert lifted.actor == "admin1" and lifted.payload["reason"] == "核实后为误报"
    shot("users")

    page.click("#nav-numbers")
    block = tmp_path / "numbers.csv"
    block.write_text("msisdn,status\n+8619900000001,available\n+8619900000002,available\n13800138000,reserved\n",
                     encoding="utf-8")
    panel.get_by_label("号码文件（CSV）").set_input_files(str(block))
    panel.get_by_role("button", name="导入").click()
    expect(page.get_by_text("已导入 3 个号码，跳过已存在的 0 个。")).to_be_visible()
    shot("numbers")

    page.click("#nav-settings")
    expect(page.locator("#s-challenge_actions")).to_have_value("3")
    panel.get_by_label("活体检测动作数量").select_option("2")
    panel.get_by_label("人工核验流程说明").fill("请联系值班主管，查验证件原件后人工办理。")
    page.get_by_role("button", name="保存设置").click()
    expect(page.get_by_text("设置已保存。")).to_be_visible()
    panel.get_by_label("每位客户在本运营商最多可登记的号码数").fill("3")
    page.get_by_role("button", name="保存上限").click()
    expect(page.get_by_text("已保存：每人最多 3 个号码。")).to_be_visible()
    shot("settings")

    settings = operator_settings(server)
    assert settings["challenge_actions"] == 2 and settings["cap_per_person"] == 3
    assert settings["manual_path"] == "请联系值班主管，查验证件原件后人工办理。"
    # The next customer's live check asks for two actions.
    opened = verifications.open_verification(server.svc, auth.authenticate(server.svc, auth.login(
        server.svc, "agent1", DEMO_PASSWORD)[0]), prc_card(), portrait_bytes(), consent=True)
    assert len(opened.actions) == 2
    assert errors == []


FAILURES = (("action_missing", "screen_or_photo"), ("action_too_slow",), ("face_mismatch",), ("multiple_faces",))


def a_week_of_activity(server: WebServer) -> None:
    """Registrations and failed checks on each of the last seven days, through the services (a moved clock)."""
    clock = Clock()
    today = clock.now
    passing = make_services(server.db_url, clock=clock)
    failing = [make_services(server.db_url, live_check=FixedLiveCheck("fail", r), clock=clock) for r in FAILURES]
    try:
        for back, (ok, bad) in enumerate([(3, 1), (2, 0), (4, 2), (1, 1), (3, 0), (5, 1), (2, 1)]):
            clock.now = today - timedelta(days=back, hours=1)
            token, _, _ = auth.login(passing, "agent1", DEMO_PASSWORD)
            agent = auth.authenticate(passing, token)
            for _ in range(ok):
                registrations.register(passing, agent, verified(passing, prc_card()).id)
            for i in range(bad):
                verified(failing[(back + i) % len(failing)], prc_card())
    finally:
        for svc in (passing, *failing):
            svc.db.dispose()


def test_inspector_dashboard_charts_chain_and_csv_export(server: WebServer, launch: BrowserFactory) -> None:
    a_week_of_activity(server)

    page, errors = new_page(launch())
    shot = Shots(page, "office-inspector")
    login(page, server.url, "/office", "inspector1", DEMO_PASSWORD)
    expect(page.locator("#nav-dashboard")).to_have_attribute("aria-current", "page")
    expect(page.locator("#chain-status")).to_have_text("完整")
    expect(page.locator("#chain-status")).to_have_attribute("data-ok", "true")
    expect(page.locator("[data-total=registrations] dd")).to_have_text("20")
    expect(page.locator("[data-total=failed] dd")).to_have_text("6")
    assert page.locator("#charts svg").count() >= 2
    expect(page.locator("#charts")).to_contain_text("疑似屏幕或照片")
    shot("dashboard")
    shot("dashboard-full", full_page=True)

    with page.expect_download() as download:
        page.click("#d-export")
    path = download.value.path()
    data = Path(path).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), data[:20]
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("登记编号/registration_id")
    assert len(text.strip().splitlines()) == 1 + 20
    assert download.value.suggested_filename.endswith(".csv")
    expect(page.get_by_text("已下载")).to_be_visible()
    assert errors == []


def plant_signals(server: WebServer) -> tuple[str, str]:
    """Through the services: a number registered and cancelled an hour later (quick_cancel), and a document that
    failed three checks before a pass (fail_then_pass), two days ago (inside the dashboard's default period in
    any time zone). Returns both registration ids."""
    clock = Clock()
    clock.advance(days=-2)
    passing = make_services(server.db_url, clock=clock)
    failing = make_services(server.db_url, live_check=FixedLiveCheck("fail", ("face_mismatch",)), clock=clock)
    try:
        agent = auth.authenticate(passing, auth.login(passing, "agent1", DEMO_PASSWORD)[0])
        cancelled = registrations.register(passing, agent, verified(passing, prc_card()).id)
        clock.advance(hours=1)
        registrations.cancel(passing, agent, cancelled.id, "客户当场要求销号")
        card = prc_card()
        for _ in range(3):
            clock.advance(minutes=4)
            assert verified(failing, card).decision == "fail"
        clock.advance(minutes=4)
        active = registrations.register(passing, agent, verified(passing, card).id)
    finally:
        for svc in (passing, failing):
            svc.db.dispose()
    return cancelled.id, active.id


def saved(page: Page, button: str) -> tuple[bytes, str]:
    """Press a download button; the file's bytes and suggested name."""
    with page.expect_download() as download:
        page.click(button)
    return Path(download.value.path()).read_bytes(), download.value.suggested_filename


def test_dashboard_fraud_signals_reports_and_reverification(tmp_path: Path, launch: BrowserFactory) -> None:
    own = start_web_server(tmp_path)  # its own database: the other tests' counts stay as they are
    try:
        cancelled, active = plant_signals(own)
        browser = launch()

        page, errors = new_page(browser)
        shot = Shots(page, "office-inspector")
        login(page, own.url, "/office", "inspector1", DEMO_PASSWORD)
        expect(page.locator("#nav-dashboard")).to_have_attribute("aria-current", "page")
        quick = page.locator("#signals li[data-kind=quick_cancel]")
        expect(quick.locator("h3")).to_have_text("短期开销户")
        expect(quick).to_contain_text(cancelled)
        expect(quick).to_contain_text("涉及号码：1 个")
        expect(quick.locator(".signal-summary")).to_contain_text("registered and cancelled after 1:00:00")
        retried = page.locator("#signals li[data-kind=fail_then_pass]")
        expect(retried.locator("h3")).to_have_text("多次失败后通过")
        expect(retried).to_contain_text("3 failed verifications, then a pass")
        expect(page.locator("#signals button")).to_have_count(0)  # an inspector reads, orders nothing

        evidence = quick.locator("details pre")
        expect(evidence).to_be_hidden()
        quick.get_by_text("查看依据").click()
        expect(evidence).to_be_visible()
        expect(evidence).to_contain_text('"agent": "agent1"')
        expect(evidence).to_contain_text('"cancelled":')
        check_controls_named(page, "dashboard with signals")
        page.locator("#signals").scroll_into_view_if_needed()
        shot("signals")

        pdf, name = saved(page, "#r-pdf")
        assert pdf.startswith(b"%PDF"), pdf[:20]
        assert name.startswith("report_") and name.endswith(".pdf"), name
        panel = page.locator("#panel")
        panel.get_by_label("营业厅编码（可选）").fill("DEMO-001")
        panel.get_by_label("营业员用户名（可选）").fill("agent1")
        csv, name = saved(page, "#r-csv")
        assert csv.startswith(b"\xef\xbb\xbf"), csv[:20]
        assert "outlet=DEMO-001" in csv.decode("utf-8-sig") and "agent=agent1" in csv.decode("utf-8-sig")
        assert name.endswith(".csv"), name
        data, name = saved(page, "#r-json")  # no Content-Disposition: named by the page
        start, end = page.input_value("#d-start"), page.input_value("#d-end")
        assert name == f"report_{start}_{end}.json"
        report = json.loads(data)
        assert report["scope"]["outlet"] == "DEMO-001" and report["totals"]["registrations"] == 2
        expect(page.get_by_text(f"已下载 {name}。")).to_be_visible()
        shot("signals-full", full_page=True)

        page.click("#lang")
        expect(quick.locator("h3")).to_have_text("Registered and cancelled quickly")
        expect(quick).to_contain_text("Numbers concerned: 1")
        expect(page.locator("#r-csv")).to_have_attribute("aria-label", "Download report (CSV)")
        page.click("#lang")

        page.fill("#d-start", "2020-01-01")
        page.fill("#d-end", "2020-01-31")
        page.get_by_role("button", name="查看").click()
        expect(page.locator("#signals-empty")).to_have_text("本期无风险信号。")
        assert errors == []

        # An operator's administrator may order re-verification of the numbers a signal concerns.
        page, errors = new_page(browser)
        shot = Shots(page, "office-admin")
        login(page, own.url, "/office", "admin1", DEMO_PASSWORD)
        page.click("#nav-dashboard")
        retried = page.locator("#signals li[data-kind=fail_then_pass]")
        retried.get_by_role("button", name="发起复核").click()
        expect(retried.locator("[role=status]")).to_have_text("已发起 1 项复核。")
        expect(retried.get_by_role("button", name="发起复核")).to_be_disabled()
        quick = page.locator("#signals li[data-kind=quick_cancel]")
        quick.get_by_role("button", name="发起复核").click()  # the number is cancelled: nothing to re-verify
        expect(quick.locator("[role=status]")).to_have_text("这些号码均已不在使用，未发起复核。")
        shot("signals-reverified")
        with own.svc.db.read() as s:
            orders = s.execute(select(Reverification)).scalars().all()
            assert [(o.registration_id, o.status) for o in orders] == [(active, "open")]
            assert orders[0].reason.startswith("signal fail_then_pass: ")
        assert errors == []
    finally:
        own.stop()


def test_kiosk_refused_consent_and_server_field_errors(server: WebServer, launch: BrowserFactory,
                                                       tmp_path: Path) -> None:
    """No dead end when the customer refuses face processing; the server's refusal of a field lands next to it."""
    page, errors = new_page(launch())
    shot = Shots(page, "kiosk-consent")
    login(page, server.url, "/kiosk", "agent1", DEMO_PASSWORD)
    page.click("#go-register")
    card = prc_card()
    body = "999999" + card["number"][6:17]  # a region code that does not exist, with a correct check digit
    card["number"] = body + ric.calc_check_digit(body + "0")
    portrait = tmp_path / "chip.jpg"
    portrait.write_bytes(portrait_bytes())
    type_card(page, card)
    page.set_input_files("#f-portrait", str(portrait))
    expect(page.locator("#e-number")).to_be_hidden()  # the format and check digit are right
    page.click("#doc-submit")
    expect(page.locator("#step-consent")).to_be_visible()

    page.click("#consent-decline")
    manual = page.locator("#manual")
    expect(manual).to_be_visible()
    expect(manual).to_contain_text(operator_settings(server)["manual_path"])
    shot("declined")
    page.click("#manual-back")
    expect(manual).to_be_hidden()

    page.click("#consent-accept")  # the server checks the region code: back to the form, next to the field
    expect(page.locator("#step-doc")).to_be_visible()
    expect(page.locator("#e-number")).to_have_text("证件号码的地区代码不存在")
    expect(page.locator("#f-number")).to_be_focused()
    shot("server-error")
    page.click("#lang")
    expect(page.locator("#e-number")).to_have_text("Document number has an unknown region code")
    page.click("#lang")
    page.click("#flow-cancel")
    expect(page.locator("#view-home")).to_be_visible()
    assert errors == []


def check_controls_named(page: Page, where: str) -> None:
    unnamed = page.evaluate(UNNAMED_CONTROLS)
    assert unnamed == [], f"{where}: controls without an accessible name: {unnamed}"


def tab_to(page: Page, element_id: str, presses: int = 12) -> None:
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def test_accessibility_smoke(server: WebServer, launch: BrowserFactory) -> None:
    page, errors = new_page(launch())
    shot = Shots(page, "a11y")
    for path in ("/kiosk", "/office"):
        page.goto(server.url + path)
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("#login-submit")).to_be_visible()
        check_controls_named(page, path)
        page.locator("body").focus()
        tab_to(page, "login-submit")
        outline = page.evaluate("(() => { const s = getComputedStyle(document.activeElement); "
                                "return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()")
        assert outline[0] != "none" and outline[1] >= 2, outline  # a visible keyboard focus
        shot(f"{path.strip('/')}-login-focus")

    # Enter in the form logs in; the document form, in both languages, names every control.
    page.goto(server.url + "/kiosk")
    page.fill("#login-username", "agent1")
    page.fill("#login-password", DEMO_PASSWORD)
    page.press("#login-password", "Enter")
    page.click("#go-register")
    expect(page.locator("#step-doc")).to_be_visible()
    check_controls_named(page, "kiosk document form")
    page.click("#lang")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#lang")).to_have_attribute("aria-label", "Switch the interface to Chinese")
    check_controls_named(page, "kiosk document form (English)")
    page.click("#doc-submit")  # nothing filled in: every field says what is wrong, next to it
    expect(page.locator("#e-name")).to_have_text("Fill in this field.")
    expect(page.locator("#f-sex")).to_be_focused()  # the first field in error, in the order of the form
    shot("kiosk-document-english")
    page.click("#lang")
    expect(page.locator("#e-name")).to_have_text("请填写此项。")

    # The agent's token does not open the back office: it asks for another login.
    page.goto(server.url + "/office")
    expect(page.locator("#login-error")).to_contain_text("此账号没有可用的后台功能")
    login(page, server.url, "/office", "admin1", DEMO_PASSWORD)
    page.click("#nav-users")
    expect(page.locator("tr[data-user='agent1']")).to_be_visible()
    check_controls_named(page, "office staff")
    assert errors == []
