"""Hostile-media benchmark: bursts of 10 concurrent worst-case uploads through a real server.

Starts uvicorn (embedded database, local storage in a temp folder, default media limits),
then for each purpose (avatar, organisation_logo, cover_image) and each worst case under
that purpose's limits sends 10 identical uploads at once and reports:
- the answers (every one must be a 4xx or a 201) and the slowest answer (target ≤ 5 s);
- the server's CPU time for the burst (user + system): what the uploads cost, independent
  of what else the machine runs (the wall times are not, on a shared machine);
- the server's peak RSS growth during the burst (Linux VmHWM, reset before each burst via
  /proc/<pid>/clear_refs) and over the whole run (target ≤ 300 MiB);
- /health/live latency while the burst runs, polled every 10 ms from a separate process
  (target p99 ≤ 100 ms).

Worst cases: the largest image each format may have (PNG/baseline JPEG at the full pixel
budget, progressive JPEG and WebP at their reduced budgets), filled with noise up to the
byte limit where that is possible and all zeros where it is not; a GIF with as many frames
as the byte limit holds on the largest canvas; PNGs that decompress to far more than their
size (huge dimensions, zTXt chunks); headers just over the budget; and files whose
structure would keep a decoder looping (a progressive JPEG of empty scans, a PNG of empty
chunks) — refused before decoding.

    python scripts/bench_hostile_media.py [--burst 10] [--only cover_image]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import math
import multiprocessing
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import httpx
from _common import ROOT
from PIL import Image, PngImagePlugin

from app.core.config import Settings

MIB = 1024 * 1024
TARGET_RSS_MIB, TARGET_P99_MS, TARGET_ANSWER_S = 300, 100, 5.0
CTYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}


# --- the hostile files ------------------------------------------------------------------------


def _dims(pixels: int) -> tuple[int, int]:
    width = int(math.sqrt(pixels * 4 / 3))
    return width, pixels // width


def _noisy(mode: str, size: tuple[int, int], fraction: float) -> Image.Image:
    """A gradient (compresses well) with its top `fraction` replaced by noise (does not)."""
    image = Image.linear_gradient("L").resize(size).convert(mode)
    rows = max(1, int(size[1] * fraction))
    bands = len(mode)
    image.paste(Image.frombytes(mode, (size[0], rows), os.urandom(size[0] * rows * bands)))
    return image


def _fill(encode: Callable[[float], bytes], limit: int) -> bytes:
    """The noisiest encoding that still fits the byte limit (a few tries, halving)."""
    fraction = 0.5
    while fraction > 0.001:
        data = encode(fraction)
        if len(data) <= limit:
            return data
        fraction *= 0.6
    return encode(0)


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def png_at_budget(pixels: int, limit: int) -> bytes:
    size = _dims(pixels)
    return _fill(lambda f: _save(_noisy("RGBA", size, f), "PNG", compress_level=9), limit)


def png_zeros_at_budget(pixels: int, limit: int) -> bytes:
    """The full pixel budget in a few KiB: memory follows the budget, not the file size."""
    return _save(Image.new("RGBA", _dims(pixels)), "PNG", compress_level=9)


def jpeg_at_budget(pixels: int, limit: int) -> bytes:
    size = _dims(pixels)
    return _fill(lambda f: _save(_noisy("RGB", size, f), "JPEG", quality=95), limit)


def jpeg_progressive_at_budget(pixels: int, limit: int) -> bytes:
    size = _dims(pixels * 4 // 10)  # 10 bytes per pixel while decoding
    encode = lambda f: _save(  # noqa: E731
        _noisy("RGB", size, f), "JPEG", quality=95, progressive=True, subsampling=0
    )
    return _fill(encode, limit)


def jpeg_largest_declared(pixels: int, limit: int) -> bytes:
    """Just under Pillow's own bomb limit (89 MP): decoded at 1/4 or 1/8 scale, but every
    DCT block is still entropy-decoded."""
    image = Image.linear_gradient("L").resize((10922, 8192)).convert("RGB")
    return _save(image, "JPEG", quality=95)


def webp_at_budget(pixels: int, limit: int) -> bytes:
    size = _dims(pixels // 4)  # 16 bytes per pixel while decoding
    return _fill(lambda f: _save(_noisy("RGBA", size, f), "WEBP", quality=100), limit)


def gif_max_frames(pixels: int, limit: int) -> bytes:
    """As many 1×1 frames as the byte limit holds, on the largest canvas allowed."""
    width, height = _dims(pixels)
    head = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    frame = (
        b"\x21\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 10 ms
        + b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    )  # fmt: skip
    count = (limit - len(head) - 1) // len(frame)
    return head + frame * count + b"\x3b"


def png_bomb(pixels: int, limit: int) -> bytes:
    """Declares 100,000 × 100,000 RGBA; its IDAT inflates ~1000× (refused from the header)."""
    width = height = 100_000
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    packer, zeros, raw = zlib.compressobj(9), b"\0" * MIB, b""
    while len(raw) < min(limit, MIB):  # ~1 MiB that inflates to ~1 GiB
        raw += packer.compress(zeros)
    raw += packer.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def png_text_bomb(pixels: int, limit: int) -> bytes:
    """A small image whose zTXt chunks inflate to far more than the file (1 MiB each)."""
    info = PngImagePlugin.PngInfo()
    payload = "x" * (MIB - 64)
    for n in range(min(64, limit // 2048)):
        info.add_text(f"k{n}", payload, zip=True)
    return _save(Image.new("RGB", (64, 64)), "PNG", pnginfo=info)


def jpeg_scan_flood(pixels: int, limit: int) -> bytes:
    """A progressive JPEG at its budget followed by as many empty scans as the byte limit
    holds (10 bytes each; libjpeg decodes each over the whole image): refused by structure."""
    size = _dims(pixels * 4 // 10)
    data = _save(Image.linear_gradient("L").resize(size).convert("RGB"), "JPEG", progressive=True)
    start = data.rfind(b"\xff\xda")
    header = data[start : start + 2 + int.from_bytes(data[start + 2 : start + 4], "big")]
    return data[:-2] + header * ((limit - len(data)) // len(header)) + b"\xff\xd9"


def png_chunk_flood(pixels: int, limit: int) -> bytes:
    """A small PNG with as many empty private chunks as the byte limit holds (Pillow walks
    each in Python): refused by structure."""
    data = _save(Image.new("RGB", (64, 64)), "PNG")
    empty = struct.pack(">I", 0) + b"zzZz" + struct.pack(">I", zlib.crc32(b"zzZz"))
    at = data.find(b"IDAT") - 4
    return data[:at] + empty * ((limit - len(data)) // len(empty)) + data[at:]


def png_one_row_over(pixels: int, limit: int) -> bytes:
    width, height = _dims(pixels)
    return _save(Image.new("L", (width, height + 1)), "PNG")


CASES: dict[str, tuple[str, Callable[[int, int], bytes]]] = {
    "png_rgba_full_budget": ("png", png_at_budget),
    "png_zeros_full_budget": ("png", png_zeros_at_budget),
    "jpeg_full_budget": ("jpg", jpeg_at_budget),
    "jpeg_progressive_444": ("jpg", jpeg_progressive_at_budget),
    "jpeg_89mp_scaled": ("jpg", jpeg_largest_declared),
    "webp_full_budget": ("webp", webp_at_budget),
    "gif_max_frames": ("gif", gif_max_frames),
    "png_bomb_100k_x_100k": ("png", png_bomb),
    "png_ztxt_bomb": ("png", png_text_bomb),
    "png_one_row_over": ("png", png_one_row_over),
    "jpeg_scan_flood": ("jpg", jpeg_scan_flood),
    "png_chunk_flood": ("png", png_chunk_flood),
}


# --- server, memory, health poller ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used: what a burst costs whatever else runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def poll_health(url: str, conn: Connection) -> None:
    """Runs in its own process: GET /health/live every 10 ms until told to stop."""
    latencies: list[float] = []
    with httpx.Client(timeout=10) as client:
        while not conn.poll():
            started = time.perf_counter()
            client.get(url)
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.01)
    conn.send(latencies)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] if ordered else 0.0


@dataclass
class Burst:
    purpose: str
    case: str
    size: int
    statuses: list[int]
    slowest_s: float
    wall_s: float
    cpu_s: float
    rss_growth_mib: float
    peak_mib: float
    health_p50: float
    health_p99: float
    health_max: float

    @property
    def ok(self) -> bool:
        answered = all(s == 201 or 400 <= s < 500 for s in self.statuses)
        return (
            answered
            and self.slowest_s <= TARGET_ANSWER_S
            and self.health_p99 <= TARGET_P99_MS
            and self.rss_growth_mib <= TARGET_RSS_MIB
        )


async def burst(
    client: httpx.AsyncClient, headers: dict[str, str], purpose: str, name: str, data: bytes, n: int
) -> tuple[list[int], float]:
    async def one() -> tuple[int, float]:
        started = time.perf_counter()
        response = await client.post(
            "/api/v1/media",
            headers=headers,
            data={"purpose": purpose},
            files={"file": (f"{name}.{CASES[name][0]}", data, CTYPES[CASES[name][0]])},
        )
        return response.status_code, time.perf_counter() - started

    results = await asyncio.gather(*(one() for _ in range(n)))
    return [status for status, _ in results], max(seconds for _, seconds in results)


def run(args: argparse.Namespace) -> int:
    settings = Settings(_env_file=None)
    limit = settings.media_max_image_bytes
    budgets = {
        "avatar": settings.media_avatar_max_pixels,
        "organisation_logo": settings.media_logo_max_pixels,
        "cover_image": settings.media_cover_max_pixels,
    }
    purposes = [p for p in budgets if args.only in (None, p)]
    print(
        f"limits: {limit / MIB:.0f} MiB per image; pixel budgets {budgets}; "
        f"{settings.media_processing_workers} decoding at once; burst of {args.burst}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    files = {(p, c): make(budgets[p], limit) for p in purposes for c, (_, make) in CASES.items()}
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "MONGODB_URL"}
        env |= {
            "SEED_DEMO_DATA": "false",
            "RATE_LIMIT_ENABLED": "false",
            "STORAGE_LOCAL_DIR": str(Path(tmp) / "media"),
            "LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(  # noqa: S603 - our own app
            [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--app-dir",
             str(ROOT), "--port", str(port), "--no-access-log", "--log-level", "warning"],
            cwd=tmp,
            env=env,
        )  # fmt: skip
        try:
            return asyncio.run(_measure(args, server.pid, port, purposes, files))
        finally:
            server.terminate()
            server.wait(timeout=20)


async def _measure(
    args: argparse.Namespace,
    pid: int,
    port: int,
    purposes: list[str],
    files: dict[tuple[str, str], bytes],
) -> int:
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for _ in range(150):
            try:
                if (await client.get("/api/v1/health/live")).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.2)
        account = {"email": "bench@example.org", "password": "bench-password-123"}
        await client.post("/api/v1/auth/register", json=account | {"full_name": "Bench"})
        token = (await client.post("/api/v1/auth/login/json", json=account)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        for kind in ("png", "jpg", "webp", "gif"):  # warm up: plugins, codecs, thread pool
            fmt = {"jpg": "JPEG"}.get(kind, kind.upper())
            small = _save(Image.new("RGB", (64, 64)), fmt)
            await client.post(
                "/api/v1/media",
                headers=headers,
                data={"purpose": "cover_image"},
                files={"file": (f"w.{kind}", small, CTYPES[kind])},
            )
        start_rss = status_kib(pid, "VmRSS")
        exact = reset_peak(pid)
        run_peak = start_rss
        print(f"server pid {pid}; RSS after warm-up {start_rss / 1024:.1f} MiB")
        print(
            f"{'purpose':18} {'case':24} {'size':>8} {'answers':18} {'slowest':>8} {'wall':>6} "
            f"{'cpu':>6} {'RSS +MiB':>8} {'health p50/p99/max ms':>22}"
        )
        results: list[Burst] = []
        for purpose in purposes:
            for name in CASES:
                data = files[(purpose, name)]
                before = status_kib(pid, "VmRSS")
                reset_peak(pid)
                parent, child = multiprocessing.Pipe()
                poller = multiprocessing.Process(
                    target=poll_health, args=(f"{base}/api/v1/health/live", child)
                )
                poller.start()
                await asyncio.sleep(0.3)
                started, cpu_before = time.perf_counter(), cpu_seconds(pid)
                statuses, slowest = await burst(client, headers, purpose, name, data, args.burst)
                wall = time.perf_counter() - started
                cpu = cpu_seconds(pid) - cpu_before
                peak = status_kib(pid, "VmHWM")
                parent.send("stop")
                latencies: list[float] = parent.recv()
                poller.join()
                run_peak = max(run_peak, peak)
                result = Burst(
                    purpose, name, len(data), statuses, slowest, wall, cpu,
                    max(0, peak - before) / 1024, peak / 1024,
                    percentile(latencies, 0.5), percentile(latencies, 0.99), max(latencies),
                )  # fmt: skip
                results.append(result)
                answers = ",".join(f"{statuses.count(s)}×{s}" for s in sorted(set(statuses)))
                print(
                    f"{purpose:18} {name:24} {len(data) / MIB:7.2f}M {answers:18} "
                    f"{slowest:7.2f}s {wall:5.2f}s {cpu:5.2f}s {result.rss_growth_mib:8.1f} "
                    f"{result.health_p50:6.1f}/{result.health_p99:6.1f}/{result.health_max:6.1f}"
                    + ("" if result.ok else "  <-- target missed")
                )
    total_growth = (run_peak - start_rss) / 1024
    worst_p99 = max(r.health_p99 for r in results)
    slowest = max(r.slowest_s for r in results)
    answered = all(s == 201 or 400 <= s < 500 for r in results for s in r.statuses)
    heaviest = max(results, key=lambda r: r.cpu_s)
    print(
        f"\nserver CPU: at most {heaviest.cpu_s:.2f} s for a burst ({heaviest.purpose}, "
        f"{heaviest.case}): {heaviest.cpu_s / args.burst:.2f} s per upload; on idle cores the "
        f"burst's wall time is about that over {os.cpu_count()} CPUs. Load average now "
        f"{os.getloadavg()[0]:.1f}."
    )
    print(
        f"\nsummary: peak RSS growth {max(r.rss_growth_mib for r in results):.1f} MiB in a burst, "
        f"{total_growth:.1f} MiB over the run (target ≤ {TARGET_RSS_MIB}); "
        f"/health/live p99 ≤ {worst_p99:.1f} ms (target ≤ {TARGET_P99_MS}); slowest answer "
        f"{slowest:.2f} s (target ≤ {TARGET_ANSWER_S}); every upload answered 4xx/201: {answered}"
        + ("" if exact else " [peak not reset between bursts: upper bounds]")
    )
    ok = all(r.ok for r in results) and total_growth <= TARGET_RSS_MIB
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--only", choices=["avatar", "organisation_logo", "cover_image"])
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
