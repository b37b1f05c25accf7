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
- a JPEG larger than it will be stored is decoded at 1/2, 1/4 or 1/8 scale (libjpeg's DCT
  scaling), so width and height are those decoding produces; a progressive JPEG's
  coefficients are full-size whatever the scale.
The image is refused (422 `IMAGE_TOO_LARGE`) unless the decoded pixels ≤ P and that
allocation ≤ 4·P bytes — what an RGBA image of P pixels needs. So a baseline JPEG or PNG gets
the full P pixels, a progressive JPEG about 40 %, a WebP 25 %. Pillow's own bomb check
(89 MP declared) stays on as a backstop.

Stored images are scaled down to the purpose's longest side (`media.MAX_SIDE`).

Structure. Before the header is even read, `image_containers.check_structure` bounds what
the decoder would loop over besides pixels: JPEG scans and segments, PNG chunks, GIF blocks
(422 `IMAGE_TOO_COMPLEX`; a 4 MB progressive JPEG of empty scans took 78 s to decode).

Clean re-encoding. The pixels are converted to sRGB when an ICC profile says they are in
another space (then the profile is dropped), turned upright from the EXIF orientation, and
written by a fresh encoder with no metadata at all: no EXIF, XMP, ICC, IPTC, PNG text chunks
(tEXt/zTXt/iTXt), JPEG comments or APPn segments beyond JFIF, GIF comment or application
extensions. Only what the pixels need survives (palette, transparency).
"""

from __future__ import annotations

import contextlib
import io
import math
import tempfile
import zlib
from dataclasses import dataclass
from typing import IO, Any

from PIL import Image, ImageCms, ImageOps, PngImagePlugin, UnidentifiedImageError

from app.core.exceptions import ValidationFailed
from app.utils.image_containers import check_structure

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
# Chosen for CPU time (measured on 12 MP worst cases): run-length deflate writes PNGs as small
# as the default strategy at ~60 % of its time; WebP method 1 is ~3× faster than 4 for the
# same size.
ENCODER_OPTIONS: dict[str, dict[str, Any]] = {
    "JPEG": {"quality": 90},
    "PNG": {"compress_type": zlib.Z_RLE},
    "WEBP": {"quality": 90, "method": 1},
}


@dataclass(frozen=True)
class Header:
    """What the file says about itself before any pixel is decoded. `scale` is the JPEG
    DCT scaling (1, 2, 4 or 8) decoding will use for an image larger than it is stored."""

    format: str
    width: int
    height: int
    mode: str
    progressive: bool = False
    scale: int = 1

    @property
    def pixels(self) -> int:
        """Pixels decoding produces."""
        return -(-self.width // self.scale) * -(-self.height // self.scale)

    @property
    def decode_bytes(self) -> int:
        """What decoding the (first) frame allocates at its peak."""
        if self.format == "WEBP":
            return FRAMES_DECODED * self.pixels * WEBP_DECODE_BYTES
        size = FRAMES_DECODED * self.pixels * _PIXEL_BYTES.get(self.mode, RGBA_BYTES)
        if self.format == "JPEG" and self.progressive:
            # every 16-bit DCT coefficient, at full size whatever the scaling
            size += self.width * self.height * 2 * Image.getmodebands(self.mode)
        return size


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


def _fit(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size an image is stored at: its longest side at most `max_side`."""
    ratio = min(1.0, max_side / max(width, height, 1))
    return max(1, math.ceil(width * ratio)), max(1, math.ceil(height * ratio))


def read_header(source: IO[bytes], content_type: str, max_side: int | None = None) -> Header:
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
        width, height = probe.size
        if fmt == "JPEG" and max_side:
            probe.draft(probe.mode, _fit(width, height, max_side))  # only chooses the scale
        header = Header(
            fmt,
            width,
            height,
            probe.mode,
            bool(probe.info.get("progressive")),
            scale=max(1, round(width / max(1, probe.width))),
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
    source: IO[bytes],
    content_type: str,
    *,
    max_pixels: int,
    max_side: int | None = None,
    thumbnail_px: int | None = None,
) -> CleanImage:
    """Check the structure and the budget from the header, decode the first frame, write it
    back clean (scaled down to `max_side` on its longest side when larger)."""
    try:
        source.seek(0)
        check_structure(source.read(), PILLOW_FORMATS[content_type])  # the file: ≤ 5 MiB
        header = read_header(source, content_type, max_side)
        check_budget(header, max_pixels)
        opened = Image.open(source, formats=[header.format])
        try:
            if opened.size != (header.width, header.height):
                raise _invalid()
            if header.scale > 1 and max_side:  # decode at 1/2, 1/4 or 1/8 scale
                opened.draft(opened.mode, _fit(header.width, header.height, max_side))
            opened.load()  # the first frame only; truncated data fails here
            image = _shrink(_normalise(opened), header.format, max_side)
            if image is not opened:
                opened.close()  # frees the decoded original before encoding
            return _write(image, header.format, thumbnail_px)
        finally:
            opened.close()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own check (89 MP declared: a warning; twice that: an error) is only a
        # backstop — the budget above is far smaller. Warnings are not turned into errors
        # here: `warnings.catch_warnings` is not thread-safe and this runs in a pool.
        raise ValidationFailed("The image has too many pixels.", code="IMAGE_TOO_LARGE") from exc
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


def _shrink(image: Image.Image, fmt: str, max_side: int | None) -> Image.Image:
    """Scaled down (in place) to fit `max_side`. Palette images are expanded first so they
    are resampled rather than picked nearest-neighbour — except GIFs, which stay paletted
    (re-quantising a large frame costs more than all the rest)."""
    if not max_side or max(image.size) <= max_side:
        return image
    if fmt == "GIF" and image.mode in ("P", "L", "1"):
        image.thumbnail((max_side, max_side), Image.Resampling.NEAREST)
        return image
    if image.mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
        image.info.pop("transparency", None)
    image.thumbnail((max_side, max_side), reducing_gap=1.0)  # box-reduce by whole factors first
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
    image.save(out, format=fmt, **ENCODER_OPTIONS.get(fmt, {}))
    width, height = image.size
    thumbnail = None
    if thumbnail_px:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if image.has_transparency_data else "RGB")
        image.thumbnail((thumbnail_px, thumbnail_px))  # in place: no full-size copy
        image.info = {}
        buffer = io.BytesIO()
        image.save(buffer, format="WEBP", quality=85, method=1)
        thumbnail = buffer.getvalue()
    out.seek(0)
    return CleanImage(out, width, height, thumbnail)
