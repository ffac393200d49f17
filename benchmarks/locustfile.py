"""Locust scenario for `make load` (driven by benchmarks/load.py; never imported by pytest).

Kiosks (weight 9) do the whole counter flow with the service in test mode (REALNAME_FIXED_LIVE_CHECK=pass, no light
check): log in once, then loop open a verification with a fresh valid ID card, start the capture, send 8 small
frames, register a number. Inspectors (weight 1) read the latest tree head, a registration's inclusion proof and
the inspection summary. Each registration id a kiosk got a 201 for is appended to $LOAD_IDS_FILE, so the driver
can check afterwards that none was lost.
"""

from __future__ import annotations

import base64
import os
import random
import threading
import time
from datetime import date, timedelta
from typing import Any

import cv2
import numpy as np
from locust import HttpUser, between, task
from stdnum.cn import ric

PASSWORD = "demo-pass-123"
_lock = threading.Lock()
_login_lock = threading.Lock()
_ids: list[str] = []


def _portrait() -> str:
    img = np.full((126, 102, 3), 200, np.uint8)
    cv2.ellipse(img, (51, 60), (30, 40), 0, 0, 360, (120, 140, 180), -1)
    return base64.b64encode(cv2.imencode(".jpg", img)[1].tobytes()).decode()


def _frames() -> list[tuple[str, tuple[str, bytes, str]]]:
    rng = np.random.default_rng(0)
    return [("frames", (f"f{i}.jpg", cv2.imencode(".jpg", rng.integers(0, 255, (48, 64, 3), np.uint8))[1]
                        .tobytes(), "image/jpeg")) for i in range(8)]


PORTRAIT, FRAMES = _portrait(), _frames()
TIMES = ",".join(f"{i / 15:.3f}" for i in range(8))


def card() -> dict[str, Any]:
    """A valid resident ID card for a random person (per-person caps never bite)."""
    birth = date(1980, 1, 1) + timedelta(days=random.randrange(16 * 365))  # issued at 29, valid 20 years
    body = "110105" + birth.strftime("%Y%m%d") + f"{random.randrange(1000):03d}"
    number = body + ric.calc_check_digit(body + "0")
    issue = date(birth.year + 29, 6, 1)
    return {"doc_type": "prc_id", "name": "张三", "sex": "M" if int(number[16]) % 2 else "F",
            "birth_date": birth.isoformat(), "number": number, "issue_date": issue.isoformat(),
            "expiry_date": date(issue.year + 20, 6, 1).isoformat(), "address": "北京市朝阳区建国路1号"}


def login(user: HttpUser, username: str) -> dict[str, str]:
    """Kiosks log in one at a time, as a shift starts (the load measured is registrations, not a login storm; parallel
    logins of one user are tested in tests/operators/test_auth.py); a 429 is waited out as told."""
    with _login_lock:
        return _login(user, username)


def _login(user: HttpUser, username: str) -> dict[str, str]:
    for _ in range(60):
        with user.client.post("/v1/auth/login", json={"username": username, "password": PASSWORD},
                              name="POST /v1/auth/login", catch_response=True) as r:
            if r.status_code == 429:
                r.success()  # throttling is the service working as designed, not an error
                time.sleep(float(r.headers.get("Retry-After", "1")) * random.uniform(0.2, 1.0))
                continue
            return {"Authorization": f"Bearer {r.json()['token']}"} if r.ok else {}
    return {}


def _record(reg_id: str) -> None:
    with _lock:
        _ids.append(reg_id)
        del _ids[:-200]
        path = os.environ.get("LOAD_IDS_FILE")
        if path:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(reg_id + "\n")


class Kiosk(HttpUser):
    weight = 9
    wait_time = between(0.0, 0.2)

    def on_start(self) -> None:
        self.auth = login(self, "agent1")

    @task
    def register(self) -> None:
        r = self.client.post("/v1/verifications", headers=self.auth, name="POST /v1/verifications",
                             json={"card": card(), "portrait": PORTRAIT, "consent_face_processing": True,
                                   "purpose": "register"})
        if r.status_code != 201:
            return
        opened = r.json()
        vid = opened["id"]
        r = self.client.post(f"/v1/verifications/{vid}/start", headers=self.auth,
                             name="POST /v1/verifications/[id]/start", json={"challenge": opened["challenge"]["token"]})
        if not r.ok:
            return
        r = self.client.post(f"/v1/verifications/{vid}/capture", headers=self.auth, files=FRAMES,
                             data={"timestamps": TIMES}, name="POST /v1/verifications/[id]/capture")
        if not r.ok:
            return
        r = self.client.post("/v1/registrations", headers=self.auth, json={"verification_id": vid},
                             name="POST /v1/registrations")
        if r.status_code == 201:
            _record(r.json()["id"])


class Inspector(HttpUser):
    weight = 1
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.auth = login(self, "inspector1")

    @task(3)
    def head(self) -> None:
        with self.client.get("/v1/audit/head", headers=self.auth, name="GET /v1/audit/head",
                             catch_response=True) as r:
            if r.status_code == 404:  # no head published yet at the very start
                r.success()

    @task(2)
    def proof(self) -> None:
        with _lock:
            reg_id = random.choice(_ids) if _ids else None
        if reg_id is not None:
            self.client.get(f"/v1/audit/proof/{reg_id}", headers=self.auth, name="GET /v1/audit/proof/[id]")

    @task(1)
    def summary(self) -> None:
        self.client.get("/v1/inspect/summary", headers=self.auth, name="GET /v1/inspect/summary")
