"""The mail queue seam: mail never goes out on the request path.

A request calls `enqueue(job, ...)`; the job (which looks up what it needs, issues tokens and
calls `send`) runs as a task on the task engine (`app/tasks/email.py`: the worker, or
in-process without REDIS_URL), so a response looks and takes the same whether or not mail
was sent. Jobs are module-level functions taking plain arguments (addresses, ids, the
settings).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec

P = ParamSpec("P")


async def enqueue(
    name: str, job: Callable[P, Awaitable[None]], *args: P.args, **kwargs: P.kwargs
) -> None:
    """Run an e-mail job off the request path (on the worker). Outside a running app
    (scripts), run it now."""
    from app.tasks import email as email_tasks  # the task module imports this one

    await email_tasks.enqueue(None, name, job, *args, **kwargs)


async def enqueue_once(
    key: str, name: str, job: Callable[P, Awaitable[None]], *args: P.args, **kwargs: P.kwargs
) -> None:
    """Like `enqueue` with a message key of the caller's (e.g. `digest:<user>:<period>`):
    however often it is enqueued, the e-mail goes out once."""
    from app.tasks import email as email_tasks

    await email_tasks.enqueue(key, name, job, *args, **kwargs)


async def drain() -> None:
    """Wait for every queued task of the running app (tests read the outbox after)."""
    from app.tasks.runtime import current

    runtime = current()
    if runtime is not None:
        await runtime.drain()
