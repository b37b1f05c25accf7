"""The mail queue seam: e-mail jobs run off the request path.

A request calls `enqueue(job, ...)`; the job (which looks up what it needs, issues tokens and
calls `send`) runs in a background task tracked by the queue the app lifespan owns, so a
response looks and takes the same whether or not mail was sent. `enqueue` is the single seam
a task broker (Taskiq) replaces later: jobs take plain arguments (addresses, ids) for that
reason.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import ParamSpec

import structlog

log = structlog.get_logger("app.email")

P = ParamSpec("P")


class MailQueue:
    """Background e-mail jobs of one running app: tracked, drained, cancelled at shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, name: str, job: Awaitable[None]) -> None:
        task = asyncio.create_task(_run(name, job), name=f"email:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait until no job is left, including jobs that jobs enqueued."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self, grace_seconds: float) -> None:
        """Give running jobs `grace_seconds`, then cancel what is left."""
        if not self._tasks:
            return
        _, unfinished = await asyncio.wait(list(self._tasks), timeout=grace_seconds)
        for task in unfinished:
            task.cancel()
        if unfinished:
            await asyncio.gather(*unfinished, return_exceptions=True)
            log.warning("email_jobs_cancelled", jobs=len(unfinished))


async def _run(name: str, job: Awaitable[None]) -> None:
    """One job: a line when it starts and one when it ends (name, duration, outcome), with the
    enqueuing request's id (the task copies its context); failures logged, not raised."""
    log.info("email_job_started", job=name)
    started = time.perf_counter()
    outcome = "ok"
    try:
        await job
    except asyncio.CancelledError:
        outcome = "cancelled"
        raise
    except Exception as exc:  # a job must never take the queue down; log type only (no secrets)
        outcome = "failed"
        log.error("email_job_failed", job=name, error=type(exc).__name__)
    finally:
        log.info(
            "email_job_done",
            job=name,
            outcome=outcome,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )


_state: dict[str, MailQueue] = {}


def start_queue() -> MailQueue:
    """Called by the app lifespan; `enqueue` uses this queue until `stop_queue`."""
    queue = MailQueue()
    _state["queue"] = queue
    return queue


async def stop_queue(queue: MailQueue, grace_seconds: float = 10.0) -> None:
    if _state.get("queue") is queue:
        del _state["queue"]
    await queue.close(grace_seconds)


async def enqueue(
    name: str, job: Callable[P, Awaitable[None]], *args: P.args, **kwargs: P.kwargs
) -> None:
    """Run an e-mail job off the request path. Outside a running app (scripts), run it now."""
    queue = _state.get("queue")
    if queue is None:
        await _run(name, job(*args, **kwargs))
        return
    queue.submit(name, job(*args, **kwargs))


async def drain() -> None:
    """Wait for every queued e-mail job of the running app (tests read the outbox after)."""
    queue = _state.get("queue")
    if queue is not None:
        await queue.drain()
