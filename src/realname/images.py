"""Decoding untrusted image bytes into the BGR uint8 arrays the face engine works on.

Checks happen cheapest first: byte size, then the header's pixel count (before any pixel is decoded),
then a full decode. Every odd format the wild sends (16-bit, alpha, CMYK, palette, grey, EXIF rotation)
is normalised here so that nothing downstream has to care.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from realname.errors import ImageError, ImageTooLargeError

BGRImage = npt.NDArray[np.uint8]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000


def image_size(
    data: bytes,
    *,
    name: str = "image",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[int, int]:
    """Width and height from the header, with the byte and pixel limits checked: nothing is decoded.

    A capture's frames are all sized this way before the first one is decoded, so a few kilobytes that declare
    tens of megapixels cost nothing."""
    with _opened(data, name, max_bytes, max_pixels) as img:
        return img.size


def decode_image(
    data: bytes,
    *,
    name: str = "image",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> BGRImage:
    """Decode ``data`` into an upright 8-bit BGR image, or raise an :class:`ImageError` naming ``name``."""
    with _opened(data, name, max_bytes, max_pixels) as img:
        try:
            img.load()
            upright: Image.Image = ImageOps.exif_transpose(img) or img
        except (OSError, ValueError, SyntaxError) as exc:
            raise ImageError(f"{name} is damaged or truncated ({exc})", code="truncated_image") from None
        return _to_bgr8(upright)


def _opened(data: bytes, name: str, max_bytes: int, max_pixels: int) -> Image.Image:
    """The image with only its header read, after the byte limit and before the pixel limit is let through."""
    if not data:
        raise ImageError(f"{name} is empty (0 bytes)", code="empty_image")
    if len(data) > max_bytes:
        raise ImageTooLargeError(
            f"{name} is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB",
            code="upload_too_large",
        )
    try:
        with warnings.catch_warnings():
            # Our own pixel limit below replaces PIL's decompression-bomb warning.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not an image in a known format (JPEG, PNG, BMP, WebP, TIFF, PGM)",
                         code="not_an_image") from None
    except Image.DecompressionBombError:
        # PIL refuses headers past twice its own pixel limit before we can read the size ourselves.
        raise ImageTooLargeError(f"{name} has far more than {max_pixels / 1e6:.0f} megapixels",
                                 code="too_many_pixels") from None
    except (OSError, ValueError) as exc:
        raise ImageError(f"{name} could not be read: {exc}", code="not_an_image") from None
    width, height = img.size
    if width * height > max_pixels:
        img.close()
        raise ImageTooLargeError(
            f"{name} is {width}x{height} = {width * height / 1e6:.1f} megapixels; "
            f"the limit is {max_pixels / 1e6:.1f} megapixels",
            code="too_many_pixels",
        )
    if width < 8 or height < 8:
        img.close()
        raise ImageError(f"{name} is only {width}x{height} pixels", code="image_too_small")
    return img


def read_image(path: str | Path, **limits: int) -> BGRImage:
    """Read a file from disk with the same checks as an upload."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ImageError(f"{p}: no such file", code="file_not_found") from None
    except IsADirectoryError:
        raise ImageError(f"{p} is a directory, not an image", code="not_an_image") from None
    except OSError as exc:
        raise ImageError(f"{p} cannot be read: {exc.strerror}", code="file_unreadable") from None
    return decode_image(data, name=str(p), **limits)


def _to_bgr8(img: Image.Image) -> BGRImage:
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16/32-bit grey: stretch the values actually used into 0..255 (works for 12-bit sensors too).
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        grey = ((arr - lo) * scale).clip(0, 255).astype(np.uint8)
        rgb = np.stack([grey, grey, grey], axis=-1)
    else:
        if mode == "P" or mode in ("LA", "PA", "RGBA", "La", "RGBa"):
            rgba = img.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img = Image.alpha_composite(background, rgba)
        rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    return bgr
