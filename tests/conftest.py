"""Shared fixtures (helpers are in tests/support.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest


@pytest.fixture(scope="session")
def local_engine():  # type: ignore[no-untyped-def]
    from realname.engine.local import LocalEngine

    cv2.setNumThreads(1)
    return LocalEngine()


@pytest.fixture
def textured() -> np.ndarray:
    """A deterministic non-flat picture (the fake engine 'finds a face' in it)."""
    rng = np.random.default_rng(7)
    img = rng.integers(0, 255, (120, 100, 3), dtype=np.uint8)
    return cv2.GaussianBlur(img, (5, 5), 0)


from tests.registry_support import db_url  # noqa: E402, F401  (the SQLite + PostgreSQL fixture)

# The files that take longest (seconds of one worker, `pytest --durations`), run first: `make test` hands whole files
# to two workers in collection order (--dist loadfile --no-loadscope-reorder), and a long file that starts last
# leaves the other worker idle at the end. xdist's default order (most tests first) put the browser tests last.
LONGEST_FIRST = (
    "tests/web/test_kiosk.py",  # ~200 s: real chromium, 26 s of camera per clip
    "tests/api/test_processes.py",  # ~130 s: real servers, SIGKILL, real clips
    "tests/web/test_devices.py",  # ~110 s
    "tests/liveness/test_blinks.py",  # ~90 s: the blink floor on real clips
    "tests/supervision/test_signals.py",  # ~75 s: generated registries
    "tests/web/test_office.py",
    "tests/liveness/test_session.py",
    "tests/evaluation/liveness/test_attacks.py",
    "tests/supervision/test_inspection.py",
    "tests/operations/test_backup.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable: files keep their order
