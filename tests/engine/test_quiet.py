"""The command line is quiet: `realname quality` and `realname liveness run` on a real face write their answer to
stdout and nothing to stderr (MediaPipe's TensorFlow Lite and absl lines are kept off it); `--verbose` lets them
through, which shows the check would see them. Needs the face data (../shared/data); skips without it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import cv2
from tests.servers import BIN
from tests.support import lfw_image, need_data

CHATTER = "TensorFlow Lite"


def realname(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLOG_", "TF_CPP_", "ABSL_", "OPENCV_"))}
    return subprocess.run([str(BIN / "realname"), *args], env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def test_quality_writes_nothing_to_stderr() -> None:
    image = lfw_image("AJ_Cook", 1)
    r = realname("quality", str(image))
    assert r.returncode in (0, 1) and r.stdout.startswith("Quality:"), r.stdout + r.stderr
    assert r.stderr == ""
    loud = realname("--verbose", "quality", str(image))
    assert CHATTER in loud.stderr and loud.stdout == r.stdout


def test_liveness_run_writes_nothing_to_stderr(tmp_path: Path) -> None:
    clip = need_data("liveness", "genuine", "person_a_turns_nods.mp4")
    short = tmp_path / "short.avi"  # the first two seconds: enough to load and run the landmarker
    reader = cv2.VideoCapture(str(clip))
    writer = None
    for _ in range(30):
        ok, frame = reader.read()
        assert ok
        if writer is None:
            writer = cv2.VideoWriter(str(short), cv2.VideoWriter.fourcc(*"MJPG"), 15, frame.shape[1::-1])
        writer.write(frame)
    assert writer is not None
    writer.release()
    reader.release()
    r = realname("liveness", "run", str(short), "--challenge", "turn_left,blink")
    assert r.stdout.startswith("Live check:"), r.stdout + r.stderr
    assert r.stderr == ""
