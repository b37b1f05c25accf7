"""Bounded CPU for media, continued: files whose *structure* (not their pixels) would keep a
decoder busy are refused before decoding, quickly, with 422 IMAGE_TOO_COMPLEX — and files as
encoders really write them (progressive JPEGs, many-chunk PNGs, animated PNGs and GIFs with
comments) still go through.

Found by attacking the running server: a 4 MB progressive JPEG of 400,000 empty scans over a
1.9 MP image was within the cover's pixel budget and kept a decoder busy for 78 s (libjpeg
decodes every scan over the whole image and has no scan limit); 400,000 empty PNG chunks
cost 4.2 s and a million GIF comment blocks 2.9 s of Pillow's Python loops.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pytest
from httpx import AsyncClient
from PIL import Image

from app.tests.api.test_media import upload
from app.tests.factories import UserWithToken
from app.utils import image_containers
from app.utils.image_containers import (
    MAX_GIF_BLOCKS,
    MAX_JPEG_SCANS,
    MAX_JPEG_SEGMENTS,
    MAX_PNG_CHUNKS,
    check_structure,
)


def encoded(fmt: str, size: tuple[int, int], mode: str = "RGB", **options: Any) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "red" if mode != "P" else 3).save(out, format=fmt, **options)
    return out.getvalue()


def jpeg_with_scans(extra: int, size: tuple[int, int] = (1600, 1200)) -> bytes:
    """A progressive JPEG with `extra` more copies of its last scan header (10 bytes each, no
    data): libjpeg decodes each as a pass over every block."""
    data = encoded("JPEG", size, progressive=True, quality=50)
    start = data.rfind(b"\xff\xda")
    (length,) = struct.unpack(">H", data[start + 2 : start + 4])
    header = data[start : start + 2 + length]
    return data[:-2] + header * extra + b"\xff\xd9"


def jpeg_with_segments(extra: int) -> bytes:
    data = encoded("JPEG", (64, 64))
    return data[:2] + b"\xff\xfe\x00\x03a" * extra + data[2:]  # comment segments


def png_chunk(kind: bytes, payload: bytes = b"") -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_with_chunks(extra: int, kind: bytes = b"zzZz", after_pixels: bool = False) -> bytes:
    data = encoded("PNG", (64, 64))
    at = data.rfind(b"IEND") - 4 if after_pixels else data.find(b"IDAT") - 4
    return data[:at] + png_chunk(kind) * extra + data[at:]


def gif_with_comments(extra: int) -> bytes:
    data = encoded("GIF", (64, 64), "P")
    flags = data[10]
    start = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    return data[:start] + b"\x21\xfe\x01a\x00" * extra + data[start:]


BOMBS = {
    "jpeg-400k-scans": (lambda: jpeg_with_scans(400_000), "image/jpeg", "scans"),
    "jpeg-scans-over-bound": (lambda: jpeg_with_scans(MAX_JPEG_SCANS), "image/jpeg", "scans"),
    "jpeg-200k-segments": (lambda: jpeg_with_segments(200_000), "image/jpeg", "segments"),
    "png-400k-chunks": (lambda: png_with_chunks(400_000), "image/png", "chunks"),
    "png-300k-text-chunks": (lambda: png_with_chunks(300_000, b"tEXt"), "image/png", "chunks"),
    "png-chunks-after-pixels": (
        lambda: png_with_chunks(MAX_PNG_CHUNKS + 1, after_pixels=True),
        "image/png",
        "chunks",
    ),
    "gif-1m-comments": (lambda: gif_with_comments(1_000_000), "image/gif", "blocks"),
}


@pytest.mark.parametrize("case", list(BOMBS))
async def test_structure_bombs_are_refused_fast(
    client: AsyncClient, entrepreneur: UserWithToken, case: str
) -> None:
    build, ctype, reason = BOMBS[case]
    data = build()
    assert len(data) <= 5 * 1024 * 1024  # within the image size limit: only structure hurts
    response = await upload(client, entrepreneur, data, purpose="cover_image", ctype=ctype)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "IMAGE_TOO_COMPLEX"
    assert reason in error["details"][0]["reason"]
    # Refused by the structure check, which runs before any decoding (78 s for the scans
    # before it); the time it takes is a benchmark figure (scripts/bench_hostile_media.py).


REAL_FILES = {
    "progressive-jpeg": (lambda: encoded("JPEG", (800, 600), progressive=True), "image/jpeg"),
    "jpeg-with-scans-at-the-bound": (
        lambda: jpeg_with_scans(MAX_JPEG_SCANS - 20, (200, 150)),
        "image/jpeg",
    ),
    "jpeg-with-many-segments": (lambda: jpeg_with_segments(MAX_JPEG_SEGMENTS - 20), "image/jpeg"),
    "png-many-chunks": (lambda: png_with_chunks(MAX_PNG_CHUNKS - 20), "image/png"),
    "gif-many-comments": (lambda: gif_with_comments(MAX_GIF_BLOCKS // 2 - 20), "image/gif"),
}


@pytest.mark.parametrize("case", list(REAL_FILES))
async def test_files_within_the_bounds_are_stored(
    client: AsyncClient, entrepreneur: UserWithToken, case: str
) -> None:
    build, ctype = REAL_FILES[case]
    response = await upload(client, entrepreneur, build(), purpose="cover_image", ctype=ctype)
    assert response.status_code == 201, response.text


def test_animated_png_counts_the_first_frame_only() -> None:
    """Pillow stops at the second frame's fcTL, so later frames' chunks cost nothing."""
    frames = [Image.new("RGB", (8, 8), (i, 0, 0)) for i in range(MAX_PNG_CHUNKS // 2 + 10)]
    out = io.BytesIO()
    frames[0].save(out, format="PNG", save_all=True, append_images=frames[1:])
    data = out.getvalue()
    assert data.count(b"fdAT") > MAX_PNG_CHUNKS // 2  # more chunks than the bound in all
    check_structure(data, "PNG")  # no refusal


def test_animated_gif_counts_before_the_first_image_only() -> None:
    frames = [Image.new("P", (8, 8), i % 200) for i in range(300)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], comment=b"hi")
    check_structure(out.getvalue(), "GIF")


@pytest.mark.parametrize(
    "data",
    [b"", b"\xff\xd8", b"\xff\xd8\xff", b"\xff\xd8\x00\x00\x00", b"GIF89a", b"\x89PNG\r\n\x1a\n"],
)
def test_truncated_structure_is_left_to_the_decoder(data: bytes) -> None:
    for fmt in ("JPEG", "PNG", "GIF", "WEBP"):
        check_structure(data, fmt)  # malformed files are the decoder's INVALID_IMAGE


def test_bounds_are_far_above_what_encoders_write() -> None:
    progressive = encoded("JPEG", (640, 480), progressive=True)
    assert progressive.count(b"\xff\xda") * 5 < image_containers.MAX_JPEG_SCANS
