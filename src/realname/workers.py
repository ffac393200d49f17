"""Running one function over many items on all cores, with one face engine per worker process.

Engines are built in the child from a picklable factory (models load there, never pickled), and each worker
runs OpenCV on one thread, so two workers do not fight over the same cores and timings are one-core figures.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

import cv2

from realname.engine.base import FaceEngine

T = TypeVar("T")
R = TypeVar("R")
EngineFactory = Callable[[], FaceEngine]

_engine: FaceEngine | None = None
_task: Callable[[FaceEngine, Any], Any] | None = None


def _init(factory: EngineFactory, task: Callable[[FaceEngine, Any], Any]) -> None:
    global _engine, _task
    cv2.setNumThreads(1)
    _engine, _task = factory(), task


def _run(item: Any) -> Any:
    assert _engine is not None and _task is not None
    return _task(_engine, item)


def map_with_engine(
    task: Callable[[FaceEngine, T], R],
    items: Sequence[T],
    factory: EngineFactory,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    chunksize: int = 1,
) -> list[R]:
    """``task(engine, item)`` for every item, results in item order. ``task`` must be a module-level function
    (it travels to the workers); ``progress`` is called with 1 after each item."""
    n = workers or min(os.cpu_count() or 1, 2)
    results: list[R] = []
    if n <= 1:
        cv2.setNumThreads(1)
        engine = factory()
        for item in items:
            results.append(task(engine, item))
            if progress:
                progress(1)
        return results
    with ProcessPoolExecutor(n, initializer=_init, initargs=(factory, task)) as pool:
        for result in pool.map(_run, items, chunksize=chunksize):
            results.append(result)
            if progress:
                progress(1)
    return results


def map_in_processes(task: Callable[[T], R], items: Sequence[T], workers: int | None = None,
                     progress: Callable[[int], None] | None = None) -> list[R]:
    """``task(item)`` for every item on up to ``workers`` processes (default: up to 2), results in item order;
    for work that needs no face engine (``task`` must be a module-level function)."""
    n = workers or min(os.cpu_count() or 1, 2)
    results: list[R] = []
    if n <= 1:
        for item in items:
            results.append(task(item))
            if progress:
                progress(1)
        return results
    with ProcessPoolExecutor(n, initializer=cv2.setNumThreads, initargs=(1,)) as pool:
        for result in pool.map(task, items, chunksize=1):
            results.append(result)
            if progress:
                progress(1)
    return results
