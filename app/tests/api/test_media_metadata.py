"""Every metadata block is dropped on re-encode. Each upload below carries every kind of
metadata its format can hold; the stored bytes (and the thumbnail) are walked at the
container level — JPEG segments, PNG chunks, RIFF chunks, GIF blocks — and must hold only
what the pixels need."""

from __future__ import annotations

import io
import struct
from typing import Any

import pytest
from httpx import AsyncClient
from PIL import Image, ImageCms, PngImagePlugin

from app.models.media import Media
from app.tests.api.test_media import upload

SECRETS = [b"SpyCam", b"secret-xmp", b"secret-comment", b"secret-text", b"secret-ztxt",
           b"secret-itxt", b"secret-iptc", b"secret-app", b"secret-private", b"Swapped RG"]  # fmt: skip


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}  # local storage: the assertions read the stored blob itself


# --- crafting ---------------------------------------------------------------------------------


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)


def icc_swapped_red_green() -> bytes:
    """A minimal ICC v2 RGB profile (linear, sRGB's D50 primaries with red and green
    swapped): pure red in this space is green in sRGB, so a conversion is visible."""
    text = b"Swapped RG\0"
    desc = (
        b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0" * 3 + b"\0" * 67
    )
    curve = b"curv\0\0\0\0" + struct.pack(">I", 0)
    red, green, blue = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)
    tags = [
        (b"desc", desc),
        (b"wtpt", _xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", _xyz(*green)),
        (b"gXYZ", _xyz(*red)),
        (b"bXYZ", _xyz(*blue)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (
        struct.pack(">I", size) + b"lcms" + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
        + b"\0" * 12 + b"acsp" + b"\0" * 24 + b"\0" * 4
        + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 4 + b"\0" * 16 + b"\0" * 28
    )  # fmt: skip
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def exif_bytes(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPS
    return exif.tobytes()


XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret-xmp</x:xmpmeta>'


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def jpeg_with_everything(*, progressive: bool = False) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (200, 30, 30)).save(
        out,
        format="JPEG",
        exif=exif_bytes(),
        icc_profile=icc_swapped_red_green(),
        comment=b"secret-comment",
        xmp=XMP,
        progressive=progressive,
    )
    data = out.getvalue()
    iptc = _segment(0xED, b"Photoshop 3.0\0" + b"8BIM\x04\x04\0\0" + b"secret-iptc")
    app9 = _segment(0xE9, b"secret-app")
    return data[:2] + iptc + app9 + data[2:]


def png_with_everything(mode: str = "RGB") -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret-text")
    info.add_text("Author", "secret-ztxt", zip=True)
    info.add_itxt("Description", "secret-itxt", lang="en", tkey="Description")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add(b"tIME", b"\x07\xea\x0b\x16\x0c\x00\x00")
    info.add(b"prVt", b"secret-private")
    out = io.BytesIO()
    color: Any = (200, 30, 30, 255) if mode == "RGBA" else (200, 30, 30)
    Image.new(mode, (120, 80), color).save(
        out, format="PNG", pnginfo=info, exif=exif_bytes(), icc_profile=icc_swapped_red_green()
    )
    return out.getvalue()


def webp_with_everything() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (200, 30, 30)).save(
        out, format="WEBP", exif=exif_bytes(), xmp=XMP, icc_profile=icc_swapped_red_green()
    )
    return out.getvalue()


def gif_with_everything() -> bytes:
    out = io.BytesIO()
    frames = [Image.new("P", (120, 80), i) for i in (1, 2)]
    for frame in frames:
        frame.putpalette([0, 0, 0, 200, 30, 30, 30, 200, 30] + [0] * (256 * 3 - 9))
    frames[0].save(
        out, format="GIF", save_all=True, append_images=frames[1:], comment=b"secret-comment",
        loop=0, duration=100,
    )  # fmt: skip
    data = out.getvalue()
    app = b"\x21\xff\x0bXMP DataXMP" + bytes([10]) + b"secret-app" + b"\x00"
    cut = 13 + 3 * 2 ** ((data[10] & 0x07) + 1)  # after the header and global colour table
    return data[:cut] + app + data[cut:]


def pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = image.getpixel(xy)
    assert isinstance(value, tuple)
    return value


# --- walking the stored bytes -----------------------------------------------------------------


def jpeg_markers(data: bytes) -> list[int]:
    assert data[:2] == b"\xff\xd8"
    markers, pos = [], 2
    while pos < len(data):
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length
    return markers


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return chunks


def riff_chunks(data: bytes) -> list[bytes]:
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WEBP"
    chunks, pos = [], 12
    while pos + 8 <= len(data):
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        chunks.append(data[pos : pos + 4])
        if chunks[-1] == b"VP8X":
            assert data[pos + 8] & 0b00101110 == 0, "VP8X flags ICC/EXIF/XMP/animation"
        pos += 8 + length + (length & 1)
    return chunks


def gif_extensions(data: bytes) -> list[int]:
    """Labels of every extension block, and the number of images."""
    flags = data[10]
    pos = 13 + (3 * 2 ** ((flags & 0x07) + 1) if flags & 0x80 else 0)
    labels = []
    while data[pos] != 0x3B:
        if data[pos] == 0x21:
            labels.append(data[pos + 1])
            pos += 2
        else:
            assert data[pos] == 0x2C
            labels.append(0x2C)
            local = data[pos + 9]
            pos += 10 + (3 * 2 ** ((local & 0x07) + 1) if local & 0x80 else 0) + 1
        while data[pos] != 0:  # sub-blocks
            pos += data[pos] + 1
        pos += 1
    return labels


def assert_clean(data: bytes, content_type: str) -> None:
    for secret in SECRETS:
        assert secret not in data, secret
    if content_type == "image/jpeg":
        markers = jpeg_markers(data)
        assert not [m for m in markers if 0xE1 <= m <= 0xEF or m == 0xFE], markers
    elif content_type == "image/png":
        assert set(png_chunks(data)) <= {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}
    elif content_type == "image/webp":
        assert set(riff_chunks(data)) <= {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}
    else:
        labels = gif_extensions(data)
        assert not {0xFE, 0xFF, 0x01} & set(labels), labels  # comment, application, text
        assert labels.count(0x2C) == 1  # the first frame only


async def stored(app, media: dict) -> tuple[bytes, bytes | None]:
    doc = await Media.get(media["id"])
    root = app.state.storage.root
    thumb = doc.thumbnail_blob_name
    return (root / doc.blob_name).read_bytes(), (root / thumb).read_bytes() if thumb else None


CASES = {
    "jpeg": (jpeg_with_everything, "image/jpeg"),
    "jpeg_progressive": (lambda: jpeg_with_everything(progressive=True), "image/jpeg"),
    "png": (png_with_everything, "image/png"),
    "png_rgba": (lambda: png_with_everything("RGBA"), "image/png"),
    "webp": (webp_with_everything, "image/webp"),
    "gif": (gif_with_everything, "image/gif"),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("purpose", ["cover_image", "organisation_logo"])
async def test_every_metadata_block_dropped(
    app, client: AsyncClient, entrepreneur, case: str, purpose: str
) -> None:
    make, content_type = CASES[case]
    original = make()
    with Image.open(io.BytesIO(original)) as probe:  # the fixture really carries them
        assert b"secret-app" in original if case == "gif" else b"secret-xmp" in original
        assert case == "gif" or (probe.info.get("icc_profile") and probe.getexif())
    response = await upload(client, entrepreneur, original, purpose=purpose, ctype=content_type)
    assert response.status_code == 201, response.text
    media = response.json()
    assert (media["content_type"], media["width"], media["height"]) == (content_type, 120, 80)
    main, thumb = await stored(app, media)
    assert_clean(main, content_type)
    assert (thumb is not None) == (purpose == "cover_image")
    if thumb is not None:
        assert_clean(thumb, "image/webp")
    with Image.open(io.BytesIO(main)) as image:
        assert getattr(image, "n_frames", 1) == 1
        assert "icc_profile" not in image.info
        assert not image.getexif()


@pytest.mark.parametrize("case", ["jpeg", "png", "webp"])
async def test_pixels_converted_to_srgb_before_the_profile_is_dropped(
    app, client: AsyncClient, entrepreneur, case: str
) -> None:
    """(200, 30, 30) in a space whose 'red' is sRGB's green must come out green."""
    make, content_type = CASES[case]
    response = await upload(client, entrepreneur, make(), purpose="cover_image", ctype=content_type)
    main, _ = await stored(app, response.json())
    with Image.open(io.BytesIO(main)) as image:
        red, green, _blue = pixel(image.convert("RGB"), (60, 40))
    assert green > red + 60, (red, green)


async def test_srgb_profile_dropped_without_changing_pixels(
    app, client: AsyncClient, entrepreneur
) -> None:
    out = io.BytesIO()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.new("RGB", (50, 50), (200, 30, 30)).save(out, format="PNG", icc_profile=srgb)
    response = await upload(client, entrepreneur, out.getvalue(), purpose="cover_image")
    main, _ = await stored(app, response.json())
    assert b"iCCP" not in main
    with Image.open(io.BytesIO(main)) as image:
        assert pixel(image, (10, 10)) == (200, 30, 30)


async def test_orientation_applied_then_exif_dropped(
    app, client: AsyncClient, entrepreneur
) -> None:
    out = io.BytesIO()
    Image.new("RGB", (80, 40), "blue").save(out, format="JPEG", exif=exif_bytes(orientation=6))
    response = await upload(client, entrepreneur, out.getvalue(), ctype="image/jpeg")
    assert (response.json()["width"], response.json()["height"]) == (40, 80)
    main, _ = await stored(app, response.json())
    assert_clean(main, "image/jpeg")


async def test_cmyk_jpeg_stored_as_rgb(app, client: AsyncClient, entrepreneur) -> None:
    out = io.BytesIO()
    Image.new("CMYK", (60, 40), (0, 255, 255, 0)).save(
        out, format="JPEG", comment=b"secret-comment"
    )
    response = await upload(client, entrepreneur, out.getvalue(), ctype="image/jpeg")
    assert response.status_code == 201
    main, _ = await stored(app, response.json())
    assert_clean(main, "image/jpeg")
    with Image.open(io.BytesIO(main)) as image:
        assert image.mode == "RGB"
        red, green, blue = pixel(image, (30, 20))
        assert red > 200
        assert green < 60
        assert blue < 60


async def test_palette_transparency_survives(app, client: AsyncClient, entrepreneur) -> None:
    image = Image.new("P", (40, 40), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * (256 * 3 - 6))
    image.info["transparency"] = 1
    out = io.BytesIO()
    image.save(out, format="PNG", transparency=1)
    response = await upload(client, entrepreneur, out.getvalue(), purpose="organisation_logo")
    main, _ = await stored(app, response.json())
    assert_clean(main, "image/png")
    with Image.open(io.BytesIO(main)) as stored_image:
        assert pixel(stored_image.convert("RGBA"), (5, 5))[3] == 0


@pytest.mark.parametrize(
    ("purpose", "fmt", "size", "stored_size"),
    [
        ("avatar", "PNG", (1500, 1000), (768, 512)),
        ("avatar", "JPEG", (4032, 3024), (768, 576)),  # a phone photo, decoded at 1/4 scale
        ("organisation_logo", "GIF", (1200, 300), (1024, 256)),
        ("cover_image", "PNG", (3000, 2000), (1920, 1280)),
        ("cover_image", "JPEG", (4032, 3024), (1920, 1440)),  # a phone photo, at 1/2 scale
        ("cover_image", "PNG", (1900, 1000), (1900, 1000)),  # small enough: as sent
    ],
)
async def test_large_images_scaled_to_the_purpose_side(
    app, client: AsyncClient, entrepreneur, purpose, fmt, size, stored_size
) -> None:
    out = io.BytesIO()
    Image.new("P" if fmt == "GIF" else "RGB", size, 3).save(out, format=fmt)
    ctype = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif"}[fmt]
    response = await upload(client, entrepreneur, out.getvalue(), purpose=purpose, ctype=ctype)
    assert response.status_code == 201, response.text
    assert (response.json()["width"], response.json()["height"]) == stored_size
    main, _ = await stored(app, response.json())
    with Image.open(io.BytesIO(main)) as image:
        assert image.size == stored_size
        assert image.format == fmt
