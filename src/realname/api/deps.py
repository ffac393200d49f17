"""Dependencies for the routes (FastAPI ``Annotated`` style)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, UploadFile

from realname.errors import ImageError, ImageTooLargeError
from realname.faces import FaceService
from realname.images import BGRImage


def get_service(request: Request) -> FaceService:
    service: FaceService = request.app.state.faces
    return service


Service = Annotated[FaceService, Depends(get_service)]


async def read_upload(service: FaceService, upload: UploadFile | None, field: str) -> BGRImage:
    """Read at most the size limit (plus one byte, to tell 'too large' apart) and decode."""
    if upload is None:
        raise ImageError(f"the multipart field {field!r} (an image file) is missing", code="missing_image")
    limit = service.settings.max_upload_bytes
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise ImageTooLargeError(f"{field} is over the {limit / 1e6:.1f} MB limit", code="upload_too_large")
    return service.decode(data, field)
