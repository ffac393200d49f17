"""The application factory. Nothing is built at import time: ``create_app(settings)`` makes a new app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from realname import __version__
from realname.api.routes import router
from realname.config import Settings
from realname.engine.base import FaceEngine
from realname.errors import RealnameError
from realname.faces import FaceService


def create_app(settings: Settings | None = None, engine: FaceEngine | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Read the thresholds file at start-up: a broken file should stop the service, not the first customer.
        await run_in_threadpool(lambda: app.state.faces.thresholds)
        yield

    app = FastAPI(lifespan=lifespan, title="realname", version=__version__,
                  description="Real-name registration with live face verification")
    app.state.settings = settings
    app.state.faces = FaceService(settings, engine)

    @app.exception_handler(RealnameError)
    async def _realname_error(request: Request, exc: RealnameError) -> JSONResponse:
        return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse({"error": {"code": "bad_request", "message": f"{where}: {first.get('msg', '')}"}},
                            status_code=422)

    app.include_router(router)
    return app
