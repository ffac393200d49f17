"""An exception no handler took: the caller gets a 500 with the request id, the log gets the exception's type and
where it was raised, never its message (which here holds an ID number, as a parser's message would)."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from fastapi.testclient import TestClient
from tests.registry_support import make_services, prc_card

from realname.api.app import create_app
from realname.operations.logs import JsonFormatter
from realname.registry.migrate import upgrade

TRACE = "0b9e6c2a-5f1d-4c3e-9a7b-2d8f4e6a1c50"  # a gateway's random UUID: kept as the request id


def test_an_unhandled_exception_is_a_500_logged_without_its_message(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    upgrade(url)
    number = prc_card()["number"]
    app = create_app(services=make_services(url, engine="fake"))

    @app.get("/boom/{value}")
    def boom(value: str) -> None:
        int(value)  # ValueError: invalid literal for int() with base 10: '<the number>X'

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("realname")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            r = client.get(f"/boom/{number}X", headers={"X-Request-ID": TRACE})
    finally:
        logger.removeHandler(handler)
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"
    assert r.headers["x-request-id"] == TRACE and TRACE in r.json()["error"]["message"]
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    failure = next(x for x in records if x["event"] == "unhandled_error")
    assert failure["exc_type"] == "builtins.ValueError" and failure["request_id"] == TRACE
    assert any("boom" in where for where in failure["exc_where"])
    request = next(x for x in records if x["event"] == "request")
    assert (request["route"], request["status"], request["outcome"]) == ("/boom/{value}", 500, "internal_error")
    assert number[:14] not in stream.getvalue()
