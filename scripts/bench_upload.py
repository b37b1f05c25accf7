"""Upload benchmark: throughput and the server's peak memory for a 20 MB attachment.

Starts a real uvicorn server (embedded database, local storage in a temp folder), signs up a
user, uploads a ~20 MB PDF several times and reports MB/s and the server's peak RSS growth
(Linux VmHWM, reset before each upload via /proc/<pid>/clear_refs). Streaming keeps that
growth far below the file size.

    python scripts/bench_upload.py [--runs 3] [--size-mb 20]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def make_pdf(path: Path, size: int) -> None:
    head, tail = b"%PDF-1.4\n", b"\n%%EOF\n"
    with path.open("wb") as out:
        out.write(head)
        remaining = size - len(head) - len(tail)
        block = os.urandom(1024 * 1024)
        while remaining > 0:
            out.write(block[: min(len(block), remaining)])
            remaining -= len(block)
        out.write(tail)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size-mb", type=float, default=20)
    args = parser.parse_args()
    size = int(args.size_mb * 1024 * 1024)
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "SEED_DEMO_DATA": "false",
            "RATE_LIMIT_ENABLED": "false",
            "STORAGE_LOCAL_DIR": str(Path(tmp) / "media"),
            "MEDIA_MAX_ATTACHMENT_BYTES": str(size + 1024),
            "LOG_LEVEL": "WARNING",
        }
        env.pop("MONGODB_URL", None)
        server = subprocess.Popen(  # noqa: S603 - our own app
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:create_app",
                "--factory",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=120) as client:
                for _ in range(100):
                    try:
                        if client.get("/api/v1/health/live").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.2)
                account = {
                    "email": "bench@example.org",
                    "password": "benchmark-password-1",
                    "full_name": "Bench",
                }
                client.post("/api/v1/auth/register", json=account).raise_for_status()
                token = client.post(
                    "/api/v1/auth/login/json",
                    json={"email": account["email"], "password": account["password"]},
                ).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                pdf = Path(tmp) / "big.pdf"
                make_pdf(pdf, size)
                print(f"file: {size / 1048576:.1f} MiB; server pid {server.pid}")
                for run in range(1, args.runs + 1):
                    baseline = status_kib(server.pid, "VmRSS")
                    exact = reset_peak(server.pid)
                    started = time.perf_counter()
                    with pdf.open("rb") as handle:
                        response = client.post(
                            "/api/v1/media",
                            headers=headers,
                            data={"purpose": "attachment"},
                            files={"file": ("big.pdf", handle, "application/pdf")},
                        )
                    elapsed = time.perf_counter() - started
                    response.raise_for_status()
                    peak = status_kib(server.pid, "VmHWM")
                    growth_mib = max(0, peak - baseline) / 1024
                    print(
                        f"run {run}: {size / 1048576 / elapsed:6.1f} MiB/s, {elapsed * 1000:7.0f} ms, "
                        f"server RSS {baseline / 1024:6.1f} MiB -> peak {peak / 1024:6.1f} MiB "
                        f"(growth {growth_mib:5.1f} MiB = {growth_mib / (size / 1048576) * 100:4.1f}% of the file)"
                        + ("" if exact else " [peak not reset: upper bound]")
                    )
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
