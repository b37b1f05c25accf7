"""How much work an image file's *structure* will cost, bounded before Pillow reads it.

The pixel budget (`media_images`) bounds memory and the work per pixel, but a file can make
the decoder loop over its structure instead of its pixels:
- a progressive JPEG is decoded scan by scan, each scan a pass over every block of the
  image, and a scan header costs 10 bytes: 400,000 empty scans in a 4 MB file kept one
  decoder busy for 78 s on a 1.9 MP image (libjpeg has no scan limit; djpeg's `-maxscans`
  and TurboJPEG's scan limit exist for exactly this);
- Pillow walks JPEG segments before the first scan, PNG chunks (before the pixels and after
  them, up to IEND) and GIF blocks before the first image in Python, one iteration per
  segment: 400,000 empty PNG chunks cost 4.2 s, a million GIF comment blocks 2.9 s.

`check_structure` counts them — in C (`bytes.count`) for JPEG scans, in Python for the rest
but stopping at the bound — and refuses the file with 422 `IMAGE_TOO_COMPLEX`. The bounds
are far above what encoders write (a progressive JPEG has about 10 scans, mozjpeg's up to a
few dozen; libpng writes 8 KiB IDAT chunks, ~640 for a 5 MiB file). WebP needs no walk:
libwebp parses in C, and only the first frame is decoded.
"""

from __future__ import annotations

from app.core.exceptions import ValidationFailed

MAX_JPEG_SCANS = 100
MAX_JPEG_SEGMENTS = 1_000  # markers before the first scan (Pillow's Python loop)
MAX_PNG_CHUNKS = 10_000
MAX_GIF_BLOCKS = 10_000  # extension sub-blocks before the first image

_SOS = b"\xff\xda"
_PNG_SIGNATURE = 8


def _too_complex(what: str) -> ValidationFailed:
    return ValidationFailed(
        f"The image is too complex to process ({what}).",
        code="IMAGE_TOO_COMPLEX",
        details=[{"reason": what}],
    )


def check_structure(data: bytes, fmt: str) -> None:
    """Raise 422 IMAGE_TOO_COMPLEX when decoding `data` (a whole file of format `fmt`:
    JPEG, PNG, GIF or WEBP) would loop over more structure than the bounds allow. Malformed
    structure is left for the decoder to refuse."""
    if fmt == "JPEG":
        _jpeg(data)
    elif fmt == "PNG":
        _png(data)
    elif fmt == "GIF":
        _gif(data)


def _jpeg(data: bytes) -> None:
    # Entropy-coded data never holds FF DA (a literal FF is stuffed as FF 00), so every
    # occurrence is a scan header — or one inside an embedded thumbnail, which only
    # over-counts.
    if data.count(_SOS) > MAX_JPEG_SCANS:
        raise _too_complex(f"more than {MAX_JPEG_SCANS} scans")
    pos, segments, end = 2, 0, len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return  # malformed: the decoder says so
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA or marker == 0xD9:  # first scan (or the end): Pillow stops here
            return
        segments += 1
        if segments > MAX_JPEG_SEGMENTS:
            raise _too_complex(f"more than {MAX_JPEG_SEGMENTS} segments before the image")
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length
            pos += 2
            continue
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")


def _png(data: bytes) -> None:
    pos, chunks, end = _PNG_SIGNATURE, 0, len(data)
    animated = pixels_seen = False
    while pos + 8 <= end:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        if kind == b"IEND":
            return
        if kind == b"acTL":
            animated = True
        elif kind in (b"IDAT", b"fdAT"):
            pixels_seen = True
        elif kind == b"fcTL" and animated and pixels_seen:
            return  # the next frame: Pillow stops reading here (first frame only)
        chunks += 1
        if chunks > MAX_PNG_CHUNKS:
            raise _too_complex(f"more than {MAX_PNG_CHUNKS} chunks")
        pos += 12 + length


def _gif(data: bytes) -> None:
    if len(data) < 13:
        return
    pos = 13
    flags = data[10]
    if flags & 0x80:  # global colour table
        pos += 3 * (2 ** ((flags & 0x07) + 1))
    blocks, end = 0, len(data)
    while pos < end:
        introducer = data[pos]
        if introducer != 0x21:  # an image descriptor (the first frame), the trailer, or junk
            return
        pos += 2  # introducer and label
        while pos < end:  # data sub-blocks, ended by a zero-length one
            size = data[pos]
            pos += 1 + size
            blocks += 1
            if blocks > MAX_GIF_BLOCKS:
                raise _too_complex(f"more than {MAX_GIF_BLOCKS} blocks before the image")
            if size == 0:
                break
