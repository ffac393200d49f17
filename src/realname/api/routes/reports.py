"""Supervision reports under /v1/reports: a period's report (JSON, CSV or PDF) for the whole service or one
operator, outlet or agent, and a reproducible sample of registrations with their evidence. Every call is recorded
in the audit chain by the use case."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from realname.api.params import RequiredDay
from realname.api.schemas import V1_ERRORS
from realname.api.security import Caller, Svc, secured
from realname.supervision import report_files
from realname.supervision.period import Period
from realname.supervision.reports import Scope, build_report, sample

router = APIRouter(prefix="/v1", responses=V1_ERRORS, tags=["supervision"])
Code = Annotated[str | None, Query(max_length=64)]
MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}
RENDER = {"json": report_files.to_json, "csv": report_files.to_csv, "pdf": report_files.to_pdf}


@router.get("/reports", response_model=None, responses={200: {"content": {m: {} for m in MEDIA.values()}}},
            **secured("reports.read"))
def report(svc: Svc, actor: Caller, start: RequiredDay, end: RequiredDay, operator: Code = None,
           outlet: Code = None, agent: Code = None, kiosk: Code = None,
           format: Annotated[Literal["json", "csv", "pdf"], Query()] = "json") -> Response:
    """The supervision report for a period, optionally one operator, outlet, agent or enrolled kiosk (codes /
    username / kiosk id)."""
    got = build_report(svc, actor, Period(start, end), Scope(operator, outlet, agent, kiosk))
    name = f"report_{start.isoformat()}_{end.isoformat()}.{format}"
    disposition = {} if format == "json" else {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(RENDER[format](got), media_type=MEDIA[format], headers=disposition)


@router.get("/reports/sample", response_model=list[dict[str, Any]], **secured("reports.read"))
def report_sample(svc: Svc, actor: Caller, start: RequiredDay, end: RequiredDay,
                  size: Annotated[int, Query(ge=1, le=1000)] = 20, seed: int = 1, operator: Code = None,
                  outlet: Code = None, agent: Code = None) -> list[dict[str, Any]]:
    """A reproducible sample of registrations (same seed, same sample) with their evidence; no biometric data."""
    return sample(svc, actor, Period(start, end), size, seed, Scope(operator, outlet, agent))
