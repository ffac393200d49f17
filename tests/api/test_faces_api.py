"""The REST API through its real app, with the fake engine (flow and errors) and the real one (LFW)."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from tests.registry_support import seeded
from tests.support import jpeg_bytes, lfw_image

from realname.api.app import create_app
from realname.operators.demo import DEMO_PASSWORD
from realname.registry.migrate import upgrade


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    """The app on a demo registry, logged in as the demo agent (face checks are for operator staff only)."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    upgrade(url)
    svc, _ = seeded(url, engine="fake", max_upload_bytes=200_000)
    with TestClient(create_app(svc.settings, services=svc)) as c:
        r = c.post("/v1/auth/login", json={"username": "agent1", "password": DEMO_PASSWORD})
        c.headers["Authorization"] = f"Bearer {r.json()['token']}"
        yield c  # type: ignore[misc]


def test_face_checks_need_a_login(client: TestClient, textured: np.ndarray) -> None:
    data = jpeg_bytes(textured)
    r = client.post("/v1/faces/compare", files={"document": ("d.jpg", data), "live": ("l.jpg", data)},
                    headers={"Authorization": ""})
    assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated"


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_compare_same_picture_gives_the_counter_the_decision_only(client: TestClient, textured: np.ndarray) -> None:
    """A score and the thresholds would let an agent tune a fake face until it passes."""
    data = jpeg_bytes(textured)
    r = client.post("/v1/faces/compare", files={"document": ("d.jpg", data), "live": ("l.jpg", data)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["decision"] == "pass" and body["result"] == "match"
    assert not {"score", "model_scores", "threshold", "thresholds_provenance", "stage"} & set(body), body


@pytest.mark.parametrize(("role_user", "scores"), [("super1", False), ("admin1", True)])
def test_compare_scores_only_for_roles_that_need_them(client: TestClient, textured: np.ndarray, role_user: str,
                                                      scores: bool) -> None:
    r = client.post("/v1/auth/login", json={"username": role_user, "password": DEMO_PASSWORD})
    data = jpeg_bytes(textured)
    r = client.post("/v1/faces/compare", files={"document": ("d.jpg", data), "live": ("l.jpg", data)},
                    headers={"Authorization": f"Bearer {r.json()['token']}"})
    body = r.json()
    assert r.status_code == 200 and ("score" in body) is scores, body
    if scores:
        assert body["score"] > 0.99 and "created" in body["thresholds_provenance"]


def test_quality(client: TestClient, textured: np.ndarray) -> None:
    r = client.post("/v1/faces/quality", files={"image": ("i.jpg", jpeg_bytes(textured))})
    assert r.status_code == 200
    assert set(r.json()) == {"acceptable", "faces", "findings", "measures"}


@pytest.mark.parametrize(("files", "status", "code"), [
    ({"live": ("l.jpg", b"x")}, 422, "missing_image"),
    ({"document": ("d.txt", b"hello"), "live": ("l.txt", b"hello")}, 422, "not_an_image"),
    ({"document": ("d.jpg", b""), "live": ("l.jpg", b"")}, 422, "empty_image"),
    ({"document": ("d.jpg", b"\xff\xd8" + b"0" * 300_000), "live": ("l.jpg", b"x")}, 413, "upload_too_large"),
])
def test_bad_uploads_get_json_errors(client: TestClient, files: dict, status: int, code: str) -> None:  # type: ignore[type-arg]
    r = client.post("/v1/faces/compare", files=files)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code and r.json()["error"]["message"]


def test_no_face(client: TestClient, textured: np.ndarray) -> None:
    flat = jpeg_bytes(np.full((100, 100, 3), 128, np.uint8))
    r = client.post("/v1/faces/compare", files={"document": ("d.jpg", jpeg_bytes(textured)),
                                                "live": ("l.jpg", flat)})
    assert r.status_code == 422 and r.json()["error"]["code"] == "no_face"


def test_truncated_png(client: TestClient) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buf, "PNG")
    r = client.post("/v1/faces/quality", files={"image": ("i.png", buf.getvalue()[:60])})
    assert r.status_code == 422 and r.json()["error"]["code"] in {"truncated_image", "not_an_image"}


@pytest.mark.models
def test_real_engine_compare(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    upgrade(url)
    svc, _ = seeded(url, engine="cascade")
    same_a = lfw_image("Abel_Pacheco", 1).read_bytes()
    same_b = lfw_image("Abel_Pacheco", 4).read_bytes()
    other = lfw_image("AJ_Cook", 1).read_bytes()
    with TestClient(create_app(svc.settings, services=svc)) as c:
        token = c.post("/v1/auth/login", json={"username": "agent1", "password": DEMO_PASSWORD}).json()["token"]
        c.headers["Authorization"] = f"Bearer {token}"
        r = c.post("/v1/faces/compare", files={"document": ("a.jpg", same_b), "live": ("b.jpg", same_a)})
        assert r.status_code == 200 and r.json()["decision"] == "pass", r.text
        r = c.post("/v1/faces/compare", files={"document": ("a.jpg", other), "live": ("b.jpg", same_a)})
        assert r.status_code == 200 and r.json()["decision"] == "fail", r.text


@pytest.mark.models
def test_a_cut_off_face_is_answered_with_the_finding_not_a_decision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    upgrade(url)
    svc, _ = seeded(url, engine="cascade")
    whole = cv2.imread(str(lfw_image("Abel_Pacheco", 1)))
    document = lfw_image("Abel_Pacheco", 4).read_bytes()
    half = jpeg_bytes(whole[:, : whole.shape[1] // 2])
    with TestClient(create_app(svc.settings, services=svc)) as c:
        token = c.post("/v1/auth/login", json={"username": "agent1", "password": DEMO_PASSWORD}).json()["token"]
        c.headers["Authorization"] = f"Bearer {token}"
        r = c.post("/v1/faces/compare", files={"document": ("a.jpg", document), "live": ("b.jpg", half)})
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["code"] == "face_cut_off" and "whole face is inside the frame" in error["message"]
        assert "decision" not in r.json()
        r = c.post("/v1/faces/quality", files={"image": ("b.jpg", half)})
        assert r.status_code == 200 and not r.json()["acceptable"]
        assert "face_cut_off" in {f["code"] for f in r.json()["findings"]}
