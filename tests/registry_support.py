"""Shared set-up for registry tests: a real database (SQLite file or a fresh PostgreSQL schema), the services
over it with a fixed keyring and a clock the test moves, and valid cards."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import sqlalchemy as sa
from stdnum.cn import ric

from realname.config import Settings
from realname.context import Services
from realname.live_check import FixedLiveCheck, LiveCheck
from realname.operators.demo import seed_demo
from realname.privacy.keyring import Keyring
from realname.registry.db import Database
from realname.registry.migrate import upgrade

PG_URL = os.environ.get("REALNAME_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
KEYRING = Keyring.generate("ktest")
_serial = itertools.count(100)


def pg_available() -> bool:
    try:
        with sa.create_engine(PG_URL, connect_args={"connect_timeout": 2}).connect() as c:
            c.execute(sa.text("SELECT 1"))
        return True
    except Exception:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind; PostgreSQL tests skip with the reason when no server answers."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'registry.db'}"
        upgrade(url)
        yield url
        return
    if not pg_available():
        pytest.skip(f"no PostgreSQL server answers at {PG_URL} (set REALNAME_TEST_PG)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.begin() as c:
            c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def make_services(url: str, live_check: LiveCheck | None = None, clock: Clock | None = None,
                  **settings: Any) -> Services:
    settings.setdefault("timezone", "UTC")  # the tests' clock is UTC: local days must not shift near midnight
    # Registry tests decide captures with a fixed live check; the screen-light sequence has tests of its own
    # (tests/liveness/test_light.py, and with the flash in tests/api and tests/web).
    settings.setdefault("light_check", False)
    s = Settings(database_url=url, test_mode=True, **settings)
    return Services(s, db=Database(url), keyring=KEYRING, live_check=live_check or FixedLiveCheck("pass"),
                    clock=clock or Clock())


def seeded(url: str, **kw: Any) -> tuple[Services, Any]:
    svc = make_services(url, **kw)
    demo = seed_demo(svc, numbers=80)
    assert demo is not None
    return svc, demo


def prc_card(serial: int | None = None, name: str = "张三", birth: date = date(1990, 3, 7)) -> dict[str, Any]:
    """A valid resident ID card (issued at 29: 20 years), distinct per call unless ``serial`` is given."""
    n = next(_serial) if serial is None else serial
    body = "110105" + birth.strftime("%Y%m%d") + f"{n % 1000:03d}"
    number = body + ric.calc_check_digit(body + "0")
    sex = "M" if int(number[16]) % 2 else "F"
    issue = date(birth.year + 29, 6, 1)
    return {"doc_type": "prc_id", "name": name, "sex": sex, "birth_date": birth.isoformat(), "number": number,
            "issue_date": issue.isoformat(), "expiry_date": date(issue.year + 20, 6, 1).isoformat(),
            "address": "北京市朝阳区建国路1号"}


def portrait_bytes() -> bytes:
    img = np.full((126, 102, 3), 200, np.uint8)
    cv2.ellipse(img, (51, 60), (30, 40), 0, 0, 360, (120, 140, 180), -1)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


def noise_frames(n: int = 12) -> list[tuple[Any, float]]:
    rng = np.random.default_rng(0)
    return [(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8), i / 15) for i in range(n)]


def flash_times(flash: str | None) -> list[float] | None:
    """Times for the challenge's screen colours (one every 0.2 s) when the operator has the light check on: tests
    with a fixed live-check outcome only need the capture to be well formed."""
    if flash is None:
        return None
    from realname.liveness.light import decode

    return [0.2 * i for i in range(len(decode(flash)))]
