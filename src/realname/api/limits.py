"""How large a request body may be, decided per route before the route reads a byte of it.

Each route declares the kind of body it takes (``secured(..., body="capture")``, published in the OpenAPI
document as ``x-body``); anything undeclared is a small JSON body. A route that takes more than that (images,
the portrait, a capture) also needs a valid login before its body is read, so nobody can make the service buffer
megabytes anonymously. The limit is enforced at once when ``Content-Length`` declares more, and while the body
arrives when it comes without one (chunked).
"""

from __future__ import annotations

import re
from typing import Literal

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from realname.config import Settings
from realname.context import Services
from realname.errors import AuthError
from realname.operators.auth import authenticate

BodyKind = Literal["json", "open", "upload", "capture"]
_MULTIPART_OVERHEAD = 64 * 1024


def body_limit(settings: Settings, kind: BodyKind) -> int:
    """Bytes a body of ``kind`` may have."""
    if kind == "open":  # the card and consent as JSON, with the portrait in base64
        return settings.max_json_bytes + settings.max_portrait_bytes * 4 // 3
    if kind == "upload":  # up to two images (compare), or one CSV
        return 2 * settings.max_upload_bytes + _MULTIPART_OVERHEAD
    if kind == "capture":
        return settings.max_capture_bytes
    return settings.max_json_bytes


_Table = list[tuple[re.Pattern[str], frozenset[str], BodyKind]]


def body_table(app: FastAPI) -> _Table:
    """(path pattern, methods, body kind) of every route that declares a larger body than JSON."""
    table: _Table = []
    for ctx in iter_route_contexts(app.routes):
        kind = (getattr(ctx, "openapi_extra", None) or {}).get("x-body", "json")
        regex = getattr(ctx, "path_regex", None)
        if kind != "json" and regex is not None and ctx.methods:
            table.append((regex, frozenset(ctx.methods), kind))
    return table


def route_body(table: _Table, scope: Scope) -> BodyKind:
    """The body kind the route that will serve this request declares."""
    for regex, methods, kind in table:
        if scope["method"] in methods and regex.match(scope["path"]):
            return kind
    return "json"


def _bearer(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class BodyLimit:
    """ASGI middleware: the per-route size limit, and the login check before a large body is read."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._table: _Table | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._table is None:  # the app's routes are all in place by its first request
            self._table = body_table(scope["app"])
        kind = route_body(self._table, scope)
        limit = body_limit(self.settings, kind)
        headers = Headers(scope=scope)
        message = f"the request is over the {limit / 1e6:.1f} MB limit of this route"
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            scope.setdefault("state", {})["outcome"] = "upload_too_large"  # for the request's log line
            await JSONResponse({"error": {"code": "upload_too_large", "message": message}}, status_code=413)(
                scope, receive, send)
            return
        if kind != "json":
            svc: Services = scope["app"].state.services
            try:
                await run_in_threadpool(authenticate, svc, _bearer(headers))
            except AuthError as exc:
                scope.setdefault("state", {})["outcome"] = exc.code
                await JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=401,
                                   headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
                return
        received = 0

        async def counted() -> Message:
            nonlocal received
            got = await receive()
            if got["type"] == "http.request":
                received += len(got.get("body", b""))
                if received > limit:  # raised inside the body read: the HTTP error handler answers 413
                    raise StarletteHTTPException(413, message)
            return got

        await self.app(scope, counted, send)
