"""The application factory. Nothing is built at import time: ``create_app(settings)`` makes a new app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException

from realname import __version__
from realname.api.kiosk_proof import DigestBody
from realname.api.limits import BodyLimit
from realname.api.params import BAD_INPUT_ERROR
from realname.api.routes import ROUTERS
from realname.config import Settings
from realname.context import Services
from realname.engine.base import FaceEngine
from realname.errors import AuthError, CapExceededError, DocumentError, RealnameError
from realname.faces import FaceService
from realname.operations import metrics
from realname.operations.requests import STATE_OUTCOME, RequestLog
from realname.web.routes import router as web_router

HTTP_CODES = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "upload_too_large", 415: "unsupported_media_type"}


def error_body(exc: RealnameError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if isinstance(exc, DocumentError):
        body.update(field=exc.field, rule=exc.rule, message_zh=exc.message_zh)
    if isinstance(exc, CapExceededError):
        body.update(cap=exc.cap, limit=exc.limit)
    return {"error": body}


def allowed_methods(request: Request) -> list[str]:
    """Every method some route at the request's path has, sorted. Starlette's 405 names only the first route
    whose path matched, so a path served by two routes (GET and POST /v1/admin/users) lost one (RFC 9110 15.5.6:
    Allow lists what the resource supports)."""
    path, root = request.scope.get("path", ""), request.scope.get("root_path", "")
    path = path[len(root):] if root and path.startswith(root) else path  # routes match without the root path
    found: set[str] = set()
    for ctx in iter_route_contexts(request.app.routes):
        regex = getattr(ctx, "path_regex", None)
        if ctx.methods and regex is not None and regex.match(path):
            found |= ctx.methods
    return sorted(found)


async def _publish_heads(svc: Services) -> None:
    """Sign a tree head of the audit log every ``log_head_seconds``; a failure is logged and retried next time
    (a missing log key, a database that is down), never fatal to the service."""
    from realname.supervision.transparency import publish_due

    every = svc.settings.log_head_seconds
    while True:
        await asyncio.sleep(every)
        try:
            await run_in_threadpool(publish_due, svc, every)
        except Exception:
            logging.getLogger("realname.audit").exception("could not publish a tree head of the audit log")


def create_app(settings: Settings | None = None, engine: FaceEngine | None = None,
               services: Services | None = None) -> FastAPI:
    settings = settings or Settings()
    faces = services.faces if services is not None else FaceService(settings, engine)
    svc = services or Services(settings, faces=faces)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Read the thresholds file and the keyring at start-up: a broken file should stop the service, not
        # the first customer.
        await run_in_threadpool(lambda: (app.state.faces.thresholds, svc.keyring))
        heads = asyncio.create_task(_publish_heads(svc)) if settings.log_head_seconds > 0 else None
        yield
        if heads is not None:
            heads.cancel()
        svc.db.dispose()
        metrics.process_exited()

    app = FastAPI(lifespan=lifespan, title="realname", version=__version__,
                  description="Real-name registration with live face verification")
    app.state.settings = settings
    app.state.faces = faces
    app.state.services = svc

    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(DigestBody)  # hashes what a kiosk proved, as the route reads it
    app.add_middleware(RequestLog)  # added last: outermost, it sees every request's final status
    metrics.watch_pool(svc.db.engine)

    @app.exception_handler(RealnameError)
    async def _realname_error(request: Request, exc: RealnameError) -> JSONResponse:
        # RFC 9110: a 401 names the scheme to authenticate with.
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthError) else None
        setattr(request.state, STATE_OUTCOME, exc.code)
        return JSONResponse(error_body(exc), status_code=exc.http_status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        code = "malformed_json" if first.get("type") == "json_invalid" else "bad_request"
        if first.get("type") == BAD_INPUT_ERROR:  # our own refusal from inside a validator: keep its code
            code = str(first.get("ctx", {}).get("code", code))
        setattr(request.state, STATE_OUTCOME, code)
        return JSONResponse({"error": {"code": code, "message": f"{where}: {first.get('msg', '')}"}},
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            # FastAPI answers a JSON body that is not UTF-8 with a generic 400; it is malformed JSON like any other.
            return JSONResponse({"error": {"code": "malformed_json", "message": "body: the JSON is not valid UTF-8"}},
                                status_code=422)
        code = HTTP_CODES.get(exc.status_code, "http_error")
        setattr(request.state, STATE_OUTCOME, code)
        headers = dict(exc.headers or {})
        if exc.status_code == 405 and (methods := allowed_methods(request)):
            headers["Allow"] = ", ".join(methods)
        return JSONResponse({"error": {"code": code, "message": str(exc.detail)}}, status_code=exc.status_code,
                            headers=headers)

    for router in ROUTERS:
        app.include_router(router)
    app.include_router(web_router)
    return app
