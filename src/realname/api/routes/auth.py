"""Logging in and out, and who is logged in (/v1/auth, /v1/me)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from realname.api.registry_schemas import LoginIn, LoginOut, UserOut
from realname.api.schemas import V1_ERRORS
from realname.api.security import Caller, Svc, bearer
from realname.context import Actor
from realname.errors import LoginThrottledError
from realname.operators import admin, auth

router = APIRouter(prefix="/v1", responses=V1_ERRORS, tags=["access"])


def _user(actor: Actor) -> UserOut:
    return UserOut(username=actor.username, role=actor.role, operator_id=actor.operator_id,
                   outlet_id=actor.outlet_id)


@router.post("/auth/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, svc: Svc) -> LoginOut | JSONResponse:
    """Throttled per username and per client address (429 ``too_many_logins`` with Retry-After). The address is
    the TCP peer's: behind a reverse proxy, the proxy's (its limit then covers everyone behind it)."""
    client = request.client.host if request.client else None
    try:
        token, expires, actor = auth.login(svc, body.username, body.password, client=client)
    except LoginThrottledError as exc:
        return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=exc.http_status,
                            headers={"Retry-After": str(exc.retry_after)})
    return LoginOut(token=token, expires_at=expires, user=_user(actor))


@router.post("/auth/logout", status_code=204)
def logout(request: Request, svc: Svc, actor: Caller) -> None:
    auth.logout(svc, bearer(request) or "")


@router.get("/me", response_model=UserOut)
def me(svc: Svc, actor: Caller) -> UserOut:
    """Who is logged in, with the operator's name and the outlet's code and name (shown on every kiosk page)."""
    return _user(actor).model_copy(update=admin.workplace(svc, actor))
