"""The application factory. Nothing is built at import time: ``create_app(settings)`` makes a new app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from realname import __version__
from realname.api.registry_routes import router as registry_router
from realname.api.routes import router
from realname.api.supervision_routes import router as supervision_router
from realname.config import Settings
from realname.engine.base import FaceEngine
from realname.errors import AuthError, CapExceededError, DocumentError, RealnameError
from realname.faces import FaceService
from realname.services.context import Services
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


class BodyLimit:
    """Refuses a request body over ``limit`` bytes before a route holds it: at once when Content-Length declares
    more, and while it is read when it arrives without one (chunked), so no body is ever buffered unbounded."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    def _message(self) -> str:
        return f"the request is over the {self.limit / 1e6:.1f} MB limit"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            refusal = JSONResponse({"error": {"code": "upload_too_large", "message": self._message()}},
                                   status_code=413)
            await refusal(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:  # raised inside the body read: the HTTP error handler answers 413
                    raise StarletteHTTPException(413, self._message())
            return message

        await self.app(scope, counted, send)


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

    app.add_middleware(BodyLimit, limit=settings.max_capture_bytes)

    @app.exception_handler(RealnameError)
    async def _realname_error(request: Request, exc: RealnameError) -> JSONResponse:
        # RFC 9110: a 401 names the scheme to authenticate with.
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthError) else None
        return JSONResponse(error_body(exc), status_code=exc.http_status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        code = "malformed_json" if first.get("type") == "json_invalid" else "bad_request"
        return JSONResponse({"error": {"code": code, "message": f"{where}: {first.get('msg', '')}"}},
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            # FastAPI answers a JSON body that is not UTF-8 with a generic 400; it is malformed JSON like any other.
            return JSONResponse({"error": {"code": "malformed_json", "message": "body: the JSON is not valid UTF-8"}},
                                status_code=422)
        code = HTTP_CODES.get(exc.status_code, "http_error")
        # Keep the exception's headers (a 405 carries Allow).
        return JSONResponse({"error": {"code": code, "message": str(exc.detail)}}, status_code=exc.status_code,
                            headers=exc.headers)

    app.include_router(router)
    app.include_router(registry_router)
    app.include_router(supervision_router)
    app.include_router(web_router)
    return app
