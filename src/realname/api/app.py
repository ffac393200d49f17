"""The application factory. Nothing is built at import time: ``create_app(settings)`` makes a new app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from realname import __version__
from realname.api.registry_routes import router as registry_router
from realname.api.routes import router
from realname.config import Settings
from realname.engine.base import FaceEngine
from realname.errors import CapExceededError, DocumentError, RealnameError
from realname.faces import FaceService
from realname.services.context import Services

HTTP_CODES = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "upload_too_large", 415: "unsupported_media_type"}


def error_body(exc: RealnameError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if isinstance(exc, DocumentError):
        body.update(field=exc.field, rule=exc.rule, message_zh=exc.message_zh)
    if isinstance(exc, CapExceededError):
        body.update(cap=exc.cap, limit=exc.limit)
    return {"error": body}


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
        yield
        svc.db.dispose()

    app = FastAPI(lifespan=lifespan, title="realname", version=__version__,
                  description="Real-name registration with live face verification")
    app.state.settings = settings
    app.state.faces = faces
    app.state.services = svc

    @app.middleware("http")
    async def _body_limit(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # Refuse an oversized body before reading it; the routes also count what they read (chunked uploads).
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > settings.max_capture_bytes:
            return JSONResponse({"error": {"code": "upload_too_large", "message":
                                 f"the request is over the {settings.max_capture_bytes / 1e6:.0f} MB limit"}},
                                status_code=413)
        return await call_next(request)

    @app.exception_handler(RealnameError)
    async def _realname_error(request: Request, exc: RealnameError) -> JSONResponse:
        return JSONResponse(error_body(exc), status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        code = "malformed_json" if first.get("type") == "json_invalid" else "bad_request"
        return JSONResponse({"error": {"code": code, "message": f"{where}: {first.get('msg', '')}"}},
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse({"error": {"code": code, "message": str(exc.detail)}}, status_code=exc.status_code)

    app.include_router(router)
    app.include_router(registry_router)
    return app
