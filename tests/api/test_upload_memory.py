"""The worst upload of each kind, sent to a real server process: a 4xx, quickly, and the process's peak memory
grows by less than PEAK_MB.

Each of these once cost the service dearly: ten 4 KB palette PNGs declaring 36 megapixels each (+1.75 GB, 22 s,
before a 404), an 8K video (+340 MB), a 63 MB JSON login (+1.6 GB). Peak memory is the kernel's high-water mark
of the server's resident set (``VmHWM``), reset before each request through ``/proc/PID/clear_refs``.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from PIL import Image
from tests.registry_support import portrait_bytes, prc_card, seeded
from tests.servers import serve

from realname.operators.demo import DEMO_PASSWORD

PEAK_MB = 150  # growth of the server's peak resident memory allowed for one refused upload
QUICK_S = 10  # a refusal is answered within this, on a loaded 2-core CI machine (typically well under 1 s)


def _png_bomb(width: int = 6000, height: int = 6000) -> bytes:
    buf = io.BytesIO()
    Image.new("P", (width, height)).save(buf, "PNG", optimize=True)
    return buf.getvalue()


def _video_8k(tmp: Path) -> bytes:
    path = tmp / "8k.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (7680, 4320))
    frame = np.zeros((4320, 7680, 3), np.uint8)
    for shade in (0, 60, 120):
        frame[:] = shade
        writer.write(frame)
    writer.release()
    return path.read_bytes()


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]
    token: str

    def status(self, field: str) -> int:
        """A /proc/PID/status figure in kB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise AssertionError(f"no {field} in /proc/{self.proc.pid}/status")

    def send(self, method: str, path: str, **kw: Any) -> tuple[httpx.Response, float, float]:
        """The response, the seconds it took, and how many MB the peak resident memory rose over the rest."""
        Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")  # high-water mark := current resident set
        before = self.status("VmRSS")
        start = time.perf_counter()
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        r = httpx.request(method, self.url + path, headers=headers, timeout=120, **kw)
        elapsed = time.perf_counter() - start
        return r, elapsed, (self.status("VmHWM") - before) / 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("needs Linux /proc/PID/clear_refs to reset the peak-memory mark")
    tmp = tmp_path_factory.mktemp("memory")
    url = f"sqlite:///{tmp / 'registry.db'}"
    from realname.registry.migrate import upgrade
    upgrade(url)
    seeded(url)
    base, proc = serve(url, tmp, tmp / "server.log", REALNAME_LIGHT_CHECK="0")  # uploads, not the light check
    try:
        r = httpx.post(base + "/v1/auth/login", json={"username": "agent1", "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        server = Server(base, proc, r.json()["token"])
        # One real live check first: the face models load once per process, and that is not an upload's cost.
        grey = b"YUV4MPEG2 W64 H48 F15:1 Ip A1:1 C420jpeg\n" + (b"FRAME\n" + bytes([128]) * (64 * 48 * 3 // 2)) * 3
        r = httpx.post(f"{base}/v1/verifications/{_capturing(server)}/capture", timeout=120,
                       files={"video": ("v.y4m", grey, "video/x-yuv4mpeg")}, headers={"Authorization": f"Bearer "
                                                                                        f"{server.token}"})
        assert r.status_code == 200 and r.json()["decision"] == "fail", r.text
        yield server
    finally:
        proc.kill()
        proc.wait(10)


def _capturing(server: Server) -> str:
    body = {"card": prc_card(), "portrait": base64.b64encode(portrait_bytes()).decode(),
            "consent_face_processing": True}
    r = httpx.post(server.url + "/v1/verifications", json=body, headers={"Authorization": f"Bearer {server.token}"})
    assert r.status_code == 201, r.text
    opened = r.json()
    r = httpx.post(f"{server.url}/v1/verifications/{opened['id']}/start", json={"challenge": opened["challenge"]
                   ["token"]}, headers={"Authorization": f"Bearer {server.token}"})
    assert r.status_code == 200, r.text
    return str(opened["id"])


def _check(got: tuple[httpx.Response, float, float], status: int, code: str) -> None:
    r, seconds, peak_mb = got
    print(f"{r.request.method} {r.request.url.path}: {r.status_code} in {seconds:.2f} s, peak +{peak_mb:.0f} MB")
    assert r.status_code == status and r.json()["error"]["code"] == code, r.text
    assert peak_mb < PEAK_MB, f"peak memory rose {peak_mb:.0f} MB"
    assert seconds < QUICK_S, f"took {seconds:.1f} s"


def _bombs(n: int = 10) -> dict[str, Any]:
    bomb = _png_bomb()
    return {"files": [("frames", (f"f{i}.png", bomb, "image/png")) for i in range(n)],
            "data": {"timestamps": ",".join(f"{i / 15:.3f}" for i in range(n))}}


def test_png_bombs_to_a_verification_that_does_not_exist(server: Server) -> None:
    _check(server.send("POST", "/v1/verifications/no-such-id/capture", **_bombs()), 413, "too_many_pixels")


def test_png_bombs_to_a_live_check(server: Server) -> None:
    _check(server.send("POST", f"/v1/verifications/{_capturing(server)}/capture", **_bombs()), 413,
           "too_many_pixels")


def test_a_portrait_bomb(server: Server) -> None:
    body = {"card": prc_card(), "portrait": base64.b64encode(_png_bomb()).decode(), "consent_face_processing": True}
    _check(server.send("POST", "/v1/verifications", json=body), 413, "too_many_pixels")


def test_compare_bombs(server: Server) -> None:
    bomb = _png_bomb()
    _check(server.send("POST", "/v1/faces/compare", files={"document": ("d.png", bomb, "image/png"),
                                                           "live": ("l.png", bomb, "image/png")}),
           413, "too_many_pixels")


def test_an_8k_video(server: Server, tmp_path: Path) -> None:
    video = _video_8k(tmp_path)
    _check(server.send("POST", f"/v1/verifications/{_capturing(server)}/capture",
                       files={"video": ("v.mp4", video, "video/mp4")}), 422, "too_many_pixels")


def test_a_playlist_that_names_a_server_file(server: Server) -> None:
    playlist = b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
    _check(server.send("POST", f"/v1/verifications/{_capturing(server)}/capture",
                       files={"video": ("v.mp4", playlist, "video/mp4")}), 422, "unsupported_video")


def test_a_63_mb_login(server: Server) -> None:
    body = json.dumps({"username": "agent1", "password": "x" * 63_000_000}).encode()
    _check(server.send("POST", "/v1/auth/login", content=body, headers={"content-type": "application/json"}),
           413, "upload_too_large")


def test_a_63_mb_login_without_a_length(server: Server) -> None:
    chunk = b"x" * 1_000_000

    def body() -> Iterator[bytes]:
        yield b'{"username": "agent1", "password": "'
        for _ in range(63):
            yield chunk
        yield b'"}'

    _check(server.send("POST", "/v1/auth/login", content=body(), headers={"content-type": "application/json"}),
           413, "upload_too_large")


def test_a_capture_without_a_login_is_not_read(server: Server) -> None:
    _check(server.send("POST", "/v1/verifications/any/capture", headers={"Authorization": "Bearer forged"},
                       **_bombs(3)), 401, "token_expired")
