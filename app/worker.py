"""The worker process: `python -m app.worker` (same image as the API).

Runs the tasks the API instances enqueue on Redis (REDIS_URL) and the schedules; run as
many as the load needs, on as many machines — each message goes to one worker, schedules
fire once per slot, due work is claimed in MongoDB. SIGTERM/SIGINT: stop taking messages,
let running tasks finish for TASK_SHUTDOWN_GRACE_SECONDS, then leave the rest pending for
another worker (a second signal exits at once). With WORKER_HEALTH_PORT set it answers
`GET /api/v1/health/live` there (App Service and the image's HEALTHCHECK probe that path).

`--import MODULE` loads more task modules (tests use it for their own tasks).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence

import structlog

from app.core.config import Settings
from app.core.logging import configure_logging
from app.db.session import connect
from app.main import load_settings
from app.services.notifications import stream as notification_stream
from app.services.recommendations.engine import Recommender
from app.tasks.runtime import TaskRuntime, import_task_modules

log = structlog.get_logger("app.worker")


async def _health_server(port: int, runtime: TaskRuntime) -> asyncio.Server:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), timeout=5)
            parts = line.decode("latin-1").split()
            ok = runtime.healthy()
            if len(parts) >= 2 and parts[1] in {"/api/v1/health/live", "/health"}:
                status = "200 OK" if ok else "503 Service Unavailable"
                body = b'{"status":"ok"}' if ok else b'{"status":"unavailable"}'
            else:
                status, body = "404 Not Found", b'{"status":"not_found"}'
            writer.write(
                f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (OSError, TimeoutError, UnicodeDecodeError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(answer, host="0.0.0.0", port=port)  # noqa: S104  # nosec B104 - container


async def serve(
    settings: Settings, stop: asyncio.Event, *, extra_modules: Sequence[str] = ()
) -> None:
    """Run until `stop` is set, then shut down gracefully."""
    database = await connect(settings)
    import_task_modules(extra_modules)
    recommender = Recommender(settings).start()
    runtime = TaskRuntime(settings, role="worker")
    await runtime.start()
    hub = await notification_stream.start(settings, listen=False)  # publishes to API streams
    health = (
        await _health_server(settings.worker_health_port, runtime)
        if settings.worker_health_port
        else None
    )
    log.info("worker_started", pid=os.getpid(), concurrency=settings.task_worker_concurrency)
    try:
        await stop.wait()
        log.info("worker_stopping")
    finally:
        if health is not None:
            health.close()
        await runtime.close()
        await recommender.close()
        await notification_stream.stop(hub)
        database.close()
        log.info("worker_stopped")


async def _run(settings: Settings, extra_modules: Sequence[str]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():  # the second signal: leave now; unfinished messages are redelivered
            log.warning("worker_killed")
            os._exit(1)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, on_signal)
    await serve(settings, stop, extra_modules=extra_modules)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.worker", description=__doc__)
    parser.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE")
    args = parser.parse_args(argv)
    settings = load_settings()
    configure_logging(settings)
    if settings.redis_url is None:
        print(  # noqa: T201 - a command-line answer
            "REDIS_URL is not set: without Redis, tasks run inside the API process "
            "(make run) and no worker is needed.",
            file=sys.stderr,
        )
        return 2
    asyncio.run(_run(settings, args.imports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
