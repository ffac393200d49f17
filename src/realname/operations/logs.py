"""Structured logs: one JSON object per line on stderr, with ids, codes and timings, never personal data.

What may be logged is decided here, once: a record's message (our own messages are constant strings), the fields
a caller passes explicitly (``extra={"fields": {...}}``: ids, codes, numbers), and for an exception its type and
where it was raised. An exception's *message* is never written: messages of parsers, validators and libraries
echo their input (a document number, a name), and a 500 once put part of an ID number into the log that way.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import traceback
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming request id is kept only when it is short and plain (a proxy's UUID or trace id); anything else
# (free text, which could carry anything) is replaced by a new one.
# Only a random UUID (what gateways and load balancers send) is kept: a free-form id could carry an ID number
# or a phone number into every log line of the request.
_SAFE_REQUEST_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_TRACE_FRAMES = 12  # enough to find the fault; the frames are file:line and function names only

log = logging.getLogger("realname")


def request_id(incoming: str | None) -> str:
    """The caller's request id when it is a random UUID, else a new one."""
    if incoming and _SAFE_REQUEST_ID.fullmatch(incoming.lower()):
        return incoming.lower()
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "event", ...fields, "exc_type", "exc_where"}``: no exception message, no
    traceback text (its last line is the message)."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            doc.update(fields)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            doc["exc_type"] = f"{type(exc).__module__}.{type(exc).__qualname__}"
            frames = traceback.extract_tb(exc.__traceback__)[-_TRACE_FRAMES:]
            doc["exc_where"] = [f"{f.filename}:{f.lineno} {f.name}" for f in frames]
        return json.dumps(doc, ensure_ascii=False, default=str)


def configure(level: int = logging.INFO) -> None:
    """JSON lines on stderr for every logger, uvicorn's included (they propagate to the root). Call once, in the
    process that serves (``realname serve``), before the server starts."""
    # A stream of its own on a copy of fd 2: realname.engine.quiet points fd 2 at /dev/null while a native
    # library loads, and log lines from other threads at that moment must still be written.
    stream = os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1, encoding="utf-8", errors="replace")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
    # uvicorn's access line has the raw path with its query string (a search by document number would be
    # logged); the request log of realname.operations.requests replaces it with the route template.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the readiness probe's migration check, every poll


def event(name: str, level: int = logging.INFO, *, exc: BaseException | None = None, **fields: Any) -> None:
    """Log ``name`` with ``fields`` (ids, codes, numbers only: the caller vouches for that)."""
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    log.log(level, name, extra={"fields": fields}, exc_info=exc_info)
