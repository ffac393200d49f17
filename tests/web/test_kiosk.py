"""The counter in a browser, with recorded clips as the camera, against a real server and the real face models.

The screen-light check is on (the service's default): before the actions the kiosk fills the screen with the
server's random colours. Chromium's file-fed fake camera cannot answer them; a test camera that tints the face in
step with what the page shows (a canvas stream swapped in for getUserMedia, in the test only) can, as a live face
near the screen does.

- the genuine clip through the tinting camera: document from the reader's JSON file + the chip photo, consent,
  live check, pass, a number, the receipt (no biometric data, masked document number);
- the same genuine clip through the plain fake camera: refused, the face did not take the screen's colours;
- its screen replay: refused as a possible presentation attack (the page then switches to English);
- a still photo held in front of the camera: refused (no action, no light).

The server's challenge is fixed to the actions the genuine clip shows (REALNAME_FIXED_CHALLENGE, tests only).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

from playwright.sync_api import Page, expect
from tests.operations.scrape import samples, scrape, value
from tests.registry_support import prc_card
from tests.support import need_data
from tests.web.browser import (
    GENUINE_ACTIONS,
    TINTING_CAMERA,
    BrowserFactory,
    Shots,
    WebServer,
    frame_at,
    login,
    new_page,
    start_web_server,
    write_y4m,
)

from realname.operators.demo import DEMO_PASSWORD
from realname.registry.tables import Registration, Verification

pytestmark = [pytest.mark.models, pytest.mark.data]

ATTACK_REASONS = {"screen_or_photo", "flat_motion", "different_person", "multiple_faces", "light_uniform", "light_lag"}
LIGHT_REASONS = {"light_response", "light_uniform", "light_lag"}


def category(reasons: list[str]) -> str:
    """The failure category the counter should show: a suspected attack, then the light alone (how to retry)."""
    if set(reasons) & ATTACK_REASONS:
        return "疑似非活体或非本人"
    return "面部未反射屏幕光" if "light_response" in reasons else "动作未完成"
CAPTURE_MS = 180_000  # ~26 s of capture, then the upload and the check, on two cores shared with the browser
STRENGTH = 0.12  # the tinting camera's light on the face, as a share of full scale
METRICS_TOKEN = "kiosk-metrics-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    s = start_web_server(tmp_path_factory.mktemp("kiosk"), REALNAME_FIXED_CHALLENGE=GENUINE_ACTIONS,
                         REALNAME_METRICS_TOKEN=METRICS_TOKEN)
    yield s
    s.stop()


def masked(number: str) -> str:
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


# Test-side instrumentation: what the page's capture request carries (frame count, types, timestamps).
RECORD_CAPTURES = """
window.__captures = [];
const send = window.fetch;
window.fetch = function (url, init) {
  if (String(url).endsWith("/capture") && init && init.body instanceof FormData) {
    const frames = init.body.getAll("frames");
    window.__captures.push({ frames: frames.length, timestamps: init.body.get("timestamps"),
                             flash_times: init.body.get("flash_times"),
                             types: [...new Set(frames.map((f) => f.type))], width: 0 });
    createImageBitmap(frames[0]).then((b) => { window.__captures.at(-1).width = b.width; });
  }
  return send.apply(this, arguments);
};
"""


def start_registration(page: Page, base: str, shot: Shots, face: tuple[float, ...] | None = None) -> None:
    """Log in and open the registration; ``face``: swap in the tinting test camera, lighting that ellipse."""
    page.add_init_script(RECORD_CAPTURES)
    if face is not None:
        page.add_init_script(TINTING_CAMERA % json.dumps([*face, STRENGTH]))
    login(page, base, "/kiosk", "agent1", DEMO_PASSWORD)
    expect(page.locator("#view-home")).to_be_visible()
    expect(page.locator("#who-agent")).to_have_text("agent1")
    expect(page.locator("#who-outlet")).to_contain_text("演示营业厅")
    expect(page.locator("#who-operator")).to_contain_text("演示电信")
    shot("home")
    page.click("#go-register")
    expect(page.locator("#step-doc")).to_be_visible()


def type_card(page: Page, card: dict[str, Any]) -> None:
    page.select_option("#f-doc_type", card["doc_type"])
    page.fill("#f-name", card["name"])
    page.select_option("#f-sex", card["sex"])
    page.fill("#f-birth_date", card["birth_date"])
    page.fill("#f-number", card["number"])
    page.fill("#f-issue_date", card["issue_date"])
    page.fill("#f-expiry_date", card["expiry_date"])
    page.fill("#f-address", card["address"])


def consent_and_capture(page: Page, shot: Shots) -> dict[str, Any]:
    """From the filled document form to the result; returns the server's decision (the page shows no score)."""
    page.click("#doc-submit")
    expect(page.locator("#step-consent")).to_be_visible()
    expect(page.locator("#notice")).to_contain_text("不保存您的面部照片")
    shot("consent")
    page.click("#consent-accept")
    expect(page.locator("#step-live")).to_be_visible()
    start = page.locator("#live-start")
    expect(start).to_be_enabled(timeout=30_000)
    shot("camera")
    with page.expect_response(lambda r: r.url.endswith("/capture"), timeout=CAPTURE_MS) as captured:
        start.click()
        # First the screen's colours around the camera picture, then the actions.
        flash = page.locator("#flash")
        expect(flash).to_be_visible(timeout=5_000)
        expect(flash).to_contain_text("请注视屏幕")
        page.wait_for_timeout(1200)
        shot("light")
        expect(page.locator("#prompt-text")).to_have_text("请向左转头", timeout=10_000)
        expect(page.locator("#prompt-step")).to_contain_text("第 1 / 5 个动作")
        page.wait_for_timeout(1500)
        shot("action")
    decision: dict[str, Any] = captured.value.json()
    # What the page sent: JPEG frames with their capture times, about 15 a second for the light (0.8 s of grey,
    # the colours, 1 s of grey), then 4 s per action + 2 s; and the time each of the 16-20 colours appeared.
    sent = page.evaluate("window.__captures.at(-1)")
    times = [float(t) for t in sent["timestamps"].split(",")]
    onsets = [float(t) for t in sent["flash_times"].split(",")]
    light = 1.8 + (onsets[-1] - onsets[0]) + 0.3
    frames, span = sent["frames"], times[-1] - times[0]
    assert frames == len(times) and 21 + light - 0.5 <= span <= 22.5 + light + 0.5, (frames, span, light)
    assert 16 <= len(onsets) <= 20 and times[0] < onsets[0] < onsets[-1] < times[-1], (onsets, times[0], times[-1])
    assert sent["types"] == ["image/jpeg"] and 0 < sent["width"] <= 640, sent
    assert 10 <= frames / span <= 16, frames / span
    assert all(b > a for a, b in itertools.pairwise(times))
    expect(page.locator("#step-result")).to_be_visible(timeout=10_000)
    assert "score" not in page.locator("#result-body").inner_text().lower()
    return decision


def test_genuine_clip_registers_a_number_with_a_receipt(server: WebServer, launch: BrowserFactory,
                                                        clips: Any, genuine_portrait: Path, genuine_face: Any,
                                                        tmp_path: Path) -> None:
    page, errors = new_page(launch(clips("genuine")))
    shot = Shots(page, "kiosk-genuine")
    start_registration(page, server.url, shot, face=genuine_face)
    card = prc_card()
    reader = tmp_path / "card.json"
    reader.write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")
    page.set_input_files("#reader-file", str(reader))
    page.set_input_files("#f-portrait", str(genuine_portrait))
    expect(page.locator("#f-number")).to_have_value(card["number"])
    expect(page.locator("#f-name")).to_have_value(card["name"])
    expect(page.locator("#portrait-preview")).to_be_visible()
    expect(page.locator("#reader-file-msg")).to_contain_text("已读取读卡器数据")
    shot("document")

    decision = consent_and_capture(page, shot)
    assert decision["decision"] == "pass", decision
    expect(page.locator("#step-result .outcome.pass")).to_contain_text("核验通过")
    shot("result")

    page.get_by_role("button", name="接受并分配号码").click()
    number = page.locator("#issued-msisdn")
    expect(number).to_have_text(re.compile(r"^\+86\d{11}$"))
    msisdn = number.inner_text()
    shot("number")
    page.get_by_role("button", name="确认并出具回执").click()
    receipt = page.locator("#receipt")
    expect(receipt).to_be_visible()
    expect(receipt).to_contain_text(msisdn)
    expect(receipt).to_contain_text(masked(card["number"]))
    expect(receipt).to_contain_text("本回执不含任何人脸图像或生物特征信息")
    text = receipt.inner_text()
    assert card["number"] not in text and card["name"] not in text and card["address"] not in text
    assert receipt.locator("img, video, canvas").count() == 0
    shot("receipt")
    page.emulate_media(media="print")
    shot("receipt-print")
    page.emulate_media(media="screen")

    with server.svc.db.read() as s:
        reg = s.query(Registration).one()
        v = s.get(Verification, decision["id"])
        assert v is not None and v.status == "used" and v.portrait_enc is None
        assert reg.verification_id == v.id and reg.status == "active"
    page.click("#receipt-next")
    expect(page.locator("#view-home")).to_be_visible()
    assert errors == []
    assert_metrics_after_one_registration(server)


def assert_metrics_after_one_registration(server: WebServer) -> None:
    """What the operations team's scraper sees after this counter's registration (the names and types are
    checked in full in tests/operations/test_metrics.py): the kiosk's requests by route, its live check and
    decision, the audit log's size; refused without the token."""
    assert scrape(server.url, None).status_code == 401
    r = scrape(server.url, METRICS_TOKEN)
    assert r.status_code == 200, r.text
    _, values = samples(r.text)

    assert value(values, "realname_http_requests_total", method="POST", route="/v1/registrations",
                 status="201") == 1
    assert value(values, "realname_http_request_duration_seconds_count", method="POST",
                 route="/v1/verifications/{verification_id}/capture") >= 1
    assert value(values, "realname_decisions_total", outcome="pass") >= 1
    assert value(values, "realname_live_check_seconds_count") >= 1
    assert value(values, "realname_compare_seconds_count") >= 1
    assert value(values, "realname_audit_events") > 0
    assert value(values, "realname_db_pool_connections_open") >= 1


def test_a_camera_that_cannot_answer_the_screen_light_is_refused(server: WebServer, launch: BrowserFactory,
                                                                clips: Any, genuine_portrait: Path,
                                                                tmp_path: Path) -> None:
    """The genuine clip itself, as chromium's file-fed camera plays it: the actions are all there, but the face
    does not take the colours the screen showed (a pre-recorded or injected face cannot)."""
    page, errors = new_page(launch(clips("genuine")))
    shot = Shots(page, "kiosk-nolight")
    start_registration(page, server.url, shot)
    reader = tmp_path / "card.json"
    portrait = base64.b64encode(genuine_portrait.read_bytes()).decode()
    reader.write_text(json.dumps({"card": prc_card(), "portrait": portrait}, ensure_ascii=False), encoding="utf-8")
    page.set_input_files("#reader-file", str(reader))
    expect(page.locator("#portrait-preview")).to_be_visible()
    decision = consent_and_capture(page, shot)
    assert decision["decision"] == "fail" and set(decision["reasons"]) & LIGHT_REASONS, decision
    # The light alone says how to retry; a whole-picture tint or a late answer is an attack.
    expect(page.locator("#fail-category")).to_have_text(category(decision["reasons"]))
    shot("result")
    assert errors == []


def test_screen_replay_is_refused_as_a_presentation_attack(server: WebServer, launch: BrowserFactory,
                                                           clips: Any, genuine_portrait: Path) -> None:
    page, errors = new_page(launch(clips("replay")))
    shot = Shots(page, "kiosk-replay")
    start_registration(page, server.url, shot)
    card = prc_card()
    wrong = card["number"][:-1] + ("0" if card["number"][-1] != "0" else "1")
    type_card(page, {**card, "number": wrong})
    page.set_input_files("#f-portrait", str(genuine_portrait))
    # The check digit is checked as the agent types, before anything is sent.
    expect(page.locator("#e-number")).to_contain_text("校验位错误")
    expect(page.locator("#f-number")).to_have_attribute("aria-invalid", "true")
    shot("document-error")
    page.click("#doc-submit")
    expect(page.locator("#step-doc")).to_be_visible()  # refused on the page: still step 1
    page.fill("#f-number", card["number"])
    expect(page.locator("#e-number")).to_be_hidden()

    decision = consent_and_capture(page, shot)
    assert decision["decision"] == "fail", decision
    # Through a browser the replay is caught as a screen or photo, a second face (the phone's frame) or flat motion.
    assert set(decision["reasons"]) & ATTACK_REASONS, decision
    shown = page.locator("#fail-category")
    expect(shown).to_have_text("疑似非活体或非本人")
    expect(page.locator("#retries")).to_contain_text(str(decision["retries_left"]))
    shot("result")

    # The counter switches to English: every string follows, and the choice outlives a reload.
    page.click("#lang")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(shown).to_have_text("Possible presentation attack")
    expect(page.locator("#step-result h2")).to_have_text("Step 4: Result")
    expect(page.locator("#retries")).to_contain_text("more tries left")
    shot("result-english")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#home-h")).to_have_text("Choose a service")
    assert errors == []


def test_still_photo_is_refused(server: WebServer, launch: BrowserFactory,
                                                           clips: Any, genuine_portrait: Path,
                                                           tmp_path: Path) -> None:
    page, errors = new_page(launch(clips("still")))
    shot = Shots(page, "kiosk-still")
    start_registration(page, server.url, shot)
    card = prc_card()
    # A reader file that carries the chip photo itself.
    reader = tmp_path / "card.json"
    portrait = base64.b64encode(genuine_portrait.read_bytes()).decode()
    reader.write_text(json.dumps({"card": card, "portrait": portrait}, ensure_ascii=False), encoding="utf-8")
    page.set_input_files("#reader-file", str(reader))
    expect(page.locator("#portrait-preview")).to_be_visible()
    shot("document")

    decision = consent_and_capture(page, shot)
    assert decision["decision"] == "fail", decision
    assert "action_missing" in decision["reasons"] and set(decision["reasons"]) & LIGHT_REASONS, decision
    # The light outranks a missed action (and a screen or a flat motion, when found, outranks the light).
    expect(page.locator("#fail-category")).to_have_text(category(decision["reasons"]))
    expect(page.get_by_role("button", name="重新检测")).to_be_visible()
    shot("result")
    assert errors == []


def test_a_face_cut_by_the_picture_edge_is_told_to_move_in(server: WebServer, launch: BrowserFactory,
                                                          genuine_portrait: Path, tmp_path: Path) -> None:
    """The camera shows the customer with 45% of the picture's width slid off its right edge: before the check
    starts, the kiosk's hints (the server's live feedback on real frames) say to bring the whole face in."""
    import numpy as np

    frame = frame_at(need_data("liveness", "genuine", "person_a_turns_nods.mp4"), 0.5)
    shifted = np.zeros_like(frame)
    shift = int(frame.shape[1] * 0.45)
    shifted[:, shift:] = frame[:, : frame.shape[1] - shift]
    camera = write_y4m((shifted for _ in range(90)), tmp_path / "cut.y4m")
    page, errors = new_page(launch(camera))
    shot = Shots(page, "kiosk-cut-off")
    start_registration(page, server.url, shot)
    reader = tmp_path / "card.json"
    portrait = base64.b64encode(genuine_portrait.read_bytes()).decode()
    reader.write_text(json.dumps({"card": prc_card(), "portrait": portrait}, ensure_ascii=False), encoding="utf-8")
    page.set_input_files("#reader-file", str(reader))
    expect(page.locator("#portrait-preview")).to_be_visible()
    page.click("#doc-submit")
    page.click("#consent-accept")
    expect(page.locator("#step-live")).to_be_visible()
    hints = page.request.get(server.url + "/static/reasons.json").json()["hints"]
    expect(page.locator("#hints")).to_contain_text(hints["face_cut_off"]["zh"], timeout=30_000)
    shot("hint")
    page.click("#lang")
    expect(page.locator("#hints")).to_contain_text(hints["face_cut_off"]["en"])
    assert errors == []


SHOW_HINTS = """async (reply) => {
  const { showHints } = await import("/static/live.js");
  let region = document.getElementById("test-hints");
  if (!region) {
    region = document.createElement("div");
    region.id = "test-hints";
    document.body.append(region);
  }
  delete region.dataset.shown;
  showHints(region, reply);
}"""


def test_hints_show_the_servers_catalogue(server: WebServer, launch: BrowserFactory) -> None:
    """The positioning hints take their texts from the server's catalogue (/static/reasons.json) by code, in the
    page's language, and follow a language switch; a code the catalogue lacks shows the server's own texts."""
    page, errors = new_page(launch())
    login(page, server.url, "/kiosk", "agent1", DEMO_PASSWORD)
    expect(page.locator("#view-home")).to_be_visible()
    hints = page.request.get(server.url + "/static/reasons.json").json()["hints"]
    page.evaluate(SHOW_HINTS, {"ok": False, "hints": [
        {"code": "too_dark", "en": "server's en", "zh": "server's zh"},
        {"code": "not_in_the_catalogue", "en": "Some new hint", "zh": "新的提示"}]})
    region = page.locator("#test-hints")
    expect(region.locator(".hint")).to_have_text([hints["too_dark"]["zh"], "新的提示"])
    page.click("#lang")
    expect(region.locator(".hint")).to_have_text([hints["too_dark"]["en"], "Some new hint"])
    page.evaluate(SHOW_HINTS, {"ok": True, "hints": []})
    expect(region).to_have_text(hints["ok"]["en"])
    assert errors == []
