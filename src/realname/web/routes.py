"""Pages and their static files. Everything the browser loads comes from this package (no CDN, no build step);
the pages' Content-Security-Policy says so to the browser too: scripts, styles, fonts and images from this origin
only (plus the camera stream and blob: URLs for the captured frames and the portrait preview)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from realname import reasons
from realname.errors import NotFoundError

STATIC = Path(str(files("realname.web") / "static"))
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon",
         ".json": "application/json"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' blob: mediastream:; connect-src 'self'; font-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
PAGE_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
                "Cache-Control": "no-store"}

router = APIRouter(include_in_schema=False)


def _page(name: str) -> Response:
    return FileResponse(STATIC / name, media_type=TYPES[".html"], headers=PAGE_HEADERS)


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/kiosk", status_code=307)


@router.api_route("/kiosk", methods=["GET", "HEAD"])
async def kiosk() -> Response:
    return _page("kiosk.html")


@router.api_route("/office", methods=["GET", "HEAD"])
async def office() -> Response:
    return _page("office.html")


def _served() -> dict[str, Path]:
    """The files static/ serves, by their name in the URL: no dot-files, known types only, nothing a link leads
    out of the folder to. Listed per request (a dozen files), so an edited or added file is served at once."""
    root = STATIC.resolve()
    found = {p.relative_to(STATIC): p for p in STATIC.rglob("*")
             if p.is_file() and p.suffix in TYPES and p.resolve().is_relative_to(root)}
    return {name.as_posix(): p for name, p in found.items() if not any(part.startswith(".") for part in name.parts)}


@router.api_route("/static/reasons.json", methods=["GET", "HEAD"])
def reason_texts(request: Request) -> Response:  # plain def: the first call reads the file
    """The catalogue of reason and hint texts (:mod:`realname.reasons`), the one the server's own texts come from,
    for i18n.js. Declared before the folder's route, which it shadows. Revalidated like the static files, but with
    a content ETag, so an unchanged catalogue costs a 304."""
    data, etag = reasons.raw(), reasons.etag()
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache", "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    body = b"" if request.method == "HEAD" else data
    return Response(body, media_type=TYPES[".json"], headers={**headers, "Content-Length": str(len(data))})


@router.api_route("/static/{name:path}", methods=["GET", "HEAD"])
def static(name: str) -> Response:  # plain def: it lists the folder on disk (in the thread pool)
    """A file under static/ and nothing else. The name is looked up among the files there, never handed to the
    file system: a NUL byte, an over-long name, backslashes or a way out of the folder are simply not found."""
    path = _served().get(name)
    if path is None:
        raise NotFoundError("no such file")
    return FileResponse(path, media_type=TYPES[path.suffix],
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"})
