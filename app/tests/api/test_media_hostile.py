"""Bounded CPU and memory for media: per-purpose pixel budgets counted in what decoding will
allocate, checked from the header before any pixel is decoded; the first frame only; and
the bounded pool (how many decode at once, how many may wait)."""

from __future__ import annotations

import asyncio
import io
import struct
import threading
import zlib
from typing import Any

import pytest
from httpx import AsyncClient
from PIL import Image

from app.core.cpu_pool import CpuPool, PoolBusy
from app.models.media import Media
from app.tests.api.test_media import stored_names, upload
from app.tests.api.test_media_metadata import pixel, png_chunks, stored
from app.utils.media_images import Header, check_budget

AVATAR, COVER = 10_000, 40_000  # pixels: 4 × that in bytes is what decoding may allocate


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "media_avatar_max_pixels": AVATAR,
        "media_logo_max_pixels": AVATAR,
        "media_cover_max_pixels": COVER,
    }


def image(fmt: str, size: tuple[int, int], mode: str = "RGB", **options: Any) -> bytes:
    out = io.BytesIO()
    color: Any = 7 if mode in ("P", "L") else "red"
    Image.new(mode, size, color).save(out, format=fmt, **options)
    return out.getvalue()


CTYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}


async def send(client, who, data: bytes, fmt: str, purpose: str) -> Any:
    return await upload(client, who, data, purpose=purpose, ctype=CTYPES[fmt])


# --- budgets ----------------------------------------------------------------------------------


BUDGET_CASES = [
    # (format, size, mode, progressive, purpose, expected status)
    ("PNG", (100, 100), "RGB", False, "avatar", 201),  # 4 B/px, 10,000 px: the pixel cap
    ("PNG", (101, 100), "RGB", False, "avatar", 422),  # one row over the cap
    ("PNG", (101, 100), "RGB", False, "organisation_logo", 422),
    ("PNG", (150, 150), "RGB", False, "cover_image", 201),  # an avatar ≪ a cover
    ("PNG", (101, 100), "P", False, "avatar", 422),  # 1 B/px, but over the pixel cap
    ("WEBP", (50, 50), "RGB", False, "avatar", 201),  # 16 B/px × 2,500 = 40,000 B: at budget
    ("WEBP", (51, 50), "RGB", False, "avatar", 422),  # 40,800 B, far below the pixel cap
    ("JPEG", (64, 64), "RGB", False, "avatar", 201),  # baseline: 4 B/px
    ("JPEG", (63, 63), "RGB", True, "avatar", 201),  # progressive: 10 B/px × 3,969
    ("JPEG", (64, 64), "RGB", True, "avatar", 422),  # 10 B/px × 4,096
    ("GIF", (100, 100), "P", False, "avatar", 201),
]


@pytest.mark.parametrize(("fmt", "size", "mode", "progressive", "purpose", "status"), BUDGET_CASES)
async def test_budget_counts_what_decoding_allocates(
    app, client: AsyncClient, entrepreneur, fmt, size, mode, progressive, purpose, status
) -> None:
    options = {"progressive": True} if progressive else {}
    response = await send(client, entrepreneur, image(fmt, size, mode, **options), fmt, purpose)
    assert response.status_code == status, response.text
    if status == 422:
        error = response.json()["error"]
        assert error["code"] == "IMAGE_TOO_LARGE"
        budget = AVATAR if purpose != "cover_image" else COVER
        assert error["details"][0]["max_pixels"] == budget
        assert error["details"][0]["max_decode_bytes"] == 4 * budget
        assert await Media.find_all().count() == 0
        assert await stored_names(app) == []


def test_decode_cost_model() -> None:
    assert Header("PNG", 100, 100, "RGBA").decode_bytes == 40_000
    assert Header("PNG", 100, 100, "P").decode_bytes == 10_000
    assert Header("PNG", 100, 100, "I;16").decode_bytes == 20_000
    assert Header("JPEG", 100, 100, "RGB").decode_bytes == 40_000
    assert Header("JPEG", 100, 100, "RGB", progressive=True).decode_bytes == 100_000
    assert Header("JPEG", 100, 100, "CMYK", progressive=True).decode_bytes == 120_000
    assert Header("WEBP", 100, 100, "RGBA").decode_bytes == 160_000
    scaled = Header("JPEG", 4000, 3000, "RGB", scale=2)  # decoded at half size
    assert (scaled.pixels, scaled.decode_bytes) == (3_000_000, 12_000_000)
    progressive = Header("JPEG", 4000, 3000, "RGB", progressive=True, scale=2)
    assert progressive.decode_bytes == 12_000_000 + 4000 * 3000 * 6  # coefficients: full size
    check_budget(Header("PNG", 100, 100, "RGBA"), 10_000)  # at the budget: fine


# --- checked from the header, before decoding -------------------------------------------------


def _png_header_only(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    idat = b"IDAT" + zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
        + struct.pack(">I", len(idat) - 4) + idat + struct.pack(">I", zlib.crc32(idat))
    )  # fmt: skip


def _jpeg_header_only(width: int, height: int) -> bytes:
    """Progressive (SOF2): a baseline JPEG this large would simply be decoded at 1/2 or 1/4
    scale, but a progressive one keeps every coefficient whatever the scale."""
    sof = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    sos = b"\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
    return (
        b"\xff\xd8" + b"\xff\xc2" + struct.pack(">H", len(sof) + 2) + sof
        + b"\xff\xda" + struct.pack(">H", len(sos) + 2) + sos + b"\x00" * 32
    )  # fmt: skip


def _gif_header_only(width: int, height: int) -> bytes:
    screen = struct.pack("<HHBBB", width, height, 0, 0, 0)
    descriptor = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x08"
    return b"GIF89a" + screen + descriptor + b"\x02\x44\x01"


def _webp_header_only(width: int, height: int) -> bytes:
    vp8x = (
        b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    )
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x + b"VP8 " + b"\x00" * 64
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize(
    ("fmt", "craft"),
    [("PNG", _png_header_only), ("JPEG", _jpeg_header_only), ("GIF", _gif_header_only),
     ("WEBP", _webp_header_only)],
)  # fmt: skip
@pytest.mark.parametrize("settings_overrides", [{}])  # the default budgets
async def test_refused_from_the_header_alone(
    app, client: AsyncClient, entrepreneur, settings, fmt, craft
) -> None:
    """The files are truncated right after their header: had anything been decoded, the
    answer would be INVALID_IMAGE. 5000×5000 is within Pillow's own bomb limit, so it is
    our budget that refuses it."""
    response = await send(client, entrepreneur, craft(5000, 5000), fmt, "cover_image")
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "IMAGE_TOO_LARGE"
    assert error["details"][0]["max_pixels"] == settings.media_cover_max_pixels
    assert (error["details"][0]["width"], error["details"][0]["height"]) == (5000, 5000)
    small = await send(client, entrepreneur, craft(40, 40), fmt, "cover_image")
    assert (small.status_code, small.json()["error"]["code"]) == (422, "INVALID_IMAGE")


# --- the first frame only ---------------------------------------------------------------------


def _frames(n: int, size: tuple[int, int] = (60, 40)) -> list[Image.Image]:
    colours = [(220, 20, 20), (20, 220, 20), (20, 20, 220)]
    return [Image.new("RGB", size, colours[i % 3]) for i in range(n)]


def _animated(fmt: str, n: int, size: tuple[int, int] = (60, 40)) -> bytes:
    frames = _frames(n, size)
    out = io.BytesIO()
    frames[0].save(out, format=fmt, save_all=True, append_images=frames[1:], duration=50, loop=0)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
async def test_animation_stored_as_its_first_frame(
    app, client: AsyncClient, entrepreneur, fmt: str
) -> None:
    data = _animated(fmt, 3)
    with Image.open(io.BytesIO(data)) as probe:
        assert getattr(probe, "n_frames", 1) == 3
    response = await send(client, entrepreneur, data, fmt, "cover_image")
    assert response.status_code == 201, response.text
    main, _ = await stored(app, response.json())
    with Image.open(io.BytesIO(main)) as kept:
        assert getattr(kept, "n_frames", 1) == 1
        red, green, _ = pixel(kept.convert("RGB"), (30, 20))
        assert red > 180
        assert green < 60
    if fmt == "PNG":
        assert b"acTL" not in png_chunks(main)
        assert b"fcTL" not in png_chunks(main)


async def test_frame_count_does_not_multiply_the_cost(
    app, client: AsyncClient, entrepreneur
) -> None:
    """300 frames of 90×90: 300× the avatar budget if every frame were decoded; accepted
    because only the first one is."""
    response = await send(client, entrepreneur, _animated("GIF", 300, (90, 90)), "GIF", "avatar")
    assert response.status_code == 201, response.text


# --- the bounded pool -------------------------------------------------------------------------


@pytest.mark.parametrize("settings_overrides", [{"media_processing_workers": 1}])
async def test_one_worker_decodes_at_a_time(app, client: AsyncClient, entrepreneur) -> None:
    data = image("PNG", (300, 200))
    responses = await asyncio.gather(
        *(upload(client, entrepreneur, data, purpose="cover_image") for _ in range(6))
    )
    assert [r.status_code for r in responses] == [201] * 6
    assert app.state.media_pool.peak_running == 1


@pytest.mark.parametrize(
    "settings_overrides",
    [{"media_processing_workers": 1, "media_processing_queue": 0, "media_processing_wait_seconds": 2}],
)  # fmt: skip
async def test_busy_pool_answers_503_and_leaves_nothing(
    app, client: AsyncClient, entrepreneur
) -> None:
    pool: CpuPool = app.state.media_pool
    release = threading.Event()
    blocker = asyncio.create_task(pool.run(lambda: release.wait(10)))
    await asyncio.sleep(0.05)
    busy = await upload(client, entrepreneur, image("PNG", (30, 30)))
    release.set()
    await blocker
    assert busy.status_code == 503
    assert busy.json()["error"]["code"] == "MEDIA_BUSY"
    assert int(busy.headers["retry-after"]) >= 1
    assert await Media.find_all().count() == 0
    assert await stored_names(app) == []
    assert (await upload(client, entrepreneur, image("PNG", (30, 30)))).status_code == 201


async def test_pool_queue_and_wait_limits() -> None:
    pool = CpuPool(workers=1, queue=1, wait_seconds=0.2)
    release = threading.Event()
    try:
        running = asyncio.create_task(pool.run(lambda: release.wait(10)))
        await asyncio.sleep(0.05)
        waiting = asyncio.create_task(pool.run(lambda: "second"))
        await asyncio.sleep(0.01)
        with pytest.raises(PoolBusy):  # the one queue place is taken
            await pool.run(lambda: "third")
        with pytest.raises(PoolBusy):  # the waiter gave up after wait_seconds
            await waiting
        release.set()
        assert await running is True
        assert await pool.run(lambda: "later") == "later"
    finally:
        release.set()
        await pool.close()


async def test_cancelled_caller_keeps_its_slot_until_the_thread_ends() -> None:
    """A client that hangs up cannot let a second decode start beside the first."""
    pool = CpuPool(workers=1, queue=4, wait_seconds=5)
    release = threading.Event()
    try:
        first = asyncio.create_task(pool.run(lambda: release.wait(10)))
        await asyncio.sleep(0.05)
        first.cancel()
        second = asyncio.create_task(pool.run(lambda: pool.running))
        await asyncio.sleep(0.1)
        assert not second.done()  # still waiting: the first thread runs on
        release.set()
        assert await second == 1  # ran alone
        assert pool.peak_running == 1
    finally:
        release.set()
        await pool.close()
