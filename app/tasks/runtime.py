"""The task runtime of one process: which broker carries tasks, who runs them, who schedules.

| REDIS_URL | role   | broker                      | runs tasks | runs schedules |
|-----------|--------|-----------------------------|------------|----------------|
| unset     | api    | in-process (`MemoryBroker`) | yes        | yes            |
| set       | api    | Redis stream (enqueue only) | no         | no             |
| set       | worker | Redis stream                | yes        | yes (guarded)  |

The API lifespan starts an `api` runtime; `python -m app.worker` a `worker` runtime. Tasks
reach the settings of their process through `current().settings`.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import structlog
from redis.asyncio import Redis
from taskiq import AsyncBroker
from taskiq.acks import AcknowledgeType
from taskiq.receiver import Receiver
from taskiq.scheduler.scheduler import TaskiqScheduler

from app.core.config import Settings
from app.tasks.brokers import MemoryBroker, StreamBroker
from app.tasks.middleware import TaskLifecycle, quiet_taskiq_logs
from app.tasks.registry import SCHEDULES, TASK_MODULES, Schedule, registry
from app.tasks.scheduler import GuardedSource, SlotGuard, run_scheduler

log = structlog.get_logger("app.tasks")

Role = Literal["api", "worker"]

_active: list[TaskRuntime] = []


def current() -> TaskRuntime | None:
    """The running runtime of this process (None in scripts and outside an app)."""
    return _active[-1] if _active else None


def import_task_modules(extra: Iterable[str] = ()) -> None:
    for module in (*TASK_MODULES, *extra):
        importlib.import_module(module)


class TaskRuntime:
    def __init__(
        self,
        settings: Settings,
        *,
        role: Role,
        schedules: Iterable[Schedule] | None = None,
        broker_options: dict[str, float] | None = None,
    ) -> None:
        import_task_modules()
        self.settings = settings
        self.role: Role = role
        self.in_process = settings.redis_url is None
        self.schedules = list(SCHEDULES if schedules is None else schedules)
        self.lifecycle = TaskLifecycle(
            max_attempts=settings.task_retry_max_attempts,
            base_seconds=settings.task_retry_base_seconds,
            max_seconds=settings.task_retry_max_seconds,
        )
        self.broker: AsyncBroker
        if settings.redis_url is None:
            self.broker = MemoryBroker(concurrency=settings.task_worker_concurrency)
        else:
            self.broker = StreamBroker(
                settings.redis_url.get_secret_value(),
                queue=settings.task_queue,
                idle_timeout_seconds=settings.task_idle_timeout_seconds,
                maxlen=settings.task_stream_maxlen,
                max_reclaims=settings.task_retry_max_attempts,
                **(broker_options or {}),  # type: ignore[arg-type]
            )
        self.broker.add_middlewares(self.lifecycle)
        self.runs_tasks = self.in_process or role == "worker"
        self.broker.is_worker_process = self.runs_tasks
        self._background: list[asyncio.Task[None]] = []
        self._finish = asyncio.Event()
        self._executor: ThreadPoolExecutor | None = None
        self._guard_redis: Redis | None = None

    @property
    def pending(self) -> int:
        """Tasks running or waiting in this process (in-process runtime)."""
        if isinstance(self.broker, MemoryBroker):
            return self.broker.pending
        return len(self.lifecycle.running)

    def healthy(self) -> bool:
        """Started, and its receiver and scheduler loops (where it has them) still run."""
        return self in _active and not any(task.done() for task in self._background)

    async def start(self) -> None:
        quiet_taskiq_logs()
        await self.broker.startup()
        registry.default_broker(self.broker)
        _active.append(self)
        if self.role == "worker" and isinstance(self.broker, StreamBroker):
            self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="task-sync")
            receiver = Receiver(
                broker=self.broker,
                executor=self._executor,
                max_async_tasks=self.settings.task_worker_concurrency,
                max_prefetch=0,
                run_startup=False,
                ack_type=AcknowledgeType.WHEN_SAVED,
                wait_tasks_timeout=self.settings.task_shutdown_grace_seconds,
            )
            self._background.append(
                asyncio.create_task(receiver.listen(self._finish), name="task-receiver")
            )
        if self.runs_tasks and self.settings.task_scheduler_enabled and self.schedules:
            self._background.append(
                asyncio.create_task(run_scheduler(self._scheduler()), name="task-scheduler")
            )
        if self.in_process and self.settings.is_production:
            log.warning(
                "tasks_in_process",
                message="REDIS_URL is unset: tasks run inside each API process and are lost "
                "when it stops; set REDIS_URL and run `python -m app.worker`",
            )
        log.info(
            "task_runtime_started",
            role=self.role,
            broker="memory" if self.in_process else "redis",
            schedules=len(self.schedules) if self.runs_tasks else 0,
        )

    def _scheduler(self) -> TaskiqScheduler:
        if isinstance(self.broker, StreamBroker):
            self._guard_redis = self.broker.redis()
        guard = SlotGuard(self._guard_redis, prefix=self.settings.task_queue)
        return TaskiqScheduler(self.broker, [GuardedSource(self.schedules, guard)])

    async def drain(self) -> None:
        """Wait until every task enqueued so far has finished (tests; wrap in a timeout)."""
        if isinstance(self.broker, MemoryBroker):
            await self.broker.drain()
            return
        assert isinstance(self.broker, StreamBroker)  # noqa: S101
        while await self.broker.backlog() or self.lifecycle.running:  # noqa: ASYNC110 - polls Redis
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        """Stop taking work; give running tasks the grace period; cancel the rest (in-process
        they are lost, on Redis they stay pending and another worker redelivers them)."""
        grace = self.settings.task_shutdown_grace_seconds
        for task in self._background:
            if task.get_name() == "task-scheduler":
                task.cancel()
        receivers = [t for t in self._background if t.get_name() == "task-receiver"]
        if receivers and isinstance(self.broker, StreamBroker):
            # Stop reading; the receiver then ends by itself once running tasks finish (it
            # waits for them up to the grace period).
            self.broker.stop_listening()
            _, stuck = await asyncio.wait(receivers, timeout=self.broker.block / 1000 + grace + 1)
            if stuck:  # never let shutdown hang on it
                self._finish.set()
                _, stuck = await asyncio.wait(stuck, timeout=2)
                for task in stuck:
                    task.cancel()
        cancelled = 0
        if isinstance(self.broker, MemoryBroker):
            cancelled = await self.broker.close(grace)
        else:
            cancelled = len(self.lifecycle.running)
            for task in list(self.lifecycle.running):
                task.cancel()
        leftovers = [*self._background, *self.lifecycle.running]
        if leftovers:
            await asyncio.wait(leftovers, timeout=5)
        if cancelled:
            log.warning("tasks_cancelled_at_shutdown", tasks=cancelled)
        if self._guard_redis is not None:
            await self._guard_redis.aclose()
        await self.broker.shutdown()
        if self._executor is not None:
            self._executor.shutdown(wait=False)
        if self in _active:
            _active.remove(self)
        previous = current()
        registry.default_broker(previous.broker if previous else None)  # type: ignore[arg-type]
        log.info("task_runtime_stopped", role=self.role)
