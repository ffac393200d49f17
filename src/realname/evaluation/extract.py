"""Face templates for every image of a pair set, once per image, on all cores.

Each worker process builds its own engine (models load lazily in the child), handles a slice of the images
and reports per-image timings, so latency figures are single-core figures even when two run side by side.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from realname.engine.base import FaceEngine, Template
from realname.engine.selection import primary_face
from realname.errors import RealnameError
from realname.evaluation.degrade import idchip
from realname.images import read_image


@dataclass
class Extracted:
    path: Path
    degraded: bool
    templates: dict[str, Template] = field(default_factory=dict)
    detect_s: float = 0.0
    model_s: dict[str, float] = field(default_factory=dict)
    error: str | None = None  # why no template: a failure to acquire

    @property
    def acquired(self) -> bool:
        return self.error is None


EngineFactory = Callable[[], FaceEngine]
_worker_engine: FaceEngine | None = None


def _init(factory: EngineFactory) -> None:
    global _worker_engine
    cv2.setNumThreads(1)  # one core per worker: latency figures are single-core figures
    _worker_engine = factory()


def extract_one(engine: FaceEngine, path: Path, degrade: bool) -> Extracted:
    out = Extracted(path, degrade)
    try:
        image = read_image(path)
    except RealnameError as exc:
        out.error = exc.message
        return out
    if degrade:
        image = idchip(image, engine)
    t0 = time.perf_counter()
    faces = engine.detect(image)
    face = primary_face(faces, image.shape[1], image.shape[0])
    out.detect_s = time.perf_counter() - t0
    if face is None:
        out.error = "no face found"
        return out
    for model in engine.models:
        t0 = time.perf_counter()
        out.templates[model] = engine.embed(image, face, model)
        out.model_s[model] = time.perf_counter() - t0
    return out


def _work(job: tuple[Path, bool]) -> Extracted:
    assert _worker_engine is not None
    return extract_one(_worker_engine, *job)


def extract_all(
    factory: EngineFactory,
    jobs: Iterable[tuple[Path, bool]],
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[tuple[Path, bool], Extracted]:
    """Templates for each (path, degrade?) job. ``progress`` is called with the number just finished."""
    todo = sorted(set(jobs))
    n = workers or min(os.cpu_count() or 1, 2)
    results: dict[tuple[Path, bool], Extracted] = {}
    if n <= 1:
        _init(factory)
        for job in todo:
            results[job] = _work(job)
            if progress:
                progress(1)
        return results
    with ProcessPoolExecutor(n, initializer=_init, initargs=(factory,)) as pool:
        for job, res in zip(todo, pool.map(_work, todo, chunksize=16), strict=True):
            results[job] = res
            if progress:
                progress(1)
    return results
