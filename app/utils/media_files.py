"""What an uploaded file really is, and the safe version we store.

The type comes from the bytes (magic numbers), never from the client's name or
Content-Type. Images are re-encoded clean under a per-purpose budget (`media_images`);
PDFs are checked for a trailer and stored as sent. `prepare_*` run in worker threads.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from dataclasses import dataclass
from typing import IO

from app.core.exceptions import UnsupportedMedia, ValidationFailed
from app.utils.media_images import IMAGE_TYPES, reencode

PDF_TYPE = "application/pdf"


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


def detect(source: IO[bytes], allowed: set[str]) -> str:
    """The proven content type of the upload, if it is one of `allowed` (reads 16 bytes)."""
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
    return detected


def prepare_pdf(source: IO[bytes]) -> Prepared:
    source.seek(0, io.SEEK_END)
    end = source.tell()
    source.seek(max(0, end - 2048))
    if b"%%EOF" not in source.read():
        raise ValidationFailed("The PDF is truncated or malformed.", code="INVALID_PDF")
    sha, size = _digest(source)
    return Prepared(PDF_TYPE, "pdf", source, size, sha)


def prepare_image(
    source: IO[bytes],
    content_type: str,
    *,
    max_pixels: int,
    max_side: int | None,
    thumbnail_px: int | None,
) -> Prepared:
    clean = reencode(
        source, content_type, max_pixels=max_pixels, max_side=max_side, thumbnail_px=thumbnail_px
    )
    sha, size = _digest(clean.file)
    return Prepared(
        content_type,
        IMAGE_TYPES[content_type],
        clean.file,
        size,
        sha,
        width=clean.width,
        height=clean.height,
        thumbnail=clean.thumbnail,
    )
