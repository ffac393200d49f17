"""Who is calling, and may they. Each secured route names one operation (``secured("registrations.create")``);
the roles allowed come from ``operators.auth.PERMISSIONS`` and are published in the OpenAPI document
(``x-roles``), so the documentation, the check and the role test read the same table."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from realname.api.limits import BodyKind
from realname.context import Actor, Services
from realname.operators.auth import PERMISSIONS, authenticate, require


async def get_services(request: Request) -> Services:
    # async: it only reads the app's state, so it needs no trip through the thread pool.
    svc: Services = request.app.state.services
    return svc


Svc = Annotated[Services, Depends(get_services)]


def secured(operation: str, body: BodyKind = "json") -> dict[str, Any]:
    """Decorator arguments for a route that performs ``operation`` and takes a request ``body`` of that kind
    (its size limit, :mod:`realname.api.limits`)."""
    roles = sorted(PERMISSIONS[operation])
    return {"openapi_extra": {"x-operation": operation, "x-roles": roles, "x-body": body},
            "description": f"Roles: {', '.join(roles)}."}


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def current_actor(request: Request, svc: Svc) -> Actor:
    actor = await run_in_threadpool(authenticate, svc, bearer(request))
    route = request.scope.get("route")
    operation = (getattr(route, "openapi_extra", None) or {}).get("x-operation")
    if operation is not None:
        require(actor, operation)
    return actor


Caller = Annotated[Actor, Depends(current_actor)]
