"""The service as it runs: real server processes (`realname serve`) on one database.

- 50 concurrent registrations for one person, spread over two server processes, issue exactly the cap.
- SIGKILL in the middle of registrations leaves no half-written registration, a log that verifies and no
  committed event outside the next tree head.
- A whole registration with a real recorded clip, each step served by a different worker (needs the data).
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from tests.registry_support import noise_frames, portrait_bytes, prc_card, seeded
from tests.servers import serve
from tests.support import need_data

from realname.audit.log import verify_chain
from realname.context import Services
from realname.operators.auth import authenticate, login
from realname.operators.demo import DEMO_PASSWORD
from realname.registration import verifications
from realname.registry.tables import AuditEvent, AuditLeaf, PhoneNumber, Registration, Verification
from realname.supervision.transparency import publish_head


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


def start_server(db_url: str, tmp: Path, name: str, **env: str) -> Server:
    log = tmp / f"{name}.log"
    url, proc = serve(db_url, tmp, log, **env)
    return Server(url, proc, log)


@pytest.fixture
def servers(db_url: str, tmp_path: Path) -> Iterator[tuple[Services, list[Server]]]:
    svc, _ = seeded(db_url)
    running = [start_server(db_url, tmp_path, f"w{i}") for i in range(2)]
    try:
        yield svc, running
    finally:
        for s in running:
            s.kill()


def token(base: str) -> str:
    r = httpx.post(base + "/v1/auth/login", json={"username": "agent1", "password": DEMO_PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def passed_verifications(svc: Services, card: dict[str, Any], n: int) -> list[str]:
    """Passed verifications made through the services (the live check is not what these tests are about)."""
    tok, _, _ = login(svc, "agent1", DEMO_PASSWORD)
    agent = authenticate(svc, tok)
    out = []
    for _ in range(n):
        opened = verifications.open_verification(svc, agent, card, portrait_bytes(), consent=True)
        verifications.start_capture(svc, agent, opened.verification.id, opened.challenge)
        v, _ = verifications.submit_capture(svc, agent, opened.verification.id, noise_frames())
        out.append(v.id)
    return out


def test_fifty_concurrent_registrations_issue_exactly_the_cap(servers: tuple[Services, list[Server]]) -> None:
    svc, running = servers
    card = prc_card()
    ids = passed_verifications(svc, card, 50)
    auth = [{"Authorization": f"Bearer {token(s.url)}"} for s in running]
    barrier = threading.Barrier(50)

    def register(i: int) -> httpx.Response:
        barrier.wait()  # all 50 leave together
        k = i % len(running)
        return httpx.post(running[k].url + "/v1/registrations", json={"verification_id": ids[i]},
                          headers=auth[k], timeout=120)

    with ThreadPoolExecutor(50) as pool:
        responses = list(pool.map(register, range(50)))
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 5, [r.text for r in responses if r.status_code not in (201, 409)]
    refused = [r.json()["error"] for r in responses if r.status_code == 409]
    assert len(refused) == 45 and {e["code"] for e in refused} == {"cap_exceeded"}
    assert {e["cap"] for e in refused} == {"per_operator"}
    with svc.db.read() as s:
        assert s.execute(select(func.count()).select_from(Registration)).scalar_one() == 5
        assert s.execute(select(func.count()).select_from(PhoneNumber)
                         .where(PhoneNumber.status == "active")).scalar_one() == 5
        assert verify_chain(s).ok


def test_sigkill_mid_registrations_leaves_consistent_records(servers: tuple[Services, list[Server]]) -> None:
    svc, running = servers
    victim = running[0]
    ids = [v for _ in range(30) for v in passed_verifications(svc, prc_card(), 1)]
    auth = {"Authorization": f"Bearer {token(victim.url)}"}
    results: list[int] = []

    def register(vid: str) -> None:
        try:
            r = httpx.post(victim.url + "/v1/registrations", json={"verification_id": vid}, headers=auth, timeout=30)
            results.append(r.status_code)
        except httpx.HTTPError:
            results.append(-1)  # the connection died with the server

    threads = [threading.Thread(target=register, args=(v,)) for v in ids]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # kill once some registrations have landed and others are in flight
        with svc.db.read() as s:
            if s.execute(select(func.count()).select_from(Registration)).scalar_one() >= 3:
                break
        time.sleep(0.01)
    victim.kill()
    for t in threads:
        t.join()
    assert results.count(-1) > 0, results  # requests were in flight when the server died
    with svc.db.read() as s:
        regs = s.execute(select(Registration)).scalars().all()
        active = s.execute(select(func.count()).select_from(PhoneNumber)
                           .where(PhoneNumber.status == "active")).scalar_one()
        used = s.execute(select(func.count()).select_from(Verification)
                         .where(Verification.status == "used")).scalar_one()
        assigned = s.execute(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "number_assigned")).scalar_one()
        # Every registration is whole: its number active, its verification used, its audit event written.
        assert 3 <= len(regs) < 30 and len(regs) == active == used == assigned
        assert verify_chain(s).ok
    # No committed event is lost to the log: after the next tree head every one of them is a leaf, and a hole
    # left by a request the kill cut short (PostgreSQL) is a recorded skip, not a gap.
    deadline = time.monotonic() + 20  # PostgreSQL ends the killed server's backends when it notices the sockets
    while True:
        head = publish_head(svc)
        with svc.db.read() as s:
            events = s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        if head.size == events or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    with svc.db.read() as s:
        assert head.size == events == s.execute(select(func.count()).select_from(AuditLeaf)).scalar_one()
        assert verify_chain(s).ok
    # The other worker carries on with the verifications the killed one never finished.
    survivor = running[1]
    left = [v for v in ids if v not in {r.verification_id for r in regs}]
    auth2 = {"Authorization": f"Bearer {token(survivor.url)}"}
    for vid in left[:3]:
        r = httpx.post(survivor.url + "/v1/registrations", json={"verification_id": vid}, headers=auth2, timeout=30)
        assert r.status_code == 201, r.text


@pytest.mark.models
def test_real_clip_registration_with_each_step_on_another_worker(db_url: str, tmp_path: Path,
                                                                  local_engine: Any) -> None:
    """The genuine clip as a kiosk would send it, under the kiosk's light: the server's random colours are added
    to the frames with the reflection simulator (a face near the screen takes 12% of its colour), frames and
    the times the colours appeared go up as the kiosk sends them."""
    import cv2
    import numpy as np

    from realname.evaluation.degrade import idchip
    from realname.evaluation.liveness.flash import START, Reflection, Scene, place
    from realname.liveness.light import Flash
    from realname.liveness.video import read_frames

    clip = need_data("liveness", "genuine", "person_a_turns_nods.mp4")
    frame = next(img for img, t in read_frames(clip) if t >= 0.5)
    ok, portrait = cv2.imencode(".jpg", idchip(frame, local_engine))
    assert ok
    svc, _ = seeded(db_url)
    # The whole 21-s recording goes up at once (a kiosk sends about 8 s): on a loaded CI machine that upload has
    # taken over the 30-s capture deadline, which is not what this test is about. Nor is the 20 s to start the
    # capture: rendering the clip under the challenge's light, between the challenge and the start, has taken 25 s.
    env = {"REALNAME_FIXED_CHALLENGE": "turn_left,turn_right,look_down,look_up,blink",
           "REALNAME_CAPTURE_SECONDS": "120", "REALNAME_CHALLENGE_SECONDS": "120"}
    a, b = (start_server(db_url, tmp_path, f"real{i}", **env) for i in range(2))
    try:
        import base64

        ha, hb = ({"Authorization": f"Bearer {token(s.url)}"} for s in (a, b))
        card = prc_card()
        r = httpx.post(a.url + "/v1/verifications", headers=ha, timeout=60, json={
            "card": card, "portrait": base64.b64encode(portrait.tobytes()).decode(), "consent_face_processing": True})
        assert r.status_code == 201, r.text
        opened = r.json()
        assert [x["action"] for x in opened["challenge"]["actions"]][:2] == ["turn_left", "turn_right"]
        flashes = [Flash(tuple(int(f["color"][i:i + 2], 16) for i in (1, 3, 5)), f["ms"])  # type: ignore[arg-type]
                   for f in opened["challenge"]["flash"]]
        shown = place(flashes, START)
        scene = Scene(shown, Reflection(strength=0.12), np.random.default_rng(0))
        files, times, due = [], [], 0.0
        for img, t in read_frames(clip):
            if t + 1e-6 < due:
                continue
            due += 1 / 15
            ok, jpeg = cv2.imencode(".jpg", scene(img, t), [cv2.IMWRITE_JPEG_QUALITY, 90])
            files.append(("frames", (f"f{len(files):04d}.jpg", jpeg.tobytes(), "image/jpeg")))
            times.append(f"{t:.4f}")
        r = httpx.post(f"{b.url}/v1/verifications/{opened['id']}/start", headers=hb, timeout=30,
                       json={"challenge": opened["challenge"]["token"]})
        assert r.status_code == 200, r.text
        r = httpx.post(f"{a.url}/v1/verifications/{opened['id']}/capture", headers=ha, timeout=300, files=files,
                       data={"timestamps": ",".join(times),
                             "flash_times": ",".join(f"{o:.4f}" for o in shown.onsets)})
        assert r.status_code == 200, r.text
        assert r.json()["decision"] == "pass", r.json()
        r = httpx.post(b.url + "/v1/registrations", headers=hb, json={"verification_id": opened["id"]}, timeout=30)
        assert r.status_code == 201, r.text
        assert r.json()["person_number"].count("*") >= 8
    finally:
        a.kill()
        b.kill()
    with svc.db.read() as s:
        v = s.get(Verification, opened["id"])
        assert v is not None and v.portrait_enc is None and v.model_version and v.threshold_version
        assert verify_chain(s).ok
