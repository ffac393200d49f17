"""No request waits on another's blocking work: the database, decoding and the face checks run in the thread pool,
never on the event loop that every request of a worker shares.

- A real server (uvicorn over TCP, in this process so the test can hold the slow work where it happens): while a
  capture's live check, or a face comparison's engine, is held, ``GET /healthz`` answers at once; the held
  request finishes only after that, when the test lets it go. Holding (rather than sleeping) makes the order
  certain on a loaded machine: had the handler blocked the loop, healthz would not answer at all.
- Through the app, the kiosk's whole flow and the office's reads: no database transaction is opened, no upload
  decoded and no face or live check run on the event loop's thread (a handler that did would stall every other
  request for as long).

The slow and watching parts are the ordinary fakes (``FixedLiveCheck``, ``FakeEngine``, ``Database``,
``FaceService``) subclassed and handed to ``Services``: nothing inside the app is patched.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
import traceback
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.registry_support import KEYRING, Clock, portrait_bytes, prc_card
from tests.servers import free_port
from tests.support import jpeg_bytes

from realname.api.app import create_app
from realname.config import Settings
from realname.context import Services
from realname.engine.base import DetectedFace
from realname.engine.fake import FakeEngine
from realname.faces import FaceService
from realname.images import BGRImage
from realname.live_check import CheckOutcome, FixedLiveCheck
from realname.liveness.challenges import Action
from realname.liveness.light import Shown
from realname.operators.demo import DEMO_PASSWORD, seed_demo
from realname.registry.db import Database
from realname.registry.migrate import upgrade

HOLD_S = 60  # how long held work waits for the test at most (a safety net: the test releases it)
HEALTHZ_S = 5  # healthz answers within this while another request is held (typically a few milliseconds)


# --- fakes that hold or watch the blocking work ---------------------------------------------------------------------

def on_event_loop(loop: asyncio.AbstractEventLoop | None) -> bool:
    """Whether this thread is running the app's event loop ``loop`` (not just any: a session's Playwright keeps
    its own loop running in the main thread)."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        return False
    return running is loop


class Gate:
    """Blocking work that waits until the test releases it, and says when it has started."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.released = threading.Event()

    def hold(self) -> None:
        self.entered.set()
        if not self.released.wait(HOLD_S):
            raise AssertionError(f"held work not released within {HOLD_S} s")


class Watch:
    """Records blocking work done on a thread that runs an event loop, with where it was called from."""

    def __init__(self) -> None:
        self.on_loop: list[str] = []
        self.seen: set[str] = set()
        self.loop: asyncio.AbstractEventLoop | None = None  # the app's, once known

    def note(self, what: str) -> None:
        self.seen.add(what)
        if on_event_loop(self.loop):
            self.on_loop.append(f"{what} on the event loop:\n" + "".join(traceback.format_stack(limit=12)))


class WatchedDatabase(Database):
    def __init__(self, url: str, watch: Watch) -> None:
        super().__init__(url)
        self.watch = watch

    @contextmanager
    def read(self) -> Iterator[Session]:
        self.watch.note("database read")
        with super().read() as s:
            yield s

    @contextmanager
    def write(self) -> Iterator[Session]:
        self.watch.note("database write")
        with super().write() as s:
            yield s


class SlowEngine(FakeEngine):
    """The fake engine; face detection waits at the gate (when there is one) and is watched."""

    def __init__(self, watch: Watch, gate: Gate | None = None) -> None:
        super().__init__()
        self.watch, self.gate = watch, gate

    def detect(self, image: BGRImage) -> list[DetectedFace]:
        self.watch.note("face detection")
        if self.gate is not None:
            self.gate.hold()
        return super().detect(image)


class WatchedFaces(FaceService):
    def __init__(self, settings: Settings, engine: SlowEngine, watch: Watch) -> None:
        super().__init__(settings, engine)
        self.watch = watch

    def decode(self, data: bytes, name: str) -> BGRImage:
        self.watch.note("image decoding")
        return super().decode(data, name)


class SlowLiveCheck(FixedLiveCheck):
    """A passing live check that waits at the gate (when there is one) and is watched."""

    def __init__(self, watch: Watch, gate: Gate | None = None) -> None:
        super().__init__("pass")
        self.watch, self.gate = watch, gate

    def check(self, challenge: Sequence[Action], frames: Iterable[tuple[BGRImage, float]],
              portrait: BGRImage, keep_template: bool = False, light: Shown | None = None) -> CheckOutcome:
        self.watch.note("live check")
        if self.gate is not None:
            self.gate.hold()
        return super().check(challenge, frames, portrait, keep_template, light)


def services(tmp: Path, watch: Watch, check_gate: Gate | None = None, engine_gate: Gate | None = None) -> Services:
    url = f"sqlite:///{tmp / 'registry.db'}"
    upgrade(url)
    settings = Settings(database_url=url, test_mode=True, engine="fake", timezone="UTC", light_check=False)
    faces = WatchedFaces(settings, SlowEngine(watch, engine_gate), watch)
    svc = Services(settings, db=WatchedDatabase(url, watch), keyring=KEYRING, faces=faces,
                   live_check=SlowLiveCheck(watch, check_gate), clock=Clock())
    assert seed_demo(svc, numbers=20) is not None
    return svc


# --- requests ---------------------------------------------------------------------------------------------------------

def frames(n: int = 6) -> list[tuple[str, tuple[str, bytes, str]]]:
    rng = np.random.default_rng(n)
    out = []
    for i in range(n):
        ok, buf = cv2.imencode(".png", rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
        assert ok
        out.append(("frames", (f"f{i}.png", buf.tobytes(), "image/png")))
    return out


def timestamps(n: int = 6) -> str:
    return ",".join(f"{i / 15:.3f}" for i in range(n))


def face_picture() -> bytes:
    rng = np.random.default_rng(7)
    return jpeg_bytes(cv2.GaussianBlur(rng.integers(0, 255, (120, 100, 3), dtype=np.uint8), (5, 5), 0))


def login(client: httpx.Client | TestClient, username: str) -> dict[str, str]:
    r = client.post("/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def open_and_start(client: httpx.Client | TestClient, auth: dict[str, str]) -> str:
    """A verification opened and its capture started; returns its id."""
    body = {"card": prc_card(), "portrait": base64.b64encode(portrait_bytes()).decode(),
            "consent_face_processing": True}
    r = client.post("/v1/verifications", headers=auth, json=body)
    assert r.status_code == 201, r.text
    opened = r.json()
    r = client.post(f"/v1/verifications/{opened['id']}/start", headers=auth,
                    json={"challenge": opened["challenge"]["token"]})
    assert r.status_code == 200, r.text
    return str(opened["id"])


# --- a real server: healthz while another request is held ------------------------------------------------------------

@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app behind uvicorn on a free port, in a thread of this process; its URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(30)


def healthz_while_held(base: str, gate: Gate, slow: Any) -> tuple[httpx.Response, float]:
    """Send ``slow`` (a function of an httpx client) in another thread, wait until its blocking work is held at
    the gate, then time ``GET /healthz``; release the gate and return the slow request's response and the time
    healthz took."""
    with ThreadPoolExecutor(1) as pool, httpx.Client(base_url=base, timeout=HOLD_S) as client:
        try:
            pending = pool.submit(slow, client)
            assert gate.entered.wait(HOLD_S), "the slow request never reached its blocking work"
            start = time.perf_counter()
            health = httpx.get(base + "/healthz", timeout=HEALTHZ_S)
            took = time.perf_counter() - start
            assert health.status_code == 200 and health.json()["status"] == "ok", health.text
            assert not pending.done(), "the slow request finished while it was held"
        finally:
            gate.released.set()
        return pending.result(HOLD_S), took


def test_healthz_answers_during_a_slow_capture(tmp_path: Path) -> None:
    gate, watch = Gate(), Watch()
    svc = services(tmp_path, watch, check_gate=gate)
    with serving(create_app(svc.settings, services=svc)) as base:
        with httpx.Client(base_url=base, timeout=60) as client:
            agent = login(client, "agent1")
            vid = open_and_start(client, agent)

        def capture(client: httpx.Client) -> httpx.Response:
            return client.post(f"/v1/verifications/{vid}/capture", headers=agent, files=frames(),
                               data={"timestamps": timestamps()})

        r, took = healthz_while_held(base, gate, capture)
    assert r.status_code == 200 and r.json()["decision"] == "pass", r.text
    assert took < HEALTHZ_S, f"healthz took {took:.2f} s while a capture was held"


def test_healthz_answers_during_a_slow_face_comparison(tmp_path: Path) -> None:
    gate, watch = Gate(), Watch()
    svc = services(tmp_path, watch, engine_gate=gate)
    picture = face_picture()
    with serving(create_app(svc.settings, services=svc)) as base:
        with httpx.Client(base_url=base, timeout=60) as client:
            agent = login(client, "agent1")

        def compare(client: httpx.Client) -> httpx.Response:
            return client.post("/v1/faces/compare", headers=agent,
                               files={"document": ("d.jpg", picture), "live": ("l.jpg", picture)})

        r, took = healthz_while_held(base, gate, compare)
    assert r.status_code == 200 and r.json()["decision"] == "pass", r.text
    assert took < HEALTHZ_S, f"healthz took {took:.2f} s while a face comparison was held"


# --- through the app: no blocking work on the event loop's thread -----------------------------------------------------

@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[TestClient, Services, Watch]]:
    watch = Watch()
    svc = services(tmp_path, watch)
    with TestClient(create_app(svc.settings, services=svc)) as client:
        assert client.portal is not None
        watch.loop = client.portal.call(asyncio.get_running_loop)  # the loop the app's requests run on
        yield client, svc, watch


def test_no_blocking_work_on_the_event_loop(watched: tuple[TestClient, Services, Watch]) -> None:
    client, svc, watch = watched
    agent, admin = login(client, "agent1"), login(client, "admin1")
    inspector, auditor = login(client, "inspector1"), login(client, "auditor1")
    today = svc.now().date()
    period = {"start": (today - timedelta(days=6)).isoformat(), "end": today.isoformat()}
    picture = face_picture()

    assert client.get("/v1/me", headers=agent).status_code == 200
    vid = open_and_start(client, agent)
    r = client.post(f"/v1/verifications/{vid}/feedback", headers=agent, files={"frame": ("f.jpg", picture)})
    assert r.status_code == 200, r.text
    r = client.post(f"/v1/verifications/{vid}/capture", headers=agent, files=frames(),
                    data={"timestamps": timestamps()})
    assert r.status_code == 200 and r.json()["decision"] == "pass", r.text
    assert client.get(f"/v1/verifications/{vid}", headers=agent).status_code == 200
    r = client.post("/v1/registrations", headers=agent, json={"verification_id": vid})
    assert r.status_code == 201, r.text
    reg = r.json()["id"]
    for path in (f"/v1/registrations/{reg}", f"/v1/registrations/{reg}/receipt"):
        assert client.get(path, headers=agent).status_code == 200, path
    r = client.post(f"/v1/registrations/{reg}/cancel", headers=agent, json={"reason": "customer request"})
    assert r.status_code == 200, r.text
    r = client.post("/v1/faces/compare", headers=agent, files={"document": ("d.jpg", picture),
                                                               "live": ("l.jpg", picture)})
    assert r.status_code == 200, r.text
    assert client.post("/v1/faces/quality", headers=agent, files={"image": ("i.jpg", picture)}).status_code == 200

    for path in ("/v1/operator/settings", "/v1/admin/outlets", "/v1/admin/users"):
        assert client.get(path, headers=admin).status_code == 200, path
    r = client.post("/v1/admin/numbers", headers=admin, files={"file": ("n.csv", b"msisdn\n+8619900000001\n")})
    assert r.status_code == 200, r.text
    for path, params in (("/v1/inspect/summary", {}), ("/v1/inspect/registrations.csv", period),
                         ("/v1/reports", period), ("/v1/reports/sample", period), ("/v1/signals", period)):
        r = client.get(path, headers=inspector, params=params)
        assert r.status_code == 200, f"{path}: {r.text}"
    for path in ("/v1/audit/verify", "/v1/compliance"):
        assert client.get(path, headers=auditor).status_code == 200, path
    assert client.post("/v1/auth/logout", headers=agent).status_code == 204

    assert {"database read", "database write", "image decoding", "face detection", "live check"} <= watch.seen
    assert not watch.on_loop, "\n\n".join(watch.on_loop)
