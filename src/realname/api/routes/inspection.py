"""Inspection under /v1/inspect: a period's counts and the audit chain's state, and the registrations as CSV."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from realname.api.params import Day, RequiredDay
from realname.api.registry_schemas import InspectionSummaryOut
from realname.api.schemas import V1_ERRORS
from realname.api.security import Caller, Svc, secured
from realname.supervision import inspection

router = APIRouter(prefix="/v1", responses=V1_ERRORS, tags=["inspection"])


@router.get("/inspect/summary", response_model=InspectionSummaryOut, **secured("inspect.read"))
def inspect_summary(svc: Svc, actor: Caller, start: Day = None, end: Day = None) -> InspectionSummaryOut:
    """Counts for a period (default: the last 30 days; at most 366) and the audit chain's state. Inspectors and
    auditors see every operator, an operator's administrator its own. Audited."""
    return InspectionSummaryOut.model_validate(asdict(inspection.summary(svc, actor, start, end)))


@router.get("/inspect/registrations.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a BOM, masked data"}},
            **secured("inspect.read"))
def inspect_registrations_csv(svc: Svc, actor: Caller, start: RequiredDay, end: RequiredDay) -> StreamingResponse:
    """The period's registrations as CSV (streamed; header in Chinese and English; masked data only). An export
    names its period: ``start`` and ``end`` are required (at most 366 days). Audited."""
    period, chunks = inspection.registrations_csv(svc, actor, start, end)
    name = f"registrations_{period.start.isoformat()}_{period.end.isoformat()}.csv"
    # A plain iterator: Starlette draws each chunk (a database read) in its thread pool.
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})
