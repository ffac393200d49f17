"""Routes: parse the request, call the service, shape the response. No logic of their own."""

from __future__ import annotations

from fastapi import APIRouter, File, UploadFile
from fastapi.concurrency import run_in_threadpool

from realname import __version__
from realname.api.deps import Service, read_upload
from realname.api.schemas import CompareOut, ErrorResponse, Health, QualityOut
from realname.api.security import Caller, secured
from realname.faces import match_json, quality_json
from realname.operators.auth import allowed

router = APIRouter()
DECISION_FIELDS = ("decision", "result", "engine", "quality", "elapsed_ms")
ERRORS = {code: {"model": ErrorResponse} for code in (400, 401, 403, 413, 422, 503)}


@router.get("/healthz", response_model=Health)
def healthz(service: Service) -> Health:
    return Health(status="ok", version=__version__, engine=service.settings.engine)


@router.post("/v1/faces/compare", response_model=CompareOut, response_model_exclude_none=True,
             responses=ERRORS,  # type: ignore[arg-type]
             **secured("faces.check", body="upload"))
async def compare(
    service: Service,
    actor: Caller,
    document: UploadFile | None = File(None, description="the ID document's portrait"),
    live: UploadFile | None = File(None, description="the live camera frame"),
) -> CompareOut:
    doc = await read_upload(service, document, "document")
    cam = await read_upload(service, live, "live")
    result = await run_in_threadpool(service.compare, doc, cam)
    record = match_json(result, service.thresholds)
    if not allowed(actor.role, "faces.scores"):
        record = {k: v for k, v in record.items() if k in DECISION_FIELDS}
    return CompareOut.model_validate(record)


@router.post("/v1/faces/quality", response_model=QualityOut, responses=ERRORS,  # type: ignore[arg-type]
              **secured("faces.check", body="upload"))
async def quality(service: Service, actor: Caller,
                  image: UploadFile | None = File(None, description="a face photo")) -> QualityOut:
    img = await read_upload(service, image, "image")
    report = await run_in_threadpool(service.quality, img)
    return QualityOut.model_validate(quality_json(report))
