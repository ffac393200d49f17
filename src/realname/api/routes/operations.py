"""Probes and metrics for the platform that runs the service: ``/readyz`` (may this process get traffic?) and
``/metrics`` (Prometheus text, only with the metrics token). Not in the OpenAPI document: they are for the
platform, not for API clients."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from realname.api.security import Svc, bearer
from realname.errors import AuthError, NotFoundError
from realname.operations import metrics, readiness

router = APIRouter()


@router.get("/readyz", include_in_schema=False)
def readyz(svc: Svc) -> JSONResponse:
    parts = readiness.check(svc)
    ready = all(p.ok for p in parts)
    body = {"status": "ready" if ready else "not_ready", "failing": [p.name for p in parts if not p.ok],
            "parts": {p.name: {"ok": p.ok, "detail": p.detail} for p in parts}}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics_text(request: Request, svc: Svc) -> Response:
    token = svc.settings.metrics_token
    if token is None:  # no token configured: the route is not there
        raise NotFoundError("not found")
    given = bearer(request) or ""
    if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise AuthError("the metrics need the metrics token (Authorization: Bearer ...)", code="not_authenticated")
    body = await run_in_threadpool(metrics.render, svc)
    return Response(body, media_type=metrics.CONTENT_TYPE)
