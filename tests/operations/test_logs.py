"""What a real server (`realname serve`) writes, on stdout and stderr, over a whole registration and over the
bad-input tests' error paths (tests/api/test_bad_input.py, with its limits): every line is one JSON object, every
response carries the X-Request-ID of its log line, the line names the route template, the caller's role and ids,
the outcome and the duration, and no line holds any of the personal data that was sent: document numbers (or a
part of one), names, addresses, birth dates, phone numbers, the portrait."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.api.test_bad_input import (
    BAD_CAPTURES,
    JSON_WRITES,
    MAX_CAPTURE,
    MAX_JSON,
    MAX_UPLOAD,
    _bad_checksum,
    _expired,
    _no_name,
    _unknown_card_field,
    _unknown_type,
    _wrong_sex,
    frames,
)
from tests.operations.flow import Counter, counter
from tests.registry_support import portrait_bytes

from realname.operators.auth import PERMISSIONS, ROLES
from realname.operators.demo import DEMO_USERS

LIMITS = {"REALNAME_MAX_UPLOAD_BYTES": str(MAX_UPLOAD), "REALNAME_MAX_CAPTURE_BYTES": str(MAX_CAPTURE),
          "REALNAME_MAX_PORTRAIT_BYTES": str(MAX_UPLOAD), "REALNAME_MAX_JSON_BYTES": str(MAX_JSON),
          "REALNAME_MAX_CAPTURE_PIXELS": "300000", "REALNAME_MAX_FRAMES": "50"}
USER_OF_ROLE = {role: username for username, role in DEMO_USERS}
NAMES = iter(f"{a}{b}" for a in "王李赵钱孙周吴郑" for b in "明华强军芳敏静丽"[::-1])


def personal_values(card: dict[str, Any]) -> set[str]:
    """What must never be logged of one card, in the spellings a log could use."""
    values = set()
    for key in ("name", "address"):
        if isinstance(card.get(key), str) and card[key]:
            values |= {card[key], json.dumps(card[key])[1:-1]}  # as is, and \\u-escaped
    number = str(card.get("number", ""))
    if len(number) >= 14:
        values |= {number, number[:14], number[6:14], number[-8:]}  # a 500 once logged the first 14 characters
    if card.get("birth_date"):
        values.add(str(card["birth_date"]))
    return {v for v in values if len(v) >= 2}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Counter]:
    with counter(tmp_path_factory.mktemp("logs"), **LIMITS) as c:
        yield c


@pytest.fixture(scope="module")
def auth(server: Counter) -> dict[str, dict[str, str]]:
    return {role: server.login(USER_OF_ROLE[role]) for role in ROLES}


def lines(server: Counter) -> list[dict[str, Any]]:
    text = server.log.read_text(encoding="utf-8")
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"a line of the server's output is not JSON: {line[:300]!r}") from None
    return out


def request_line(server: Counter, response: httpx.Response) -> dict[str, Any]:
    """The request's log line; written just after the response is sent, so it may take a moment to appear."""
    rid = response.headers["x-request-id"]
    deadline = time.monotonic() + 10
    while True:
        found = [x for x in lines(server) if x.get("event") == "request" and x.get("request_id") == rid]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(found) == 1, f"{len(found)} log lines for request {rid}"
    return found[0]


def test_a_whole_registration_is_logged_with_ids_and_no_personal_data(server: Counter,
                                                                      auth: dict[str, dict[str, str]]) -> None:
    agent = auth["agent"]
    card = server.card(name=next(NAMES))
    r = server.register(agent, card)
    assert r.status_code == 201, r.text
    reg = r.json()
    phone = reg["msisdn"]
    got = httpx.get(f"{server.url}/v1/registrations/{reg['id']}", headers=auth["inspector"], timeout=30)
    assert got.status_code == 200, got.text
    cancelled = server.post(f"/v1/registrations/{reg['id']}/cancel", headers=agent, json={"reason": "moving away"})
    assert cancelled.status_code == 200, cancelled.text

    line = request_line(server, r)
    assert line["route"] == "/v1/registrations" and line["method"] == "POST" and line["status"] == 201
    assert line["outcome"] == "ok" and line["role"] == "agent" and line["duration_ms"] > 0
    assert {"user_id", "operator_id", "outlet_id"} <= line.keys()
    line = request_line(server, got)
    assert line["route"] == "/v1/registrations/{registration_id}" and line["role"] == "inspector"
    assert reg["id"] not in json.dumps(line)  # the template, not the path

    text = server.log.read_text(encoding="utf-8")
    for value in personal_values(card) | {phone, phone.removeprefix("+86")}:
        assert value not in text, f"the server logged personal data: {value!r}"


def test_request_ids_are_kept_when_random_uuids_and_replaced_otherwise(server: Counter) -> None:
    gateway = "3f2b8c1e-9d4a-4f6b-8e2c-7a1d5b9c0e34"  # a load balancer's random UUID
    kept = httpx.get(server.url + "/healthz", headers={"X-Request-ID": gateway.upper()}, timeout=30)
    assert kept.headers["x-request-id"] == gateway
    assert request_line(server, kept)["route"] == "/healthz"
    # Free-form ids could carry personal data into every line of the request: an ID number, a name.
    for sent in ("110101199003077777", "lb-7f3a.1", "name=Zhang San; id 1234"):
        replaced = httpx.get(server.url + "/healthz", headers={"X-Request-ID": sent}, timeout=30)
        assert replaced.headers["x-request-id"] != sent and len(replaced.headers["x-request-id"]) == 32
    assert "110101199003077777" not in server.log.read_text(encoding="utf-8")


def _spoiled(server: Counter, spoil: Any) -> dict[str, Any]:
    card = server.card(name=next(NAMES))
    spoil(card)
    return card


def _opening(card: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"card": card, "portrait": base64.b64encode(portrait_bytes()).decode(), "consent_face_processing": True,
            **kw}


def _headers(endpoint: Any, auth: dict[str, dict[str, str]]) -> dict[str, str]:
    op = endpoint.operation
    if op is None:
        return auth["agent"] if endpoint.path != "/v1/auth/login" else {}
    return auth[next(r for r in ROLES if r in PERMISSIONS[op])]


def _capturing(server: Counter, agent: dict[str, str]) -> str:
    card = server.card(name=next(NAMES))
    r = server.post("/v1/verifications", headers=agent, json=_opening(card))
    assert r.status_code == 201, r.text
    opened = r.json()
    r = server.post(f"/v1/verifications/{opened['id']}/start", headers=agent,
                    json={"challenge": opened["challenge"]["token"]})
    assert r.status_code == 200, r.text
    return str(opened["id"])


def test_every_error_path_of_the_bad_input_tests_logs_no_personal_data(server: Counter,
                                                                       auth: dict[str, dict[str, str]]) -> None:
    agent, sent = auth["agent"], []
    card = server.card(name=next(NAMES))
    number, name = card["number"], card["name"]

    # Every JSON route: malformed JSON, a body that is not an object, personal data in unknown and mistyped fields.
    for e in JSON_WRITES:
        url, h = server.url + e.path.replace("{", "").replace("}", ""), _headers(e, auth)
        for content in (f'{{"number": "{number}", "name": "{name}"', f'["{number}", "{name}"]'):
            sent.append(httpx.request(e.method, url, headers=h | {"content-type": "application/json"},
                                      content=content.encode(), timeout=30))
        sent.append(httpx.request(e.method, url, headers=h, json={"card": number, "reason": 12, "name": name,
                                                                   "msisdn": [number], "username": {"x": name}},
                                  timeout=30))
        sent.append(httpx.request(e.method, url, headers=h, json={"padding": number * (MAX_JSON // 10)}, timeout=30))

    # Invalid documents, odd characters in a number, superscript digits (the 500 that logged 14 characters).
    for spoil in (_bad_checksum, _expired, _unknown_type, _no_name, _wrong_sex, _unknown_card_field):
        sent.append(server.post("/v1/verifications", headers=agent, json=_opening(_spoiled(server, spoil))))
    for odd in ("\u200b", "\u0301", "\u00b9"):
        bad = _spoiled(server, lambda c, odd=odd: c.update(number=c["number"][:14] + odd + c["number"][15:]))
        sent.append(server.post("/v1/verifications", headers=agent, json=_opening(bad)))
    represented = _opening(server.card(name=next(NAMES)), representative=_spoiled(server, _bad_checksum))
    sent.append(server.post("/v1/verifications", headers=agent, json=represented))
    for change in ({"consent_face_processing": False}, {"portrait": "not base64!"}, {"purpose": "steal"},
                   {"portrait": base64.b64encode(b"plain text, not a picture").decode()}):
        sent.append(server.post("/v1/verifications", headers=agent, json=_opening(server.card(name=next(NAMES)),
                                                                                  **change)))
    # Challenges: altered and unknown.
    vid = _capturing(server, agent)
    sent.append(server.post(f"/v1/verifications/{vid}/start", headers=agent, json={"challenge": number}))
    sent.append(server.post(f"/v1/verifications/{number}/start", headers=agent, json={"challenge": "x"}))
    # Every bad capture of the bad-input tests.
    for _, kwargs, _, _ in BAD_CAPTURES:
        sent.append(server.post(f"/v1/verifications/{_capturing(server, agent)}/capture", headers=agent, **kwargs))
    sent.append(server.post(f"/v1/verifications/{number}/capture", headers=agent, files=frames(2),
                            data={"timestamps": "0,0.1"}))
    # Numbers: garbage, not in stock, a number file with a bad row; an unknown verification.
    passed = server.verify(agent, server.card(name=next(NAMES)))["id"]
    for msisdn in (f"{number} {name}", "+8613800000000"):
        sent.append(server.post("/v1/registrations", headers=agent, json={"verification_id": passed, "msisdn": msisdn}))
    sent.append(server.post("/v1/registrations", headers=agent, json={"verification_id": number}))
    sent.append(server.post("/v1/admin/numbers", headers=auth["operator_admin"],
                            files={"file": ("n.csv", f"msisdn\n+8619900000001\n{number}\n".encode(), "text/csv")}))
    # Unknown routes and personal data in paths and query strings.
    sent.append(httpx.get(f"{server.url}/v1/people/{number}?name={name}&number={number}", headers=agent, timeout=30))
    sent.append(httpx.get(f"{server.url}/v1/registrations/{number}?number={number}", headers=agent, timeout=30))
    sent.append(httpx.put(f"{server.url}/healthz?number={number}", timeout=30))

    assert all(r.status_code < 500 for r in sent), [(r.request.url.path, r.status_code) for r in sent
                                                     if r.status_code >= 500]
    assert len({r.status_code for r in sent}) >= 6  # 401/403/404/405/409/413/422: the error paths, not one of them
    text = server.log.read_text(encoding="utf-8")
    for c in server.sent:
        for value in personal_values(c):
            assert value not in text, f"the server logged personal data: {value!r}"
    assert "+8613800000000" not in text and "8619900000001" not in text
    for r in sent:
        line = request_line(server, r)
        code = r.json()["error"]["code"] if r.status_code >= 400 else "ok"  # superscript digits are digits: 201
        assert line["status"] == r.status_code and line["outcome"] == code, (line, r.text)
        assert "?" not in line["route"]
