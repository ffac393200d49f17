"""Face templates for every image of a pair set, once per image, on all cores.

Workers (:mod:`realname.workers`) each build their own engine and run on one core, and every image reports
its own timings, so latency figures are single-core figures even when two run side by side.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from realname.engine.base import FaceEngine, Template
from realname.engine.quality import REFUSING, assess
from realname.engine.selection import primary_face
from realname.errors import RealnameError
from realname.evaluation.degrade import idchip
from realname.images import read_image
from realname.verification.matcher import tta
from realname.workers import EngineFactory, map_with_engine


@dataclass
class Extracted:
    path: Path
    degraded: bool
    templates: dict[str, Template] = field(default_factory=dict)
    detect_s: float = 0.0
    model_s: dict[str, float] = field(default_factory=dict)
    error: str | None = None  # why no template: a failure to acquire
    refused: str | None = None  # the quality finding that makes the compare refuse this image (a retake)

    @property
    def acquired(self) -> bool:
        return self.error is None


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
    # What the compare would answer before any template: a refusal (face_cut_off) is a retake at a kiosk.
    refused = assess(image, faces, face, getattr(engine, "limits", None)).refusal(REFUSING)
    out.refused = refused.code if refused is not None else None
    for model in engine.models:
        t0 = time.perf_counter()
        out.templates[model] = engine.embed(image, face, model)
        out.model_s[model] = time.perf_counter() - t0
    if {"sface", "sface_mirror"} <= out.templates.keys():
        # Made once per image here, not once per pair: the fusion's SFace template.
        out.templates["sface_tta"] = tta(out.templates["sface"], out.templates["sface_mirror"])
    return out


def _extract_job(engine: FaceEngine, job: tuple[Path, bool]) -> Extracted:
    return extract_one(engine, *job)


def extract_all(
    factory: EngineFactory,
    jobs: Iterable[tuple[Path, bool]],
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[tuple[Path, bool], Extracted]:
    """Templates for each (path, degrade?) job. ``progress`` is called with the number just finished."""
    todo = sorted(set(jobs))
    done = map_with_engine(_extract_job, todo, factory, workers, progress, chunksize=16)
    return dict(zip(todo, done, strict=True))
