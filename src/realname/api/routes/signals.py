"""Fraud signals under /v1/signals: what looks wrong in a period, with the evidence, and re-verification orders
for the numbers a signal concerns."""

from __future__ import annotations

from fastapi import APIRouter

from realname.api.params import RequiredDay
from realname.api.registry_schemas import ReverifyIn, SignalOut
from realname.api.schemas import V1_ERRORS
from realname.api.security import Caller, Svc, secured
from realname.supervision.period import Period
from realname.supervision.signals import Signal, find_signals, reverify_for

router = APIRouter(prefix="/v1", responses=V1_ERRORS, tags=["supervision"])


def _out(s: Signal) -> SignalOut:
    return SignalOut(kind=s.kind, subject=s.subject, summary=s.summary, evidence=s.evidence,
                     registrations=s.registrations)


@router.get("/signals", response_model=list[SignalOut], **secured("inspect.read"))
def signals(svc: Svc, actor: Caller, start: RequiredDay, end: RequiredDay) -> list[SignalOut]:
    """Fraud signals in the period with the evidence behind each."""
    return [_out(s) for s in find_signals(svc, actor, Period(start, end))]


@router.post("/signals/reverify", response_model=list[str], **secured("reverifications.order"))
def signals_reverify(body: ReverifyIn, svc: Svc, actor: Caller) -> list[str]:
    """Open re-verification orders (24 h deadline) for the numbers a signal concerns; returns the order ids."""
    return reverify_for(svc, actor, Signal(body.kind, "", body.summary, {}, body.registrations))
