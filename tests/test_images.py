"""decode_image / read_image: bad input gives a typed ImageError with a stable code, odd formats come out
as upright 8-bit 3-channel BGR."""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from realname.errors import ImageError, ImageTooLargeError
from realname.images import decode_image, read_image

# BGR colours as decode_image returns them.
RED_BGR = (0, 0, 255)
WHITE_BGR = (255, 255, 255)


def encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def noise(h: int = 64, w: int = 64, seed: int = 0) -> Image.Image:
    """Incompressible content, so half the file is really half the pixel data."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height RGB pixels but which carries almost no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\0" * 16)) + png_chunk(b"IEND", b""))


def assert_bgr8(arr: np.ndarray, height: int, width: int) -> None:
    assert isinstance(arr, np.ndarray)
    assert arr.dtype == np.uint8
    assert arr.shape == (height, width, 3)
    assert arr.flags["C_CONTIGUOUS"]


def expect_error(data: bytes, code: str, cls: type[ImageError] = ImageError, **limits: int) -> ImageError:
    with pytest.raises(cls) as info:
        decode_image(data, **limits)
    assert info.value.code == code
    assert info.value.message  # a sentence for the caller, never empty
    return info.value


# --- bad input -------------------------------------------------------------------------------------------

def test_empty_bytes() -> None:
    err = expect_error(b"", "empty_image")
    assert not isinstance(err, ImageTooLargeError)


def test_random_bytes_are_not_an_image() -> None:
    data = np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    expect_error(data, "not_an_image")


def test_text_is_not_an_image() -> None:
    expect_error(b"name,phone\nAlice,+1 555 0100\n" * 20, "not_an_image")


def test_name_appears_in_message() -> None:
    with pytest.raises(ImageError, match=r"selfie\.jpg"):
        decode_image(b"hello", name="selfie.jpg")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_file(fmt: str) -> None:
    data = encode(noise(), fmt)
    err = expect_error(data[: len(data) // 2], "truncated_image")
    assert not isinstance(err, ImageTooLargeError)


def test_upload_over_max_bytes() -> None:
    data = encode(noise(16, 16), "PNG")
    assert len(data) > 200
    err = expect_error(data, "upload_too_large", ImageTooLargeError, max_bytes=200)
    assert err.http_status == 413
    # Exactly at the limit is allowed.
    assert_bgr8(decode_image(data, max_bytes=len(data)), 16, 16)


def test_too_many_pixels_refused_from_header() -> None:
    data = png_claiming(10_000, 10_000)
    assert len(data) < 200
    start = time.perf_counter()
    err = expect_error(data, "too_many_pixels", ImageTooLargeError)
    assert time.perf_counter() - start < 0.5  # a full decode of 100 MP RGB would take far longer
    assert "10000x10000" in err.message


def test_too_many_pixels_with_small_limit() -> None:
    data = encode(noise(40, 40), "PNG")
    expect_error(data, "too_many_pixels", ImageTooLargeError, max_pixels=1599)
    assert_bgr8(decode_image(data, max_pixels=1600), 40, 40)


def test_huge_header_is_too_many_pixels_not_unreadable() -> None:
    expect_error(png_claiming(30_000, 30_000), "too_many_pixels", ImageTooLargeError)


def test_huge_header_still_gives_typed_error() -> None:
    with pytest.raises(ImageError):
        decode_image(png_claiming(30_000, 30_000))


@pytest.mark.parametrize(("w", "h"), [(7, 20), (20, 7), (1, 1)])
def test_image_too_small(w: int, h: int) -> None:
    expect_error(encode(Image.new("RGB", (w, h), "red"), "PNG"), "image_too_small")


def test_eight_pixels_is_enough() -> None:
    assert_bgr8(decode_image(encode(Image.new("RGB", (8, 8), "red"), "PNG")), 8, 8)


# --- odd formats -----------------------------------------------------------------------------------------

def test_rgb_png_becomes_bgr() -> None:
    img = Image.new("RGB", (12, 10), (10, 20, 30))
    out = decode_image(encode(img, "PNG"))
    assert_bgr8(out, 10, 12)
    assert tuple(out[0, 0]) == (30, 20, 10)


def test_16bit_grey_png() -> None:
    values = (np.arange(20 * 16, dtype=np.uint16).reshape(20, 16) * 150 + 1000).astype(np.uint16)
    img = Image.fromarray(values)
    data = encode(img, "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    out = decode_image(data)
    assert_bgr8(out, 20, 16)
    # Used range stretched to 0..255, grey (all channels equal), order preserved.
    assert out.min() == 0
    assert out.max() == 255
    assert (out[..., 0] == out[..., 1]).all()
    assert (out[..., 1] == out[..., 2]).all()
    assert (np.diff(out[..., 0].ravel().astype(int)) >= 0).all()


def test_flat_16bit_grey_does_not_divide_by_zero() -> None:
    img = Image.fromarray(np.full((10, 10), 4000, dtype=np.uint16))
    out = decode_image(encode(img, "PNG"))
    assert_bgr8(out, 10, 10)


def test_8bit_grey() -> None:
    img = Image.new("L", (10, 9), 77)
    out = decode_image(encode(img, "PNG"))
    assert_bgr8(out, 9, 10)
    assert (out == 77).all()


def test_grey_alpha_transparent_is_white() -> None:
    img = Image.new("LA", (10, 10), (50, 0))
    img.paste((50, 255), (0, 0, 5, 10))
    data = encode(img, "PNG")
    assert Image.open(io.BytesIO(data)).mode == "LA"
    out = decode_image(data)
    assert_bgr8(out, 10, 10)
    assert (out[:, :5] == 50).all()
    assert (out[:, 5:] == 255).all()


def test_rgba_transparent_is_white() -> None:
    img = Image.new("RGBA", (10, 10), (0, 255, 0, 0))  # transparent green
    img.paste((255, 0, 0, 255), (0, 0, 5, 10))  # opaque red on the left
    out = decode_image(encode(img, "PNG"))
    assert_bgr8(out, 10, 10)
    assert (out[:, :5] == RED_BGR).all()
    assert (out[:, 5:] == WHITE_BGR).all()


def test_palette_png() -> None:
    img = Image.new("RGB", (12, 10), (255, 0, 0))
    img.paste((0, 0, 255), (6, 0, 12, 10))
    pal = img.convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    data = encode(pal, "PNG")
    assert Image.open(io.BytesIO(data)).mode == "P"
    out = decode_image(data)
    assert_bgr8(out, 10, 12)
    assert (out[:, :6] == RED_BGR).all()
    assert (out[:, 6:] == (255, 0, 0)).all()  # blue in BGR


def test_palette_png_with_transparent_index_is_white() -> None:
    img = Image.new("P", (10, 10), 1)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * (254 * 3))
    img.paste(0, (5, 0, 10, 10))
    out = decode_image(encode(img, "PNG", transparency=0))
    assert_bgr8(out, 10, 10)
    assert (out[:, :5] == RED_BGR).all()
    assert (out[:, 5:] == WHITE_BGR).all()


def test_cmyk_jpeg() -> None:
    img = Image.new("CMYK", (16, 12), (255, 0, 0, 0))  # pure cyan
    data = encode(img, "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    out = decode_image(data)
    assert_bgr8(out, 12, 16)
    b, g, r = (int(v) for v in out[6, 8])
    assert b > 200
    assert g > 200
    assert r < 50


def test_one_bit() -> None:
    img = Image.new("1", (16, 8), 0)
    img.paste(1, (0, 0, 8, 8))
    data = encode(img, "PNG")
    assert Image.open(io.BytesIO(data)).mode == "1"
    out = decode_image(data)
    assert_bgr8(out, 8, 16)
    assert (out[:, :8] == 255).all()
    assert (out[:, 8:] == 0).all()


def test_float_tiff() -> None:
    values = np.linspace(-3.5, 12.25, 9 * 11, dtype=np.float32).reshape(9, 11)
    data = encode(Image.fromarray(values), "TIFF")
    assert Image.open(io.BytesIO(data)).mode == "F"
    out = decode_image(data)
    assert_bgr8(out, 9, 11)
    assert out[0, 0, 0] == 0
    assert out[-1, -1, 0] == 255


def test_exif_rotation_applied() -> None:
    w, h = 60, 40
    img = Image.new("RGB", (w, h), (0, 0, 255))  # blue
    img.paste((255, 0, 0), (0, 0, 16, 16))  # red marker, top-left as stored
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = encode(img, "JPEG", quality=95, exif=exif)

    out = decode_image(data)
    assert_bgr8(out, w, h)  # shape swapped: 60 rows, 40 columns

    def is_red(patch: np.ndarray) -> bool:
        b, _, r = patch.reshape(-1, 3).mean(axis=0)
        return bool(r > 200 and b < 60)

    corners = {
        "top-left": out[2:12, 2:12], "top-right": out[2:12, -12:-2],
        "bottom-left": out[-12:-2, 2:12], "bottom-right": out[-12:-2, -12:-2],
    }
    assert [name for name, patch in corners.items() if is_red(patch)] == ["top-right"]


def test_no_exif_no_rotation() -> None:
    img = Image.new("RGB", (60, 40), (0, 0, 255))
    assert_bgr8(decode_image(encode(img, "JPEG")), 40, 60)


# --- read_image --------------------------------------------------------------------------------------------

def test_read_image_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageError) as info:
        read_image(tmp_path / "nope.jpg")
    assert info.value.code == "file_not_found"
    assert "nope.jpg" in info.value.message


def test_read_image_directory(tmp_path: Path) -> None:
    with pytest.raises(ImageError) as info:
        read_image(tmp_path)
    assert info.value.code == "not_an_image"


def test_read_image_text_file(tmp_path: Path) -> None:
    p = tmp_path / "notes.jpg"
    p.write_text("this is not a picture\n")
    with pytest.raises(ImageError) as info:
        read_image(p)
    assert info.value.code == "not_an_image"
    assert "notes.jpg" in info.value.message


def test_read_image_ok_and_limits_passed(tmp_path: Path) -> None:
    p = tmp_path / "face.png"
    p.write_bytes(encode(noise(20, 30), "PNG"))
    assert_bgr8(read_image(p), 20, 30)
    assert_bgr8(read_image(str(p)), 20, 30)
    with pytest.raises(ImageTooLargeError) as info:
        read_image(p, max_pixels=100)
    assert info.value.code == "too_many_pixels"


# --- property ----------------------------------------------------------------------------------------------

@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_decode_or_image_error(data: bytes) -> None:
    try:
        out = decode_image(data)
    except ImageError:
        return
    assert out.dtype == np.uint8
    assert out.ndim == 3
    assert out.shape[2] == 3


@settings(max_examples=60, deadline=None, database=None)
@given(st.data())
def test_damaged_real_image_decodes_or_image_error(data: st.DataObject) -> None:
    """Flip or cut bytes of a real JPEG/PNG: random bytes alone rarely get past the format check."""
    fmt = data.draw(st.sampled_from(["JPEG", "PNG"]))
    raw = bytearray(encode(noise(16, 16, seed=3), fmt))
    for _ in range(data.draw(st.integers(0, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(raw)))
    try:
        out = decode_image(bytes(raw[:cut]))
    except ImageError:
        return
    assert out.dtype == np.uint8
    assert out.ndim == 3
    assert out.shape[2] == 3
