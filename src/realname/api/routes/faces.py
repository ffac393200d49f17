"""The face checks under /v1/faces: compare a document portrait with a live frame, and judge one photo's quality."""

from __future__ import annotations

from fastapi import APIRouter, File, UploadFile

from realname.api.deps import Service, read_image
from realname.api.schemas import FACE_ERRORS, CompareOut, QualityOut
from realname.api.security import Caller, secured
from realname.faces import match_json, quality_json
from realname.operators.auth import allowed

router = APIRouter()
DECISION_FIELDS = ("decision", "result", "engine", "quality", "elapsed_ms")


@router.post("/v1/faces/compare", response_model=CompareOut, response_model_exclude_none=True,
             responses=FACE_ERRORS, **secured("faces.check", body="upload"))
def compare(
    service: Service,
    actor: Caller,
    document: UploadFile | None = File(None, description="the ID document's portrait"),
    live: UploadFile | None = File(None, description="the live camera frame"),
) -> CompareOut:
    result = service.compare(read_image(service, document, "document"), read_image(service, live, "live"))
    record = match_json(result, service.thresholds)
    if not allowed(actor.role, "faces.scores"):
        record = {k: v for k, v in record.items() if k in DECISION_FIELDS}
    return CompareOut.model_validate(record)


@router.post("/v1/faces/quality", response_model=QualityOut, responses=FACE_ERRORS,
             **secured("faces.check", body="upload"))
def quality(service: Service, actor: Caller,
            image: UploadFile | None = File(None, description="a face photo")) -> QualityOut:
    return QualityOut.model_validate(quality_json(service.quality(read_image(service, image, "image"))))
