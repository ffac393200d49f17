"""Bad requests get a JSON error with a stable code, and change nothing.

Every POST/PUT route (read from the app) gets malformed JSON, values of the wrong type, unknown fields and an
oversized body; then the registry's own refusals: invalid documents, a missing consent, bad portraits, expired,
reused and altered challenges, bad captures (no frames, frames and timestamps that do not pair up, unreadable
images and videos, too large), bad numbers and number files. Around each bad request the row counts of the
registry (audit events, verifications, registrations, numbers by status...) must stay exactly the same. SQLite only,
one seeded database for the module: a bad request leaves it as it found it.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select
from tests.api.test_roles import (
    ANY_LOGGED_IN,
    PUBLIC,
    ROUTE_APP,
    USER_OF_ROLE,
    Endpoint,
    endpoints,
    minimal_body,
    request_body,
)
from tests.registry_support import Clock, portrait_bytes, prc_card, seeded

from realname.api.app import create_app
from realname.api.limits import body_limit
from realname.context import Services
from realname.operators.auth import PERMISSIONS, ROLES
from realname.operators.demo import DEMO_PASSWORD
from realname.registry.migrate import upgrade
from realname.registry.tables import (
    AuditEvent,
    Consent,
    Person,
    PhoneNumber,
    Registration,
    Reverification,
    User,
    Verification,
)

MAX_UPLOAD = 60_000  # per image (the portrait, each frame)
MAX_CAPTURE = 250_000  # a whole capture request
MAX_JSON = 20_000  # any other request

# --- the registry's state, before and after ---------------------------------------------------------------------------

COUNTED = {"audit_events": AuditEvent, "verifications": Verification, "registrations": Registration,
           "persons": Person, "consents": Consent, "reverifications": Reverification, "users": User}


def snapshot(svc: Services) -> dict[str, int]:
    """Row counts of the registry's tables, and numbers and verifications by status."""
    with svc.db.read() as s:
        counts = {name: s.execute(select(func.count()).select_from(table)).scalar_one()
                  for name, table in COUNTED.items()}
        for label, column in (("numbers", PhoneNumber.status), ("verifications", Verification.status)):
            for status, n in s.execute(select(column, func.count()).group_by(column)).all():
                counts[f"{label}.{status}"] = n
    return counts


@contextmanager
def unchanged(svc: Services) -> Iterator[None]:
    before = snapshot(svc)
    yield
    after = snapshot(svc)
    changed = {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert not changed, f"a refused request changed the registry (before, after): {changed}"


# --- one seeded registry for the module ------------------------------------------------------------------------------

@dataclass
class Env:
    app: FastAPI
    client: TestClient
    svc: Services
    clock: Clock
    auth: dict[str, dict[str, str]]  # role -> headers

    def headers_for(self, endpoint: Endpoint) -> dict[str, str]:
        """A role that may call the endpoint (none for the login)."""
        if (endpoint.method, endpoint.path) in PUBLIC:
            return {}
        op = endpoint.operation
        role = next(r for r in ROLES if op is None or r in PERMISSIONS[op])
        return self.auth[role]

    def open(self, card: dict[str, Any] | None = None) -> dict[str, Any]:
        r = self.client.post("/v1/verifications", headers=self.auth["agent"], json=opening(card or prc_card()))
        assert r.status_code == 201, r.text
        return dict(r.json())

    def capturing(self) -> str:
        opened = self.open()
        r = self.client.post(f"/v1/verifications/{opened['id']}/start", headers=self.auth["agent"],
                             json={"challenge": opened["challenge"]["token"]})
        assert r.status_code == 200, r.text
        return str(opened["id"])

    def capture(self, vid: str, **kw: Any) -> httpx.Response:
        r: httpx.Response = self.client.post(f"/v1/verifications/{vid}/capture", headers=self.auth["agent"], **kw)
        return r

    def passed(self) -> str:
        vid = self.capturing()
        r = self.capture(vid, files=frames(4), data={"timestamps": "0,0.1,0.2,0.3"})
        assert r.status_code == 200 and r.json()["decision"] == "pass", r.text
        return vid


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    url = f"sqlite:///{tmp_path_factory.mktemp('bad') / 'registry.db'}"
    upgrade(url)
    clock = Clock()
    svc, _ = seeded(url, clock=clock, max_upload_bytes=MAX_UPLOAD, max_capture_bytes=MAX_CAPTURE,
                    max_portrait_bytes=MAX_UPLOAD, max_json_bytes=MAX_JSON, max_capture_pixels=CAPTURE_PIXELS,
                    max_frames=50)
    app = create_app(svc.settings, services=svc)
    with TestClient(app) as client:
        auth = {}
        for role in ROLES:
            r = client.post("/v1/auth/login", json={"username": USER_OF_ROLE[role], "password": DEMO_PASSWORD})
            assert r.status_code == 200, r.text
            auth[role] = {"Authorization": f"Bearer {r.json()['token']}"}
        yield Env(app, client, svc, clock, auth)


def opening(card: dict[str, Any], **kw: Any) -> dict[str, Any]:
    body = {"card": card, "portrait": base64.b64encode(portrait_bytes()).decode(), "consent_face_processing": True}
    return body | kw


def _png_bomb(width: int = 6000, height: int = 6000) -> bytes:
    """A few KB of palette PNG that declares ``width`` x ``height`` (36 MP by default: ~108 MB once decoded)."""
    buf = io.BytesIO()
    Image.new("P", (width, height)).save(buf, "PNG", optimize=True)
    return buf.getvalue()


def frames(n: int, size: tuple[int, int] = (48, 64)) -> list[tuple[str, tuple[str, bytes, str]]]:
    rng = np.random.default_rng(n)
    out = []
    for i in range(n):
        ok, buf = cv2.imencode(".png", rng.integers(0, 255, (*size, 3), dtype=np.uint8))
        assert ok
        out.append(("frames", (f"f{i}.png", buf.tobytes(), "image/png")))
    return out


def error(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The JSON error of a response that must have ``status`` (and ``code``)."""
    assert r.status_code == status, f"{r.status_code} (wanted {status}): {r.text}"
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()["error"]
    assert body["message"]
    if code is not None:
        assert body["code"] == code, body
    return dict(body)


# --- every POST/PUT route: malformed, mistyped, unknown fields, oversized ---------------------------------------------

def _schema_properties(endpoint: Endpoint) -> dict[str, Any]:
    _, schema = request_body(ROUTE_APP, endpoint)
    return dict((schema or {}).get("properties", {}))


WRITES = [e for e in endpoints(ROUTE_APP) if e.method in ("POST", "PUT")]
JSON_WRITES = [e for e in WRITES if request_body(ROUTE_APP, e)[0] == "application/json"]
FIELDS = [(e, name) for e in JSON_WRITES for name in _schema_properties(e)]


def wrong_type(schema: dict[str, Any]) -> Any:
    """A JSON value of another type than the field takes (a number as text, text for a flag...)."""
    kinds = {s.get("type") for s in schema.get("anyOf", [schema])}
    if "string" in kinds:
        return 12345
    if kinds & {"integer", "number"}:
        return "1"
    if "boolean" in kinds:
        return "true"
    return "text"  # object, array


def test_the_write_routes_are_found() -> None:
    assert len(JSON_WRITES) >= 10 and FIELDS
    assert {("POST", "/v1/auth/login"), ("POST", "/v1/verifications"), ("PUT", "/v1/admin/cap")} <= {
        (e.method, e.path) for e in JSON_WRITES}


@pytest.mark.parametrize("endpoint", JSON_WRITES, ids=str)
def test_malformed_json(env: Env, endpoint: Endpoint) -> None:
    headers = env.headers_for(endpoint) | {"content-type": "application/json"}
    for text in ('{"verification_id": ', "{'single': 'quotes'}", "\xff"):
        with unchanged(env.svc):
            error(env.client.request(endpoint.method, endpoint.url, headers=headers, content=text.encode("latin-1")),
                  422, "malformed_json")


@pytest.mark.parametrize("endpoint", JSON_WRITES, ids=str)
def test_body_that_is_not_an_object(env: Env, endpoint: Endpoint) -> None:
    values: list[Any] = [[], "text", 1, None]
    for value in values:
        with unchanged(env.svc):
            r = env.client.request(endpoint.method, endpoint.url, headers=env.headers_for(endpoint), json=value)
            error(r, 422, "bad_request")


@pytest.mark.parametrize(("endpoint", "field"), FIELDS, ids=lambda x: str(x))
def test_wrong_type(env: Env, endpoint: Endpoint, field: str) -> None:
    body = minimal_body(env.app, endpoint, env.svc)
    assert body is not None
    body[field] = wrong_type(_schema_properties(endpoint)[field])
    with unchanged(env.svc):
        r = env.client.request(endpoint.method, endpoint.url, headers=env.headers_for(endpoint), json=body)
        assert error(r, 422, "bad_request")["message"].startswith(f"body.{field}")


@pytest.mark.parametrize("endpoint", JSON_WRITES, ids=str)
def test_unknown_field(env: Env, endpoint: Endpoint) -> None:
    body = minimal_body(env.app, endpoint, env.svc)
    assert body is not None
    with unchanged(env.svc):
        r = env.client.request(endpoint.method, endpoint.url, headers=env.headers_for(endpoint),
                               json=body | {"is_admin": True})
        assert "is_admin" in error(r, 422, "bad_request")["message"]


@pytest.mark.parametrize("endpoint", WRITES, ids=str)
def test_oversized_body(env: Env, endpoint: Endpoint) -> None:
    """Each route's own limit: a small one for JSON, more for the portrait, images and the capture."""
    limit = body_limit(env.svc.settings, (endpoint.route.openapi_extra or {}).get("x-body", "json"))
    with unchanged(env.svc):
        r = env.client.request(endpoint.method, endpoint.url, headers=env.headers_for(endpoint),
                               json={"padding": "x" * limit})
        error(r, 413, "upload_too_large")


def test_json_routes_take_a_small_body_and_only_the_capture_a_large_one(env: Env) -> None:
    """A 63 MB JSON login once took 1.6 GB: the capture's limit applied to every route."""
    kinds = {str(e): (e.route.openapi_extra or {}).get("x-body", "json") for e in WRITES}
    assert kinds["POST /v1/auth/login"] == "json" and kinds["POST /v1/verifications/{verification_id}/capture"] == \
        "capture" and kinds["POST /v1/verifications"] == "open"
    assert [k for k, v in kinds.items() if v == "capture"] == ["POST /v1/verifications/{verification_id}/capture"]
    r = env.client.post("/v1/auth/login", json={"username": "agent1", "password": "x" * (MAX_JSON + 1)})
    error(r, 413, "upload_too_large")


@pytest.mark.parametrize("endpoint", [e for e in WRITES if (e.route.openapi_extra or {}).get("x-body", "json")
                                      != "json"], ids=str)
def test_a_large_body_needs_a_login_before_it_is_read(env: Env, endpoint: Endpoint) -> None:
    def body() -> Iterator[bytes]:
        yield b"x" * 1000
        raise AssertionError("the body was read before the login was checked")

    with unchanged(env.svc):
        r = env.client.request(endpoint.method, endpoint.url, content=body(),
                               headers={"Authorization": "Bearer forged", "content-type": "application/json"})
        error(r, 401)


def test_oversized_body_without_a_length(env: Env) -> None:
    """A chunked body has no Content-Length to refuse up front: it is counted while read."""
    body = b'{"cap_per_person": 2, "padding": "' + b"x" * MAX_JSON + b'"}'
    headers = env.auth["operator_admin"] | {"content-type": "application/json"}
    with unchanged(env.svc):
        r = env.client.put("/v1/admin/cap", headers=headers, content=iter([body[:1000], body[1000:]]))
        assert "content-length" not in r.request.headers
        error(r, 413, "upload_too_large")


# --- documents, consent, portrait ------------------------------------------------------------------------------------

def _bad_checksum(card: dict[str, Any]) -> None:
    card["number"] = card["number"][:-1] + ("0" if card["number"][-1] != "0" else "1")


def _expired(card: dict[str, Any]) -> None:
    card.update(prc_card(birth=date(1970, 3, 7)))  # issued at 29 in 1999, for 20 years: expired in 2019


def _unknown_type(card: dict[str, Any]) -> None:
    card["doc_type"] = "library_card"


def _no_name(card: dict[str, Any]) -> None:
    del card["name"]


def _wrong_sex(card: dict[str, Any]) -> None:
    card["sex"] = "F" if card["sex"] == "M" else "M"


def _unknown_card_field(card: dict[str, Any]) -> None:
    card["favourite_colour"] = "blue"


@pytest.mark.parametrize(("spoil", "field", "rule"), [
    (_bad_checksum, "number", "checksum"),
    (_expired, "expiry_date", "expired"),
    (_unknown_type, "doc_type", "unknown_type"),
    (_no_name, "name", "required"),
    (_wrong_sex, "sex", None),
    (_unknown_card_field, "favourite_colour", "format"),
], ids=lambda x: getattr(x, "__name__", str(x)))
def test_invalid_document(env: Env, spoil: Any, field: str, rule: str | None) -> None:
    card = prc_card()
    spoil(card)
    with unchanged(env.svc):
        body = error(env.client.post("/v1/verifications", headers=env.auth["agent"], json=opening(card)),
                     422, "invalid_document")
    assert body["field"] == field and (rule is None or body["rule"] == rule), body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message_zh"]), body  # worded in Chinese for the counter


@pytest.mark.parametrize("number", ["11010519900307\u200b123X", "110105199003071\u0301", "１１０１０５—１９９００３"])
def test_a_number_with_characters_outside_0_9_a_z_is_an_invalid_document(env: Env, number: str) -> None:
    card = {**prc_card(), "number": number}
    with unchanged(env.svc):
        body = error(env.client.post("/v1/verifications", headers=env.auth["agent"], json=opening(card)),
                     422, "invalid_document")
    assert body["field"] == "number" and body["rule"] == "format"


def test_superscript_digits_are_digits_not_a_server_error(env: Env) -> None:
    """'¹' passed str.isdigit() and then broke int(): a 500 that logged the first 14 characters of the number."""
    card = prc_card()
    card["number"] = card["number"][:16] + "\u00b9\u00b2"[int(card["number"][16]) % 2 == 0] + card["number"][17]
    r = env.client.post("/v1/verifications", headers=env.auth["agent"], json=opening(card))
    assert r.status_code < 500, r.text


def test_invalid_representative_document(env: Env) -> None:
    rep = prc_card()
    _bad_checksum(rep)
    with unchanged(env.svc):
        r = env.client.post("/v1/verifications", headers=env.auth["agent"], json=opening(prc_card(),
                                                                                         representative=rep))
        assert error(r, 422, "invalid_document")["field"] == "number"


def test_empty_representative_is_refused(env: Env) -> None:
    with unchanged(env.svc):
        r = env.client.post("/v1/verifications", headers=env.auth["agent"], json=opening(prc_card(),
                                                                                         representative={}))
        assert error(r, 422, "invalid_document")["field"] == "doc_type"


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"consent_face_processing": False}, 422, "consent_required"),
    ({"consent_face_processing": "true"}, 422, "bad_request"),
    ({"portrait": "not base64!"}, 422, "bad_base64"),
    ({"portrait": base64.b64encode(b"plain text, not a picture").decode()}, 422, "not_an_image"),
    ({"portrait": "A" * (MAX_UPLOAD * 4 // 3 + 8)}, 413, "upload_too_large"),
    ({"portrait": base64.b64encode(_png_bomb(1200, 1000)).decode()}, 413, "too_many_pixels"),  # a portrait: 1 MP
    ({"purpose": "steal"}, 422, "bad_request"),
], ids=["no-consent", "consent-as-text", "bad-base64", "not-an-image", "portrait-too-large", "portrait-over-1-mp",
    "bad-purpose"])
def test_bad_opening(env: Env, change: dict[str, Any], status: int, code: str) -> None:
    with unchanged(env.svc):
        error(env.client.post("/v1/verifications", headers=env.auth["agent"], json=opening(prc_card()) | change),
              status, code)


# --- challenges ------------------------------------------------------------------------------------------------------

def _start(env: Env, vid: str, token: str) -> httpx.Response:
    r: httpx.Response = env.client.post(f"/v1/verifications/{vid}/start", headers=env.auth["agent"],
                                        json={"challenge": token})
    return r


def _status(env: Env, vid: str) -> str:
    with env.svc.db.read() as s:
        v = s.get(Verification, vid)
        assert v is not None
        return v.status


def test_expired_challenge(env: Env) -> None:
    opened = env.open()
    env.clock.advance(seconds=env.svc.settings.challenge_seconds + 1)
    with unchanged(env.svc):
        error(_start(env, opened["id"], opened["challenge"]["token"]), 403, "challenge_expired")
    assert _status(env, opened["id"]) == "open"


def test_reused_challenge(env: Env) -> None:
    opened = env.open()
    assert _start(env, opened["id"], opened["challenge"]["token"]).status_code == 200
    with unchanged(env.svc):
        error(_start(env, opened["id"], opened["challenge"]["token"]), 403, "challenge_reused")


def test_altered_challenge(env: Env) -> None:
    opened, other = env.open(), env.open()
    token = opened["challenge"]["token"]
    body, sig = token.split(".")
    payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    easier = payload.replace(b'"blink"', b'"look_up"') if b'"blink"' in payload else payload + b" "
    forged = base64.urlsafe_b64encode(easier).rstrip(b"=").decode() + "." + sig
    cases = [(forged, "challenge_altered"), (body + "." + sig[::-1], "challenge_altered"),
             (other["challenge"]["token"], "challenge_altered"), ("garbage", "challenge_invalid")]
    for bad, code in cases:
        with unchanged(env.svc):
            error(_start(env, opened["id"], bad), 403, code)
    assert _status(env, opened["id"]) == "open"
    assert _start(env, opened["id"], token).status_code == 200  # the genuine one still works


def test_start_unknown_verification(env: Env) -> None:
    token = env.svc.signer.issue(now=env.svc.now().timestamp())
    with unchanged(env.svc):
        error(_start(env, "no-such-verification", token), 404, "not_found")


# --- captures --------------------------------------------------------------------------------------------------------

def _truncated_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(buf, "PNG")
    return buf.getvalue()[:60]


def _big_frame() -> bytes:
    ok, buf = cv2.imencode(".png", np.random.default_rng(5).integers(0, 255, (160, 160, 3), dtype=np.uint8))
    assert ok and len(buf) > MAX_UPLOAD
    return buf.tobytes()


def _y4m(width: int, height: int, frames: int, body: bool = True) -> bytes:
    """A raw YUV4MPEG2 clip, written by hand: 4:2:0, grey."""
    header = f"YUV4MPEG2 W{width} H{height} F15:1 Ip A1:1 C420jpeg\n".encode()
    frame = b"FRAME\n" + bytes([128]) * (width * height * 3 // 2)
    return header + (frame * frames if body else b"FRAME\n" + bytes(1000))


HLS = b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
HLS_MISSING = HLS.replace(b"/etc/passwd", b"/no/such/file")
CAPTURE_PIXELS = 300_000  # the test service's limit on one capture's frames together

BAD_CAPTURES: list[tuple[str, dict[str, Any], int, str]] = [
    ("nothing", {}, 422, "missing_capture"),
    ("timestamps-only", {"data": {"timestamps": "0,0.1"}}, 422, "missing_capture"),
    ("no-timestamps", {"files": frames(3)}, 422, "bad_timestamps"),
    ("fewer-timestamps", {"files": frames(3), "data": {"timestamps": "0,0.1"}}, 422, "bad_timestamps"),
    ("more-timestamps", {"files": frames(2), "data": {"timestamps": "0,0.1,0.2"}}, 422, "bad_timestamps"),
    ("text-timestamps", {"files": frames(2), "data": {"timestamps": "0,soon"}}, 422, "bad_timestamps"),
    ("nan-timestamps", {"files": frames(2), "data": {"timestamps": "0,nan"}}, 422, "bad_timestamps"),
    ("not-an-image", {"files": [("frames", ("f.png", b"hello", "image/png"))], "data": {"timestamps": "0"}},
     422, "not_an_image"),
    ("truncated-png", {"files": [("frames", ("f.png", _truncated_png(), "image/png"))], "data": {"timestamps": "0"}},
     422, ""),
    ("frame-too-large", {"files": [("frames", ("f.png", _big_frame(), "image/png"))], "data": {"timestamps": "0"}},
     413, "upload_too_large"),
    ("unreadable-video", {"files": {"video": ("v.mp4", b"\x00\x00\x00\x18ftypmp42" + b"junk" * 100, "video/mp4")}},
     422, "unreadable_video"),
    ("empty-video", {"files": {"video": ("v.mp4", b"", "video/mp4")}}, 422, "empty_video"),
    ("video-as-text", {"data": {"video": "not a file"}}, 422, "bad_request"),
    # Sizes from the headers, before anything is decoded:
    ("png-bomb", {"files": [("frames", (f"f{i}.png", _png_bomb(), "image/png")) for i in range(10)],
                  "data": {"timestamps": ",".join(str(i / 10) for i in range(10))}}, 413, "too_many_pixels"),
    ("capture-pixels", {"files": [("frames", (f"f{i}.png", _png_bomb(400, 300), "image/png")) for i in range(3)],
                        "data": {"timestamps": "0,0.1,0.2"}}, 413, "too_many_pixels"),
    ("8k-video", {"files": {"video": ("v.y4m", _y4m(7680, 4320, 1, body=False), "video/x-yuv4mpeg")}},
     422, "too_many_pixels"),
    ("too-many-video-frames", {"files": {"video": ("v.y4m", _y4m(16, 16, 60), "video/x-yuv4mpeg")}},
     422, "too_many_frames"),
    # Only the containers a kiosk records: a playlist would make FFmpeg read the server's files.
    ("hls-playlist", {"files": {"video": ("v.m3u8", HLS, "application/vnd.apple.mpegurl")}}, 422,
     "unsupported_video"),
    ("hls-playlist-as-mp4", {"files": {"video": ("v.mp4", HLS_MISSING, "video/mp4")}}, 422, "unsupported_video"),
    ("concat-script", {"files": {"video": ("v.txt", b"ffconcat version 1.0\nfile '/etc/passwd'\n", "text/plain")}},
     422, "unsupported_video"),
]


@pytest.mark.parametrize(("kwargs", "status", "code"), [c[1:] for c in BAD_CAPTURES],
                         ids=[c[0] for c in BAD_CAPTURES])
def test_bad_capture_changes_nothing(env: Env, kwargs: dict[str, Any], status: int, code: str) -> None:
    vid = env.capturing()
    with unchanged(env.svc):
        body = error(env.capture(vid, **kwargs), status, code or None)
    assert "/tmp" not in body["message"] and "realname-" not in body["message"]  # no server paths
    assert _status(env, vid) == "capturing"
    good = env.capture(vid, files=frames(4), data={"timestamps": "0,0.1,0.2,0.3"})  # the session is still usable
    assert good.status_code == 200 and good.json()["decision"] == "pass", good.text


def test_capture_over_the_request_limit_without_a_length(env: Env) -> None:
    """Frames each under the image limit but over the request limit together, sent chunked."""
    vid = env.capturing()
    big = [("frames", (f"f{i}.png", _big_frame()[:MAX_UPLOAD], "image/png")) for i in range(5)]
    request = env.client.build_request("POST", f"/v1/verifications/{vid}/capture", files=big,
                                       data={"timestamps": "0,0.1,0.2,0.3,0.4"})
    content = request.read()
    assert len(content) > MAX_CAPTURE
    headers = env.auth["agent"] | {"content-type": request.headers["content-type"]}
    with unchanged(env.svc):
        r = env.client.post(f"/v1/verifications/{vid}/capture", headers=headers, content=iter([content]))
        error(r, 413, "upload_too_large")
    assert _status(env, vid) == "capturing"


def test_a_playlist_cannot_probe_the_servers_files(env: Env) -> None:
    """An existing and a missing file named in a playlist once gave different errors."""
    vid = env.capturing()
    there, missing = (env.capture(vid, files={"video": ("v.mp4", data, "video/mp4")}) for data in (HLS, HLS_MISSING))
    assert there.json() == missing.json() and there.status_code == missing.status_code == 422


def test_capture_before_start_and_of_unknown_verification(env: Env) -> None:
    opened = env.open()
    with unchanged(env.svc):
        error(env.capture(opened["id"], files=frames(2), data={"timestamps": "0,0.1"}), 409, "capture_not_started")
        error(env.capture("no-such-verification", files=frames(2), data={"timestamps": "0,0.1"}), 404, "not_found")
    assert _status(env, opened["id"]) == "open"


# --- registrations and numbers ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("msisdn", "status", "code"), [
    ("not a number", 422, "invalid_document"),
    ("+8613800000000", 409, "number_unavailable"),  # a real number, not in this operator's stock
], ids=["garbage", "not-in-stock"])
def test_bad_number_keeps_the_pass(env: Env, msisdn: str, status: int, code: str) -> None:
    vid = env.passed()
    with unchanged(env.svc):
        error(env.client.post("/v1/registrations", headers=env.auth["agent"],
                              json={"verification_id": vid, "msisdn": msisdn}), status, code)
    assert _status(env, vid) == "decided"  # the refused request did not use up the pass


def test_register_unknown_verification(env: Env) -> None:
    with unchanged(env.svc):
        error(env.client.post("/v1/registrations", headers=env.auth["agent"], json={"verification_id": "nope"}),
              404, "not_found")


@pytest.mark.parametrize(("kwargs", "code"), [
    ({}, "missing_file"),
    ({"files": {"file": ("n.csv", b"number\n+8619800000001\n", "text/csv")}}, "bad_csv"),
    ({"files": {"file": ("n.csv", b"msisdn\n+8619900000001\n12\n", "text/csv")}}, "bad_csv"),
    ({"files": {"file": ("n.csv", "msisdn\n+8619900000001\n".encode("utf-16"), "text/csv")}}, "bad_csv"),
], ids=["no-file", "no-msisdn-column", "bad-row", "not-utf8"])
def test_bad_number_file(env: Env, kwargs: dict[str, Any], code: str) -> None:
    with unchanged(env.svc):
        error(env.client.post("/v1/admin/numbers", headers=env.auth["operator_admin"], **kwargs), 422, code)


# --- routing and login -----------------------------------------------------------------------------------------------

def test_unknown_route_and_wrong_method(env: Env) -> None:
    with unchanged(env.svc):
        for auth in ({}, env.auth["agent"]):
            error(env.client.get("/v1/no-such-thing", headers=auth), 404, "not_found")
            error(env.client.post("/nowhere", headers=auth, json={}), 404, "not_found")
        r = env.client.delete("/v1/me", headers=env.auth["agent"])
        error(r, 405, "method_not_allowed")
        assert r.headers["allow"] == "GET"
        r = env.client.get("/v1/verifications", headers=env.auth["agent"])
        error(r, 405, "method_not_allowed")
        assert "POST" in r.headers["allow"]


def test_failed_login_is_the_one_refusal_on_record(env: Env) -> None:
    before = snapshot(env.svc)
    r = env.client.post("/v1/auth/login", json={"username": "agent1", "password": "wrong password"})
    error(r, 401, "bad_credentials")
    assert r.headers["www-authenticate"] == "Bearer"
    after = snapshot(env.svc)
    assert after == before | {"audit_events": before["audit_events"] + 1}
    with env.svc.db.read() as s:
        last = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
        assert last.action == "login_failed" and "wrong password" not in str(last.payload)


def test_any_logged_in_routes_refuse_a_bad_token(env: Env) -> None:
    for method, path in sorted(ANY_LOGGED_IN):
        with unchanged(env.svc):
            error(env.client.request(method, path, headers={"Authorization": "Bearer forged"}), 401)


def test_snapshot_sees_changes(env: Env) -> None:
    """The helper itself: a successful request does change the counts."""
    before = snapshot(env.svc)
    env.passed()
    after = snapshot(env.svc)
    assert after["verifications"] == before["verifications"] + 1
    assert after["audit_events"] > before["audit_events"]
