"""The body a kiosk proved: a sha256 of the exact request bytes, computed as they stream in.

A kiosk's WebAuthn assertion covers the sha256 of the body it sent (:mod:`realname.operators.kiosks`). This
middleware hashes the body while the route reads it, chunk by chunk (a capture is never held twice in memory), for
requests that carry a kiosk proof; the caller's dependency (:func:`realname.api.security.current_actor`) then
checks the assertion against that digest once the route's body has been read.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SCOPE_KEY = "realname.body_digest"
NONCE_HEADER, ASSERTION_HEADER = "x-kiosk-nonce", "x-kiosk-assertion"


class BodyDigest:
    """The running sha256 of one request's body; ``complete`` once the last chunk has passed."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.complete = False

    def update(self, message: Message) -> None:
        if message["type"] == "http.request":
            self._hash.update(message.get("body", b""))
            self.complete = not message.get("more_body", False)

    def digest(self) -> bytes:
        return self._hash.digest()


class DigestBody:
    """ASGI middleware: hash the body of requests that carry a kiosk proof, as the app reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not any(name == ASSERTION_HEADER.encode() for name, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        digest = BodyDigest()
        scope[SCOPE_KEY] = digest

        async def hashing_receive() -> Message:
            message = await receive()
            digest.update(message)
            return message

        await self.app(scope, hashing_receive, send)


async def body_sha256(request: Request) -> bytes:
    """The sha256 of the whole body; reads what the route left unread (a route without a body parameter)."""
    digest: Any = request.scope.get(SCOPE_KEY)
    if digest is None:  # no proof header: nothing was hashed, and nothing needs to be
        return hashlib.sha256(await request.body()).digest()
    if not digest.complete:
        async for _ in request.stream():
            pass
    assert isinstance(digest, BodyDigest)
    return digest.digest()
