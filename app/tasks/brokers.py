"""The two brokers a runtime can use, each closing a gap measured in Taskiq 0.13 / taskiq-redis
1.2.4 (see STACK.md):

- `MemoryBroker` (embedded default): Taskiq's `InMemoryBroker`, plus delayed messages (the
  retry back-off) on asyncio timers, and a drain/close that also covers those timers.
- `StreamBroker` (REDIS_URL): `RedisStreamBroker`, plus
  * delayed messages in a sorted set that workers move to the stream atomically when due
    (the plain broker ignores a retry's delay and redelivers at once);
  * reclaiming messages of dead workers on a timer, not only after new messages arrive
    (upstream never reclaims on a quiet stream);
  * a heartbeat renewing the messages a live worker holds, so a task running longer than
    the idle timeout is not reclaimed by a second worker while it still runs.

A message's `eta` label (epoch seconds) delays it; both brokers honour it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from taskiq import AckableMessage, AsyncBroker
from taskiq.brokers.inmemory_broker import InMemoryBroker
from taskiq.message import BrokerMessage
from taskiq_redis import RedisStreamBroker

log = structlog.get_logger("app.tasks")


def eta_of(message: BrokerMessage) -> float:
    value = message.labels.get("eta")
    try:
        return float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


class MemoryBroker(InMemoryBroker):
    """Runs tasks in this process (tests, `make run`): same serialisation, middlewares and
    receiver as a worker. Nothing survives a restart; due work in MongoDB is re-claimed by
    the next sweep."""

    def __init__(self, *, concurrency: int) -> None:
        super().__init__(max_async_tasks=concurrency, propagate_exceptions=True)
        self._timers: set[asyncio.Task[None]] = set()

    async def kick(self, message: BrokerMessage) -> None:
        delay = eta_of(message) - time.time()
        if delay <= 0:
            await super().kick(message)
            return
        timer = asyncio.create_task(self._later(message, delay), name=f"eta:{message.task_name}")
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)

    async def _later(self, message: BrokerMessage, delay: float) -> None:
        await asyncio.sleep(delay)
        await super().kick(message)

    @property
    def pending(self) -> int:
        return len(self._running_tasks) + len(self._timers)

    async def drain(self) -> None:
        """Wait until nothing runs or waits, including tasks that tasks enqueued."""
        while self._running_tasks or self._timers:
            await asyncio.gather(*self._running_tasks, *self._timers, return_exceptions=True)

    async def close(self, grace_seconds: float) -> int:
        """Give running tasks `grace_seconds`, then cancel what is left (delayed retries
        included); returns how many were cancelled."""
        for timer in list(self._timers):
            timer.cancel()
        running = list(self._running_tasks)
        if running:
            _, unfinished = await asyncio.wait(running, timeout=grace_seconds)
        else:
            unfinished = set()
        for task in unfinished:
            task.cancel()
        leftovers = [*unfinished, *self._timers]
        if leftovers:
            await asyncio.gather(*leftovers, return_exceptions=True)
        return len(unfinished)


# Move due delayed messages to the stream: atomic, so with several workers each message is
# moved exactly once, and a crash cannot lose one between the two steps.
_PROMOTE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  redis.call('ZREM', KEYS[1], member)
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'data', member)
end
return #due
"""

# Renew the messages this consumer still owns (XCLAIM to itself resets their idle time);
# messages another consumer has taken over meanwhile are left alone.
_HEARTBEAT = """
local renewed = 0
for i = 3, #ARGV do
  local owned = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if #owned > 0 then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    renewed = renewed + 1
  end
end
return renewed
"""


class StreamBroker(RedisStreamBroker):
    """Redis streams with a consumer group: at-least-once delivery to workers."""

    def __init__(
        self,
        url: str,
        *,
        queue: str,
        idle_timeout_seconds: float,
        maxlen: int,
        max_reclaims: int = 5,
        block_ms: int = 2000,
        poll_seconds: float = 0.5,
    ) -> None:
        super().__init__(
            url,
            queue_name=queue,
            consumer_group_name=f"{queue}:workers",
            # A group created after messages were added still delivers them.
            consumer_id="0",
            idle_timeout=int(idle_timeout_seconds * 1000),
            xread_block=block_ms,
            maxlen=maxlen,
            approximate=True,
            xread_count=1,  # a message waits in Redis, not in a busy worker's buffer
            socket_timeout=max(10.0, block_ms / 1000 + 5),
            socket_connect_timeout=5,
            health_check_interval=30,
        )
        self.delayed_key = f"{queue}:delayed"
        self.max_reclaims = max_reclaims
        self.poll_seconds = poll_seconds
        self.reclaim_every = max(poll_seconds, idle_timeout_seconds / 2)
        self.heartbeat_every = max(0.2, idle_timeout_seconds / 4)
        self._inflight: set[str] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._stopping = False

    def stop_listening(self) -> None:
        """End `listen` after the read in progress (at most `block_ms`). Cancelling that read
        instead is what left upstream's idle worker hanging on SIGTERM: a blocking Redis
        read interrupted by cancellation may never return."""
        self._stopping = True

    def redis(self) -> Redis:
        return Redis(connection_pool=self.connection_pool)

    async def startup(self) -> None:
        if not self.is_worker_process:
            # An API instance only adds messages: it needs no consumer group, and must start
            # (and answer what does not enqueue) while Redis is briefly away.
            await AsyncBroker.startup(self)
            return
        await super().startup()
        self._loops = [
            asyncio.create_task(self._every(self.poll_seconds, self.promote_due), name="promote"),
            asyncio.create_task(self._every(self.heartbeat_every, self.heartbeat), name="beat"),
        ]

    async def shutdown(self) -> None:
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        await super().shutdown()

    async def kick(self, message: BrokerMessage) -> None:
        eta = eta_of(message)
        if eta <= time.time():
            await super().kick(message)
            return
        async with self.redis() as redis:
            await redis.zadd(self.delayed_key, {message.message: eta})

    async def promote_due(self) -> int:
        async with self.redis() as redis:
            moved = await redis.eval(
                _PROMOTE, 2, self.delayed_key, self.queue_name, time.time(), 100, self.maxlen or 0
            )
        return int(moved)

    async def heartbeat(self) -> int:
        ids = list(self._inflight)
        if not ids:
            return 0
        async with self.redis() as redis:
            renewed = await redis.eval(
                _HEARTBEAT, 1, self.queue_name, self.consumer_group_name, self.consumer_name, *ids
            )
        return int(renewed)

    async def _every(self, seconds: float, action: Callable[[], Awaitable[int]]) -> None:
        failures = 0
        while True:
            try:
                await action()
                failures = 0
            except (RedisError, OSError) as exc:  # Redis briefly away: back off, try again
                failures += 1
                if failures == 1 or failures % 10 == 0:
                    log.warning(
                        "task_broker_loop_error", loop=action.__name__, error=type(exc).__name__
                    )
            await asyncio.sleep(min(30.0, seconds * 2**failures) if failures else seconds)

    def _ackable(self, msg_id: bytes | str, fields: dict[bytes, bytes]) -> AckableMessage:
        key = msg_id.decode() if isinstance(msg_id, bytes) else msg_id
        self._inflight.add(key)

        async def ack() -> None:
            async with self.redis() as redis:
                await redis.xack(self.queue_name, self.consumer_group_name, key)
            self._inflight.discard(key)

        return AckableMessage(data=fields[b"data"], ack=ack)

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """New messages as they come; every `reclaim_every` seconds, also the messages that
        dead consumers left pending longer than the idle timeout. While Redis is away, wait
        and reconnect (with back-off) instead of ending the worker's receiver."""
        delay = 0.5
        while not self._stopping:
            try:
                async for message in self._read():
                    delay = 0.5
                    yield message
            except (RedisError, OSError) as exc:
                log.warning("task_broker_unreachable", error=type(exc).__name__, retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _read(self) -> AsyncGenerator[AckableMessage, None]:
        # (Re)declare the group: after a failover to an empty replica, or a flush, it is gone.
        await self._declare_consumer_group()
        next_reclaim = 0.0
        async with self.redis() as redis:
            while not self._stopping:
                fetched: Any = await redis.xreadgroup(
                    self.consumer_group_name,
                    self.consumer_name,
                    {self.queue_name: ">"},
                    block=self.block,
                    count=self.count,
                )
                for _stream, messages in fetched or []:
                    for msg_id, fields in messages:
                        yield self._ackable(msg_id, fields)
                if self._stopping or time.monotonic() < next_reclaim:
                    continue
                next_reclaim = time.monotonic() + self.reclaim_every
                claimed: Any = await redis.xautoclaim(
                    self.queue_name,
                    self.consumer_group_name,
                    self.consumer_name,
                    min_idle_time=self.idle_timeout,
                    start_id="0-0",
                    count=self.unacknowledged_batch_size,
                )
                for msg_id, fields in claimed[1]:
                    if not fields:  # the entry was trimmed from the stream meanwhile
                        continue
                    if await self._too_many_reclaims(redis, msg_id):
                        continue
                    yield self._ackable(msg_id, fields)

    async def _too_many_reclaims(self, redis: Redis, msg_id: bytes | str) -> bool:
        """A message whose workers keep dying (it crashes or exhausts them) is given up after
        `max_reclaims` deliveries instead of taking every worker down in turn."""
        key = msg_id.decode() if isinstance(msg_id, bytes) else msg_id
        counter = f"{self.queue_name}:reclaims:{key}"
        reclaims = int(await redis.incr(counter))
        await redis.expire(counter, 7 * 24 * 3600)
        if reclaims <= self.max_reclaims:
            log.warning("task_message_reclaimed", message_id=key, reclaims=reclaims)
            return False
        await redis.xack(self.queue_name, self.consumer_group_name, key)
        log.error("task_message_abandoned", message_id=key, reclaims=reclaims)
        return True

    async def backlog(self) -> int:
        """Messages not yet finished: undelivered, delivered but unacknowledged, delayed."""
        async with self.redis() as redis:
            delayed = int(await redis.zcard(self.delayed_key))
            groups: Any = []
            with contextlib.suppress(RedisError):  # no stream yet
                groups = await redis.xinfo_groups(self.queue_name)
            for group in groups:
                if group["name"].decode() == self.consumer_group_name:
                    return delayed + int(group["pending"]) + int(group.get("lag") or 0)
            # No group yet (no worker has read this stream): everything in it is waiting.
            return delayed + int(await redis.xlen(self.queue_name))
