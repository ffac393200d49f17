"""Who is calling, and may they. Each secured route names one operation (``secured("registrations.create")``);
the roles allowed come from ``operators.auth.PERMISSIONS`` and are published in the OpenAPI document
(``x-roles``), so the documentation, the check and the role test read the same table."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from realname.api.kiosk_proof import ASSERTION_HEADER, NONCE_HEADER, body_sha256
from realname.api.limits import BodyKind
from realname.context import Actor, Services
from realname.operators.auth import PERMISSIONS, authenticate, require
from realname.operators.kiosks import KioskProof, prove_request


async def get_services(request: Request) -> Services:
    # async: it only reads the app's state, so it needs no trip through the thread pool.
    svc: Services = request.app.state.services
    return svc


Svc = Annotated[Services, Depends(get_services)]


def secured(operation: str, body: BodyKind = "json", *, kiosk: bool = False) -> dict[str, Any]:
    """Decorator arguments for a route that performs ``operation`` and takes a request ``body`` of that kind
    (its size limit, :mod:`realname.api.limits`). ``kiosk``: a state-changing step of a verification, which an
    enrolled kiosk proves (X-Kiosk-Nonce, X-Kiosk-Assertion) when the operator requires it."""
    roles = sorted(PERMISSIONS[operation])
    extra: dict[str, Any] = {"x-operation": operation, "x-roles": roles, "x-body": body}
    note = ""
    if kiosk:
        extra["x-kiosk"] = True
        note = " An enrolled kiosk's proof (X-Kiosk-Nonce, X-Kiosk-Assertion) when the operator requires one."
    return {"openapi_extra": extra, "description": f"Roles: {', '.join(roles)}.{note}"}


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def current_actor(request: Request, svc: Svc) -> Actor:
    actor = await run_in_threadpool(authenticate, svc, bearer(request))
    request.state.actor = actor  # for the request's log line (realname.operations.requests): ids and role only
    route = request.scope.get("route")
    extra = getattr(route, "openapi_extra", None) or {}
    operation = extra.get("x-operation")
    if operation is not None:
        require(actor, operation)
    if extra.get("x-kiosk"):
        # FastAPI has read the route's body by now, so its digest is complete; nothing has been changed yet.
        proof = KioskProof.from_headers(request.headers.get(NONCE_HEADER), request.headers.get(ASSERTION_HEADER))
        digest = await body_sha256(request) if proof is not None else b""
        kiosk_id = await run_in_threadpool(lambda: prove_request(svc, actor, proof, method=request.method,
                                                                 path=request.url.path, body_sha256=digest))
        actor = replace(actor, kiosk_id=kiosk_id)
        request.state.actor = actor
    return actor


Caller = Annotated[Actor, Depends(current_actor)]
