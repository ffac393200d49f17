"""Dependencies for the routes (FastAPI ``Annotated`` style), and reading uploads within their size limits.

The upload readers block (the file may have been spooled to disk, and decoding is CPU work): they are for plain
``def`` routes, which FastAPI runs in its thread pool, never for an ``async def`` one."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, UploadFile

from realname.errors import ImageError, ImageTooLargeError
from realname.faces import FaceService
from realname.images import BGRImage


async def get_service(request: Request) -> FaceService:
    # async: it only reads the app's state, so it needs no trip through the thread pool.
    service: FaceService = request.app.state.faces
    return service


Service = Annotated[FaceService, Depends(get_service)]


def read_limited(upload: UploadFile, limit: int, field: str) -> bytes:
    """At most ``limit`` bytes of an upload: one byte more is read to tell 'too large' apart, never the rest."""
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise ImageTooLargeError(f"{field} is over the {limit / 1e6:.1f} MB limit", code="upload_too_large")
    return data


def read_image(service: FaceService, upload: UploadFile | None, field: str) -> BGRImage:
    """An uploaded image within the size limit, decoded."""
    if upload is None:
        raise ImageError(f"the multipart field {field!r} (an image file) is missing", code="missing_image")
    return service.decode(read_limited(upload, service.settings.max_upload_bytes, field), field)
