"""Supervision routes under /v1: reports (JSON, CSV, PDF), evidence samples, fraud signals and compliance.
Thin: parse, call the service, shape the response. Every call is recorded in the audit chain by the service."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from realname.api.registry_routes import ERRORS, RequiredDay
from realname.api.security import Caller, Svc, secured
from realname.supervision import report_files
from realname.supervision.compliance import compliance
from realname.supervision.period import Period
from realname.supervision.reports import Scope, build_report, sample
from realname.supervision.signals import Signal, find_signals, reverify_for

router = APIRouter(prefix="/v1", responses=ERRORS)  # type: ignore[arg-type]
Code = Annotated[str | None, Query(max_length=64)]
MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


@router.get("/reports", tags=["supervision"], response_model=None,
            responses={200: {"content": {m: {} for m in MEDIA.values()}}}, **secured("reports.read"))
async def report(svc: Svc, actor: Caller, start: RequiredDay, end: RequiredDay, operator: Code = None,
                 outlet: Code = None, agent: Code = None,
                 format: Annotated[Literal["json", "csv", "pdf"], Query()] = "json") -> Response:
    """The supervision report for a period, optionally one operator, outlet or agent (codes / username)."""
    got = await run_in_threadpool(build_report, svc, actor, Period(start, end), Scope(operator, outlet, agent))
    render = {"json": report_files.to_json, "csv": report_files.to_csv, "pdf": report_files.to_pdf}[format]
    data = await run_in_threadpool(render, got)
    name = f"report_{start.isoformat()}_{end.isoformat()}.{format}"
    disposition = {} if format == "json" else {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(data, media_type=MEDIA[format], headers=disposition)


@router.get("/reports/sample", tags=["supervision"], response_model=list[dict[str, Any]],
            **secured("reports.read"))
async def report_sample(svc: Svc, actor: Caller, start: RequiredDay, end: RequiredDay,
                        size: Annotated[int, Query(ge=1, le=1000)] = 20, seed: int = 1, operator: Code = None,
                        outlet: Code = None, agent: Code = None) -> list[dict[str, Any]]:
    """A reproducible sample of registrations (same seed, same sample) with their evidence; no biometric data."""
    return await run_in_threadpool(sample, svc, actor, Period(start, end), size, seed, Scope(operator, outlet, agent))


class SignalOut(BaseModel):
    kind: str
    subject: str
    summary: str
    evidence: dict[str, Any]
    registrations: list[str]


def _out(s: Signal) -> SignalOut:
    return SignalOut(kind=s.kind, subject=s.subject, summary=s.summary, evidence=s.evidence,
                     registrations=s.registrations)


@router.get("/signals", tags=["supervision"], response_model=list[SignalOut], **secured("inspect.read"))
async def signals(svc: Svc, actor: Caller, start: RequiredDay, end: RequiredDay) -> list[SignalOut]:
    """Fraud signals in the period with the evidence behind each."""
    found = await run_in_threadpool(find_signals, svc, actor, Period(start, end))
    return [_out(s) for s in found]


class ReverifyIn(BaseModel):
    model_config = {"extra": "forbid", "strict": True}
    kind: str = Field(min_length=1, max_length=32)
    summary: str = Field(min_length=1, max_length=300)
    registrations: list[str] = Field(min_length=1, max_length=1000)


@router.post("/signals/reverify", tags=["supervision"], response_model=list[str],
             **secured("reverifications.order"))
async def signals_reverify(body: ReverifyIn, svc: Svc, actor: Caller) -> list[str]:
    """Open re-verification orders (24 h deadline) for the numbers a signal concerns; returns the order ids."""
    signal = Signal(body.kind, "", body.summary, {}, body.registrations)
    return await run_in_threadpool(reverify_for, svc, actor, signal)


@router.get("/compliance", tags=["supervision"], response_model=dict[str, Any], **secured("compliance.read"))
async def compliance_evidence(svc: Svc, actor: Caller) -> dict[str, Any]:
    """Face data vs the filing threshold, retention runs, key age, audit chain, consent coverage, settings."""
    got = await run_in_threadpool(compliance, svc, actor)
    return {**got.as_dict(), "problems": got.problems}
