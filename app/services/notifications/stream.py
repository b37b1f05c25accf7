"""Real-time delivery of new notifications to open `GET /notifications/stream` connections.

A `Hub` fans a published notification out to this process's subscribers of that user.
Without REDIS_URL (the embedded default) publishing is in-process: the API runs the tasks
that notify, so producer and stream share the hub. With REDIS_URL a notification may be
produced by a worker while the user's stream is held by any API instance: every process
publishes on Redis (`<TASK_QUEUE>:notify:<user id>`) and each API instance listens to the
pattern once and fans out locally. Pub/sub is fire-and-forget: a stream that was not
connected catches up from the database with `Last-Event-ID`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.core.config import Settings

log = structlog.get_logger("app.notifications")

QUEUE_SIZE = 100


class Hub:
    """In-process fan-out (also the local half of the Redis hub)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}

    @contextlib.asynccontextmanager
    async def subscribe(self, user_id: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._subscribers.setdefault(user_id, set()).add(queue)
        try:
            yield queue
        finally:
            subscribers = self._subscribers.get(user_id, set())
            subscribers.discard(queue)
            if not subscribers:
                self._subscribers.pop(user_id, None)

    def deliver(self, user_id: str, message: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(user_id, ())):
            if queue.full():  # a stalled client: drop its oldest; it resumes by Last-Event-ID
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(message)

    async def publish(self, user_id: str, message: dict[str, Any]) -> None:
        self.deliver(user_id, message)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisHub(Hub):
    def __init__(self, url: str, prefix: str, *, listen: bool) -> None:
        super().__init__()
        self.redis: Redis = Redis.from_url(url)
        self.prefix = f"{prefix}:notify:"
        self.listen = listen
        self._listener: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    async def publish(self, user_id: str, message: dict[str, Any]) -> None:
        try:
            await self.redis.publish(self.prefix + user_id, json.dumps(message))
        except (RedisError, OSError) as exc:  # the inbox has it; the stream catches up
            log.warning("notification_publish_failed", error=type(exc).__name__)

    async def start(self) -> None:
        if self.listen:
            self._listener = asyncio.create_task(self._listen(), name="notification-listener")

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.psubscribe(self.prefix + "*")
                    self.ready.set()
                    delay = 0.1
                    async for raw in pubsub.listen():
                        if raw.get("type") != "pmessage":
                            continue
                        channel = raw["channel"].decode()
                        self.deliver(channel.removeprefix(self.prefix), json.loads(raw["data"]))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, ValueError) as exc:
                self.ready.clear()
                log.warning("notification_listener_reconnecting", error=type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                await self._listener
        await self.redis.aclose()


_active: list[Hub] = []


def current() -> Hub | None:
    return _active[-1] if _active else None


async def start(settings: Settings, *, listen: bool = True) -> Hub:
    """The hub of this process: the API listens, a worker only publishes."""
    hub: Hub
    if settings.redis_url is None:
        hub = Hub()
    else:
        hub = RedisHub(settings.redis_url.get_secret_value(), settings.task_queue, listen=listen)
    await hub.start()
    _active.append(hub)
    return hub


async def stop(hub: Hub) -> None:
    if hub in _active:
        _active.remove(hub)
    await hub.close()


async def publish(user_id: str, message: dict[str, Any]) -> None:
    hub = current()
    if hub is not None:
        await hub.publish(user_id, message)
