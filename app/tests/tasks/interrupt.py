"""Loaded into a worker process (`python -m app.worker --import app.tests.tasks.interrupt`)
to stop a real engagement task at a chosen point. `HANG_AT`:

- `percolate:N` — after the N-th notification a percolation creates (fan-out to searches);
- `announce:N` — after the N-th notification an announcement's fan-out creates;
- `digest` — after a digest e-mail left, before it is marked sent.

The first task to get there pushes "hanging" to the Redis list `HANG_EVENTS` and sleeps until
the test kills the process. Without `HANG_AT` nothing changes.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

import app.email
from app.services import announcements
from app.services.saved_searches import fanout

AT = os.environ.get("HANG_AT", "")
EVENTS = os.environ.get("HANG_EVENTS", "hang-events")
REDIS_URL = os.environ.get("REDIS_URL", "")
_seen = {"notify": 0}


async def _hang() -> None:
    async with Redis.from_url(REDIS_URL) as redis:
        await redis.rpush(EVENTS, "hanging")
    await asyncio.sleep(3600)


def _after_nth(real: Callable[..., Awaitable[Any]], n: int) -> Callable[..., Awaitable[Any]]:
    async def notify(*args: Any, **kwargs: Any) -> Any:
        result = await real(*args, **kwargs)
        _seen["notify"] += 1
        if _seen["notify"] == n:
            await _hang()
        return result

    return notify


def _after_digest(real: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def send_message(*args: Any, **kwargs: Any) -> Any:
        result = await real(*args, **kwargs)
        if len(args) > 3 and args[3] == "digest":  # (settings, to, subject, template, …)
            await _hang()
        return result

    return send_message


where, _, count = AT.partition(":")
if where == "percolate":
    fanout.notify = _after_nth(fanout.notify, int(count))  # type: ignore[attr-defined,assignment]
elif where == "announce":
    announcements.notify = _after_nth(announcements.notify, int(count))  # type: ignore[attr-defined,assignment]
elif where == "digest":
    app.email.send_message = _after_digest(app.email.send_message)  # type: ignore[assignment]
