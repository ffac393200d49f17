"""A counter's client over a real server (`realname serve`, tests/servers.py): log in, verify a customer (open,
start, capture), register a number. The server decides live checks with REALNAME_FIXED_LIVE_CHECK (test mode):
these tests are about what the service logs and counts, not about faces."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tests.api.test_registry_api import frame_files, timestamps
from tests.registry_support import portrait_bytes, prc_card, seeded
from tests.servers import serve

from realname.operators.demo import DEMO_PASSWORD
from realname.registry.migrate import upgrade

Headers = dict[str, str]
SERVER_ENV = {"REALNAME_FIXED_LIVE_CHECK": "pass", "REALNAME_LIGHT_CHECK": "0", "REALNAME_ENGINE": "fake"}


@dataclass
class Counter:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path
    sent: list[Any] = field(default_factory=list)  # every card sent: the personal data that must not be logged

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.post(self.url + path, timeout=60, **kw)

    def login(self, username: str) -> Headers:
        r = self.post("/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def card(self, **kw: Any) -> dict[str, Any]:
        card = prc_card(**kw)
        self.sent.append(card)
        return card

    def verify(self, auth: Headers, card: dict[str, Any]) -> dict[str, Any]:
        r = self.post("/v1/verifications", headers=auth, json={
            "card": card, "portrait": base64.b64encode(portrait_bytes()).decode(), "consent_face_processing": True})
        assert r.status_code == 201, r.text
        opened = r.json()
        r = self.post(f"/v1/verifications/{opened['id']}/start", headers=auth,
                      json={"challenge": opened["challenge"]["token"]})
        assert r.status_code == 200, r.text
        r = self.post(f"/v1/verifications/{opened['id']}/capture", headers=auth, files=frame_files(),
                      data={"timestamps": timestamps()})
        assert r.status_code == 200, r.text
        return dict(r.json())

    def register(self, auth: Headers, card: dict[str, Any]) -> httpx.Response:
        return self.post("/v1/registrations", headers=auth, json={"verification_id": self.verify(auth, card)["id"]})

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)


@contextmanager
def counter(tmp: Path, name: str = "server", **env: str) -> Iterator[Counter]:
    """A seeded SQLite registry served by `realname serve` with the fixed live check."""
    url = f"sqlite:///{tmp / 'registry.db'}"
    if not (tmp / "registry.db").exists():
        upgrade(url)
        seeded(url)
    log = tmp / f"{name}.log"
    base, proc = serve(url, tmp, log, **{**SERVER_ENV, **env})
    c = Counter(base, proc, log)
    try:
        yield c
    finally:
        c.stop()
