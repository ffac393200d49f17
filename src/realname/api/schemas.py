"""API response models, separate from the internal dataclasses so the wire format is explicit and stable."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. no_face, image_too_large")
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


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
    decision: str = Field(description="what the clerk sees: pass, fail or review")
    result: str = Field(description="match, no_match or review")
    score: float = Field(description="for the audit record only; never shown at the counter")
    engine: str
    stage: str
    model_scores: dict[str, float]
    threshold: ThresholdOut
    thresholds_provenance: ProvenanceOut
    quality: SidesQuality
    elapsed_ms: float
