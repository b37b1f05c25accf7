"""Images: what decoding one will cost (from its header alone), and a clean re-encoding.

Budget. Each purpose has a pixel budget P (`MEDIA_*_MAX_PIXELS`). Before a single pixel is
decoded, the header gives the size and what the decoder needs, and what decoding will
allocate is `frames × width × height × bytes per pixel`:
- frames = 1: only the first frame of an animated GIF/WebP/APNG is kept (stored as a still).
  Animation would multiply memory and CPU by the frame count, and it needs the GIF
  application extension (NETSCAPE loop) that the clean re-encoding drops.
- bytes per pixel is what Pillow and the codec really hold at the peak of decoding
  (measured with Pillow 13 and checked by `scripts/bench_hostile_media.py`): Pillow keeps
  RGB/RGBA/CMYK as 4 bytes per pixel, L/P as 1; a progressive JPEG also keeps every DCT
  coefficient (2 bytes per sample per component) until the last scan; WebP goes through
  libwebp's animation decoder, which holds two RGBA canvases plus an RGBA copy for Pillow (16).
The image is refused (422 `IMAGE_TOO_LARGE`) unless width × height ≤ P and that allocation
≤ 4·P bytes — what an RGBA image of P pixels needs. So a baseline JPEG or PNG gets the full
P pixels, a progressive JPEG 40 %, a WebP 25 %.

Clean re-encoding. The pixels are converted to sRGB when an ICC profile says they are in
another space (then the profile is dropped), turned upright from the EXIF orientation, and
written by a fresh encoder with no metadata at all: no EXIF, XMP, ICC, IPTC, PNG text chunks
(tEXt/zTXt/iTXt), JPEG comments or APPn segments beyond JFIF, GIF comment or application
extensions. Only what the pixels need survives (palette, transparency).
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import warnings
from dataclasses import dataclass
from typing import IO, Any

from PIL import Image, ImageCms, ImageOps, PngImagePlugin, UnidentifiedImageError

from app.core.exceptions import ValidationFailed

IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
}
RGBA_BYTES = 4
WEBP_DECODE_BYTES = 16  # two libwebp canvases + the frame handed to Python + Pillow's image
FRAMES_DECODED = 1  # first frame only
# Text chunks are metadata we drop anyway: don't let a PNG inflate 64 MiB of them (Pillow's
# default) before the budget is even checked.
PngImagePlugin.MAX_TEXT_MEMORY = 4 * 1024 * 1024

_PIXEL_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
_KEPT_INFO = ("transparency",)  # pixel semantics, not metadata


@dataclass(frozen=True)
class Header:
    """What the file says about itself before any pixel is decoded."""

    format: str
    width: int
    height: int
    mode: str
    progressive: bool = False

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def decode_bytes(self) -> int:
        """What decoding the (first) frame allocates at its peak."""
        if self.format == "WEBP":
            per_pixel = WEBP_DECODE_BYTES
        else:
            per_pixel = _PIXEL_BYTES.get(self.mode, RGBA_BYTES)
            if self.format == "JPEG" and self.progressive:
                per_pixel += 2 * Image.getmodebands(self.mode)  # 16-bit DCT coefficients
        return FRAMES_DECODED * self.width * self.height * per_pixel


def check_budget(header: Header, max_pixels: int) -> None:
    max_bytes = max_pixels * RGBA_BYTES
    if header.pixels <= max_pixels and header.decode_bytes <= max_bytes:
        return
    raise ValidationFailed(
        f"The image is too large to process ({header.width}×{header.height}"
        f"{', progressive' if header.progressive else ''} {header.format}).",
        code="IMAGE_TOO_LARGE",
        details=[
            {
                "width": header.width,
                "height": header.height,
                "max_pixels": max_pixels,
                "decode_bytes": header.decode_bytes,
                "max_decode_bytes": max_bytes,
            }
        ],
    )


def _webp_size(head: bytes) -> tuple[int, int] | None:
    """Canvas size from the RIFF header (VP8X, VP8 or VP8L), as libwebp reads it."""
    chunk = head[12:16]
    if chunk == b"VP8X" and len(head) >= 30:
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    if chunk == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":
        return (
            int.from_bytes(head[26:28], "little") & 0x3FFF,
            int.from_bytes(head[28:30], "little") & 0x3FFF,
        )
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _invalid(exc: BaseException | None = None) -> ValidationFailed:
    return ValidationFailed("The image is corrupt or truncated.", code="INVALID_IMAGE")


def read_header(source: IO[bytes], content_type: str) -> Header:
    """Size and decoding needs from the header only. WebP is parsed here because libwebp
    allocates its canvases as soon as Pillow opens the file."""
    fmt = PILLOW_FORMATS[content_type]
    source.seek(0)
    if fmt == "WEBP":
        size = _webp_size(source.read(30))
        source.seek(0)
        if size is None or 0 in size:
            raise _invalid()
        return Header(fmt, size[0], size[1], "RGBA")
    with Image.open(source, formats=[fmt]) as probe:  # lazy: reads the header, no pixels
        header = Header(
            fmt, probe.width, probe.height, probe.mode, bool(probe.info.get("progressive"))
        )
    source.seek(0)
    return header


@dataclass
class CleanImage:
    file: IO[bytes]
    width: int
    height: int
    thumbnail: bytes | None


def reencode(
    source: IO[bytes], content_type: str, *, max_pixels: int, thumbnail_px: int | None
) -> CleanImage:
    """Check the budget from the header, decode the first frame, write it back clean."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            header = read_header(source, content_type)
            check_budget(header, max_pixels)
            opened = Image.open(source, formats=[header.format])
            try:
                opened.load()  # the first frame only; truncated data fails here
                if opened.size != (header.width, header.height):
                    raise _invalid()
                image = _normalise(opened)
                if image is not opened:
                    opened.close()  # frees the decoded original before encoding
                return _write(image, header.format, thumbnail_px)
            finally:
                opened.close()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ValidationFailed(
                "The image has too many pixels.", code="IMAGE_TOO_LARGE"
            ) from exc
        except (
            UnidentifiedImageError,
            OSError,
            SyntaxError,
            ValueError,
            EOFError,
            ImageCms.PyCMSError,
        ) as exc:
            raise _invalid(exc) from exc


def _normalise(image: Image.Image) -> Image.Image:
    """Upright, sRGB pixels in a mode the output format stores, with no metadata left."""
    _upright(image)
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        image = _to_srgb(image, icc)
    if image.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        image = image.convert("RGB")
    image.info = {key: image.info[key] for key in _KEPT_INFO if key in image.info}
    return image


def _upright(image: Image.Image) -> None:
    """Apply the EXIF orientation in place; unreadable EXIF means 'as stored'."""
    with contextlib.suppress(Exception):  # hostile EXIF must not fail the upload
        ImageOps.exif_transpose(image, in_place=True)


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    """Pixels converted from the embedded profile to sRGB; an unusable profile is ignored."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in (ImageCms.getProfileDescription(profile) or "").lower():
            return image  # already sRGB: dropping the profile changes nothing
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(
            image, profile, ImageCms.createProfile("sRGB"), outputMode=mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image
    return converted if converted is not None else image


def _write(image: Image.Image, fmt: str, thumbnail_px: int | None) -> CleanImage:
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 - returned
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    if fmt == "WEBP" and image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    options: dict[str, Any] = {"quality": 90} if fmt in {"JPEG", "WEBP"} else {}
    image.save(out, format=fmt, **options)
    width, height = image.size
    thumbnail = None
    if thumbnail_px:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if image.has_transparency_data else "RGB")
        image.thumbnail((thumbnail_px, thumbnail_px))  # in place: no full-size copy
        image.info = {}
        buffer = io.BytesIO()
        image.save(buffer, format="WEBP", quality=85)
        thumbnail = buffer.getvalue()
    out.seek(0)
    return CleanImage(out, width, height, thumbnail)
