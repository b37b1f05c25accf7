"""What an uploaded file really is, and the safe version we store (runs in a worker thread).

The type comes from the bytes (magic numbers), never from the client's name or
Content-Type. Images are fully decoded by Pillow under a pixel limit, re-encoded without
EXIF/GPS metadata (after applying the EXIF orientation), and thumbnailed when asked.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from app.core.exceptions import UnsupportedMedia, ValidationFailed

IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
PDF_TYPE = "application/pdf"
PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
}


def sniff(head: bytes) -> str | None:
    """The content type the leading bytes prove, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return PDF_TYPE
    return None


def safe_filename(name: str | None) -> str | None:
    """Keep a display name only: no directories, no control characters, bounded."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(
        c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C"
    )
    base = base.strip().strip(".")
    return base[:120] or None


@dataclass
class Prepared:
    content_type: str
    extension: str
    file: IO[bytes]
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None
    thumbnail: bytes | None = None


def _digest(handle: IO[bytes]) -> tuple[str, int]:
    handle.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(64 * 1024):
        digest.update(chunk)
        size += len(chunk)
    handle.seek(0)
    return digest.hexdigest(), size


def prepare(
    source: IO[bytes], allowed: set[str], *, max_pixels: int, thumbnail_px: int | None
) -> Prepared:
    source.seek(0)
    head = source.read(16)
    source.seek(0)
    if not head:
        raise ValidationFailed("The file is empty.", code="EMPTY_FILE")
    detected = sniff(head)
    if detected is None or detected not in allowed:
        raise UnsupportedMedia(
            f"This file type is not accepted here; allowed: {', '.join(sorted(allowed))}.",
            code="UNSUPPORTED_FILE_TYPE",
            details=[{"detected": detected}],
        )
    if detected == PDF_TYPE:
        return _prepare_pdf(source)
    return _prepare_image(source, detected, max_pixels, thumbnail_px)


def _prepare_pdf(source: IO[bytes]) -> Prepared:
    source.seek(0, io.SEEK_END)
    end = source.tell()
    source.seek(max(0, end - 2048))
    if b"%%EOF" not in source.read():
        raise ValidationFailed("The PDF is truncated or malformed.", code="INVALID_PDF")
    sha, size = _digest(source)
    return Prepared(PDF_TYPE, "pdf", source, size, sha)


def _prepare_image(
    source: IO[bytes], detected: str, max_pixels: int, thumbnail_px: int | None
) -> Prepared:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(source) as probe:
                width, height = probe.size
                if width * height > max_pixels:
                    raise ValidationFailed(
                        f"The image has too many pixels ({width}×{height}).",
                        code="IMAGE_TOO_LARGE",
                        details=[{"max_pixels": max_pixels}],
                    )
                probe.verify()
            source.seek(0)
            with Image.open(source) as image:
                image.load()  # full decode: truncated data fails here
                return _reencode(image, detected, thumbnail_px)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ValidationFailed(
                "The image has too many pixels.", code="IMAGE_TOO_LARGE"
            ) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise ValidationFailed(
                "The image is corrupt or truncated.", code="INVALID_IMAGE"
            ) from exc


def _reencode(image: Image.Image, detected: str, thumbnail_px: int | None) -> Prepared:
    """A fresh encoding carries no EXIF, GPS, XMP or comments from the upload."""
    fmt = PILLOW_FORMATS[detected]
    out = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 - returned
    animated = fmt in {"GIF", "WEBP"} and getattr(image, "n_frames", 1) > 1
    if animated:
        image.save(out, format=fmt, save_all=True)
        upright = image.copy()
    else:
        upright = ImageOps.exif_transpose(image) or image
        if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        options = {"quality": 90} if fmt in {"JPEG", "WEBP"} else {}
        upright.save(out, format=fmt, **options)
    thumbnail = None
    if thumbnail_px:
        thumb = upright.copy()
        if thumb.mode not in ("RGB", "RGBA", "L", "LA"):
            thumb = thumb.convert("RGBA")
        thumb.thumbnail((thumbnail_px, thumbnail_px))
        buffer = io.BytesIO()
        thumb.save(buffer, format="WEBP", quality=85)
        thumbnail = buffer.getvalue()
    sha, size = _digest(out)
    return Prepared(
        detected,
        IMAGE_TYPES[detected],
        out,
        size,
        sha,
        width=upright.width,
        height=upright.height,
        thumbnail=thumbnail,
    )
