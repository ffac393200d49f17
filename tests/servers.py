"""`realname serve` as a real process for tests: on a free port, over a given database, with the test keyring."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.registry_support import KEYRING

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(db_url: str, tmp: Path, log: Path, **env: str) -> tuple[str, subprocess.Popen[bytes]]:
    """Start the server in test mode and wait until /healthz answers; returns its URL and process."""
    keys = tmp / "keys.json"
    if not keys.exists():
        KEYRING.save(keys)
    port = free_port()
    environ = {**os.environ, "REALNAME_DATABASE_URL": db_url, "REALNAME_KEYRING_FILE": str(keys),
               "REALNAME_PORT": str(port), "REALNAME_TEST_MODE": "1", **env}
    proc = subprocess.Popen([str(BIN / "realname"), "serve"], env=environ, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return url, proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"server did not start: {log.read_text()[-2000:]}")
