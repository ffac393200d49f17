"""API response models for errors, health and the face checks, separate from the internal dataclasses so the wire
format is explicit and stable. (The registry's bodies are in :mod:`.registry_schemas`.)"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. no_face, image_too_large")
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` saying that these status codes answer with an :class:`ErrorResponse`."""
    return {code: {"model": ErrorResponse} for code in codes}


# The errors a /v1 registry or supervision route may answer with, and those of the face checks.
V1_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 429)
FACE_ERRORS = error_responses(400, 401, 403, 413, 422, 503)


class Health(BaseModel):
    status: str
    version: str
    engine: str


class Finding(BaseModel):
    code: str
    message: str
    value: float | None
    limit: float | None


class QualityOut(BaseModel):
    acceptable: bool
    faces: int
    findings: list[Finding]
    measures: dict[str, float]


class ThresholdOut(BaseModel):
    match_at_or_above: float
    review_from: float
    review_below: float


class ProvenanceOut(BaseModel):
    dataset: str
    target_fmr: float
    created: str


class SidesQuality(BaseModel):
    document: QualityOut
    live: QualityOut


class CompareOut(BaseModel):
    """The counter's roles get the decision only: a score and the thresholds would be an oracle for tuning a fake
    face. The fields marked 'scores' are there for roles allowed ``faces.scores`` (and in the CLI's ``--json``)."""

    decision: str = Field(description="what the clerk sees: pass, fail or review")
    result: str = Field(description="match, no_match or review")
    engine: str
    quality: SidesQuality
    elapsed_ms: float
    score: float | None = Field(None, description="scores: for the audit record only; never shown at the counter")
    stage: str | None = Field(None, description="scores: the engine stage that decided")
    model_scores: dict[str, float] | None = Field(None, description="scores")
    threshold: ThresholdOut | None = Field(None, description="scores")
    thresholds_provenance: ProvenanceOut | None = Field(None, description="scores")
