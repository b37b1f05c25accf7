"""A bounded pool for CPU- and memory-heavy work (image decoding and re-encoding; scoring
recommendations, in a pool of its own).

At most `workers` jobs run at once, each in a dedicated thread (Pillow releases the GIL while
it decodes and encodes, so the event loop keeps serving other requests). At most `queue`
callers wait for a free worker, each for at most `wait_seconds`; anyone beyond that is told
to come back later (503 + Retry-After) instead of piling up. A slot is released when its
thread really finishes — not when the waiting request is cancelled — so a client that hangs
up never lets more than `workers` jobs run at once.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from anyio import to_thread

from app.core.exceptions import ServiceUnavailable

R = TypeVar("R")


class PoolBusy(ServiceUnavailable):
    code = "MEDIA_BUSY"
    message = "Too many uploads are being processed; try again shortly."


class CpuPool:
    def __init__(
        self,
        *,
        workers: int,
        queue: int,
        wait_seconds: float,
        name: str = "cpu",
        busy: type[PoolBusy] = PoolBusy,
    ) -> None:
        self.workers = workers
        self.busy = busy
        self.queue = queue
        self.wait_seconds = wait_seconds
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._slots = asyncio.Semaphore(workers)
        self._waiting = 0
        self._lock = threading.Lock()
        self.running = 0
        self.peak_running = 0  # observed maximum, for tests and benchmarks

    def _busy(self) -> PoolBusy:
        """503 with the pool's own code (MEDIA_BUSY, RECOMMENDATIONS_BUSY) and Retry-After."""
        retry = max(1, math.ceil(self.wait_seconds / 4))
        return self.busy(headers={"Retry-After": str(retry)})

    async def run(self, fn: Callable[[], R]) -> R:
        """Run `fn` in a worker thread once a slot is free; 503 when the queue is full or the
        wait is too long."""
        if self._slots.locked() and self._waiting >= self.queue:
            raise self._busy()
        self._waiting += 1
        try:
            async with asyncio.timeout(self.wait_seconds):
                await self._slots.acquire()
        except TimeoutError:
            raise self._busy() from None
        finally:
            self._waiting -= 1
        loop = asyncio.get_running_loop()
        try:
            job: Future[R] = self._executor.submit(self._track, fn)
        except BaseException:
            self._slots.release()
            raise
        job.add_done_callback(lambda _: loop.call_soon_threadsafe(self._slots.release))
        return await asyncio.wrap_future(job)

    def _track(self, fn: Callable[[], R]) -> R:
        with self._lock:
            self.running += 1
            self.peak_running = max(self.peak_running, self.running)
        try:
            return fn()
        finally:
            with self._lock:
                self.running -= 1

    async def close(self) -> None:
        """Stop taking work; wait (in a thread) for the jobs that are running."""
        await to_thread.run_sync(lambda: self._executor.shutdown(wait=True, cancel_futures=True))
