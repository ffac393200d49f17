"""Browser tests: Playwright drives Debian's chromium against a real `realname serve` process.

The camera is chromium's fake device playing a .y4m file written here from the shared clips, so the kiosk's own
JavaScript (getUserMedia, canvas, frames, timestamps) runs exactly as at a counter. Every test here skips with the
reason when playwright or /usr/bin/chromium is missing or cannot start; clip tests skip when ../shared/data is
absent. Screenshots of every step go to artifacts/screenshots/<test>-<step>.png.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import pytest
from tests.support import need_data
from tests.web.browser import CHROMIUM, BrowserFactory, clip_frames, frame_at, write_y4m

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium): the browser tests need Debian's chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as p:
        try:
            p.chromium.launch(executable_path=str(CHROMIUM), headless=True).close()
        except Exception as exc:  # any failure to start the browser is a reason to skip
            pytest.skip(f"playwright cannot start {CHROMIUM}: {exc}")
        yield p


@pytest.fixture(scope="module")
def launch(playwright: Playwright) -> Iterator[BrowserFactory]:
    """launch(clip) -> a headless chromium whose camera plays `clip` (a .y4m), or its test pattern without one."""
    opened: list[Browser] = []

    def _launch(clip: Path | None = None) -> Browser:
        args = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--lang=zh-CN"]
        if clip is not None:
            args.append(f"--use-file-for-fake-video-capture={clip}")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        opened.append(browser)
        return browser

    yield _launch
    for b in opened:
        b.close()


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """clips("genuine" | "replay" | "still") -> a .y4m made on first use (once per session)."""
    folder = tmp_path_factory.mktemp("clips")
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            genuine = need_data("liveness", "genuine", "person_a_turns_nods.mp4")
            if name == "genuine":
                made[name] = write_y4m(clip_frames(genuine), folder / "genuine.y4m")
            elif name == "replay":
                replay = need_data("liveness", "attack", "person_a_screen_replay.mp4")
                made[name] = write_y4m(clip_frames(replay), folder / "replay.y4m")
            elif name == "still":  # a printed photo held still: one frame of the genuine clip for 20 s
                photo = frame_at(genuine, 1.0)
                made[name] = write_y4m((photo for _ in range(20 * 30)), folder / "still.y4m")
            else:
                raise KeyError(name)
        return made[name]

    return get


@pytest.fixture(scope="session")
def genuine_face(local_engine: Any) -> tuple[float, float, float, float]:
    """Where the genuine clip's face is during its first seconds (centre and half-axes as shares of the picture):
    the tinting test camera lights that ellipse as the kiosk's screen would light a face."""
    import numpy as np

    from realname.engine.selection import primary_face

    clip = need_data("liveness", "genuine", "person_a_turns_nods.mp4")
    boxes = []
    for t in (0.2, 0.8, 1.4, 2.0, 2.6, 3.2):
        frame = frame_at(clip, t)
        face = primary_face(local_engine.detect(frame), frame.shape[1], frame.shape[0])
        if face is not None:
            h, w = frame.shape[:2]
            boxes.append((face.box.center[0] / w, face.box.center[1] / h, face.box.w / w, face.box.h / h))
    assert boxes, "no face in the genuine clip"
    cx, cy, bw, bh = (float(v) for v in np.median(np.array(boxes), axis=0))
    return cx, cy, 0.6 * bw, 0.65 * bh


@pytest.fixture(scope="session")
def genuine_portrait(tmp_path_factory: pytest.TempPathFactory, local_engine: Any) -> Path:
    """The genuine person's ID-chip portrait: a frame at 0.5 s reduced like a 2nd-generation ID card's photo."""
    from realname.evaluation.degrade import idchip

    clip = need_data("liveness", "genuine", "person_a_turns_nods.mp4")
    ok, jpeg = cv2.imencode(".jpg", idchip(frame_at(clip, 0.5), local_engine))
    assert ok
    path = tmp_path_factory.mktemp("portrait") / "portrait.jpg"
    path.write_bytes(jpeg.tobytes())
    return path


