"""Each HTTP request measured once: its request id (X-Request-ID, echoed in the response), the route template,
the caller's role and ids, the status, the outcome code and the duration; then one log line and the request
metrics. An exception no handler took becomes a 500 here, logged by type and place only (never its message), and
is not passed on: uvicorn would print it with its message."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from realname.operations import logs, metrics

STATE_ACTOR = "actor"  # request.state.actor: the authenticated caller (realname.context.Actor)
STATE_OUTCOME = "outcome"  # request.state.outcome: the error code an exception handler answered with
STATE_REQUEST_ID = "request_id"
_ACTOR_FIELDS = ("user_id", "operator_id", "outlet_id", "kiosk_id")


def route_of(scope: Scope) -> str:
    """The matched route's template (``/v1/verifications/{verification_id}``), never the raw path: bounded label
    values for the metrics, and no ids or search terms in the path of a log line. A request answered before
    routing (a body over its limit) is matched here."""
    path = getattr(scope.get("route"), "path", None)
    if not path:
        app = scope.get("app")
        for route in getattr(getattr(app, "router", None), "routes", ()):
            if route.matches(scope)[0] != Match.NONE:
                path = getattr(route, "path", None)
                break
    return str(path) if path else "unmatched"


def caller_fields(state: dict[str, Any]) -> dict[str, Any]:
    actor = state.get(STATE_ACTOR)
    if actor is None:
        return {"role": None}
    return {"role": actor.role, **{k: getattr(actor, k) for k in _ACTOR_FIELDS if getattr(actor, k) is not None}}


class RequestLog:
    """Pure ASGI middleware (outermost of the app's own), so it sees the final status of every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v.decode("latin-1") for k, v in scope.get("headers", ())
                         if k == logs.REQUEST_ID_HEADER.lower().encode()), None)
        rid = logs.request_id(incoming)
        state: dict[str, Any] = scope.setdefault("state", {})
        state[STATE_REQUEST_ID] = rid
        start = time.perf_counter()
        status, started = 500, False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = int(message["status"]), True
                message = {**message, "headers": [*message.get("headers", ()),
                                                  (logs.REQUEST_ID_HEADER.lower().encode(), rid.encode())]}
            await send(message)

        failure: Exception | None = None
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            failure = exc
            if not started:
                body = json.dumps({"error": {"code": "internal_error", "message": f"internal error; request id "
                                                                                   f"{rid}"}}).encode()
                await send_with_id({"type": "http.response.start", "status": 500, "headers": [
                    (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
                await send_with_id({"type": "http.response.body", "body": body})
        seconds = time.perf_counter() - start
        route, method = route_of(scope), scope.get("method", "")
        outcome = "internal_error" if failure is not None else state.get(STATE_OUTCOME) or (
            "ok" if status < 400 else f"http_{status}")
        fields = {"request_id": rid, "method": method, "route": route, "status": status, "outcome": outcome,
                  "duration_ms": round(seconds * 1000, 1), **caller_fields(state)}
        if failure is not None:
            logs.event("unhandled_error", logging.ERROR, exc=failure, **fields)
        logs.event("request", logging.WARNING if status >= 500 else logging.INFO, **fields)
        metrics.count_request(method, route, status, seconds)
