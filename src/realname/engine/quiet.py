"""The one place that keeps native libraries' chatter off the terminal and out of the service's log (MediaPipe's
TensorFlow Lite and absl, FFmpeg and OpenCV).

MediaPipe's TensorFlow Lite and absl write from C++ straight to file descriptor 2 ("INFO: Created TensorFlow
Lite XNNPACK delegate for CPU.", "W0000 ... inference_feedback_manager.cc ..."): Python's logging never sees
them. The environment variables below lower what glog and TensorFlow print, but must be set before the library
loads, and TFLite's INFO line and absl's pre-initialisation warnings ignore them; so the loading and the first
inference, where those lines are written, also run with fd 2 pointed at /dev/null (:func:`native_output`).
``realname --verbose`` shows everything.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# glog/absl/TensorFlow below errors; FFmpeg inside OpenCV quiet (AV_LOG_QUIET: "moov atom not found" for a bad
# upload is the caller's error, answered with a code, not the service's), OpenCV's own warnings off. FFmpeg's level
# is read when the first video is opened; OpenCV's own when cv2 is imported (else set below).
_ENV = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3", "ABSL_MIN_LOG_LEVEL": "2",
        "OPENCV_FFMPEG_LOGLEVEL": "-8", "OPENCV_LOG_LEVEL": "ERROR"}
_lock = threading.Lock()
_depth = 0
_saved: int | None = None
_verbose = False


def set_verbose(verbose: bool) -> None:
    """Called by the CLI before any command runs (``--verbose`` shows the native libraries' output)."""
    global _verbose
    _verbose = verbose
    if not verbose:
        for name, value in _ENV.items():
            os.environ.setdefault(name, value)
        cv2 = sys.modules.get("cv2")
        if cv2 is not None:  # imported already, so it has read OPENCV_LOG_LEVEL: 2 is ERROR
            cv2.setLogLevel(2)


@contextmanager
def native_output() -> Iterator[None]:
    """Run a native library's loading (or first call) with fd 2 silenced, unless verbose. Re-entrant and shared
    between threads: fd 2 is restored when the last user leaves. Python's own stderr output is flushed first."""
    global _depth, _saved
    if _verbose:
        yield
        return
    with _lock:
        if _depth == 0:
            sys.stderr.flush()
            _saved = os.dup(2)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 2)
            os.close(null)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                os.dup2(_saved, 2)
                os.close(_saved)
                _saved = None
