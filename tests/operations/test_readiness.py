"""/readyz: 200 when the database answers at the code's migration head, the keyring loads and the model files are
the measured ones; otherwise 503 naming the failing part and the fix. /healthz keeps answering 200 throughout."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.registry_support import KEYRING

from realname.api.app import create_app
from realname.config import Settings
from realname.registry.migrate import upgrade


@contextmanager
def service(tmp: Path, url: str, **settings: Any) -> Iterator[TestClient]:
    keys = tmp / "keys.json"
    KEYRING.save(keys)
    with TestClient(create_app(Settings(database_url=url, keyring_file=keys, **settings))) as client:
        yield client


def readyz(client: TestClient) -> tuple[int, dict[str, Any]]:
    r = client.get("/readyz")
    assert client.get("/healthz").status_code == 200
    return r.status_code, r.json()


def test_ready_with_the_real_models_and_cheap_to_poll(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    upgrade(url)
    with service(tmp_path, url, engine="cascade") as client:
        status, body = readyz(client)
        assert status == 200 and body["status"] == "ready" and body["failing"] == [], body
        assert set(body["parts"]) == {"database", "migrations", "keyring", "models"}
        assert body["parts"]["models"]["detail"] == "5 verified"
        start = time.perf_counter()
        for _ in range(20):
            assert readyz(client)[0] == 200
        assert (time.perf_counter() - start) / 20 < 0.5  # the models' sha256 is not recomputed on every poll


def test_an_unmigrated_database_is_not_ready(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with service(tmp_path, url, engine="fake") as client:
        status, body = readyz(client)
        assert status == 503 and body["failing"] == ["migrations"], body
        assert "realname db upgrade" in body["parts"]["migrations"]["detail"]
        upgrade(url)
        status, body = readyz(client)
        assert status == 200, body


def test_a_keyring_broken_after_start_is_not_ready(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    upgrade(url)
    with service(tmp_path, url, engine="fake") as client:
        assert readyz(client)[0] == 200
        (tmp_path / "keys.json").write_text("{not json", encoding="utf-8")
        status, body = readyz(client)
        assert status == 503 and body["failing"] == ["keyring"], body
        assert "not valid JSON" in body["parts"]["keyring"]["detail"]


def test_a_database_that_does_not_answer_is_not_ready(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    with service(tmp_path, url, engine="fake") as client:
        status, body = readyz(client)
        assert status == 503 and body["failing"] == ["database", "migrations"], body
        assert "does not answer" in body["parts"]["database"]["detail"]
