"""Periodic enqueues, safe to run on every instance at once.

Taskiq's scheduler loop fires each schedule on every scheduler that runs it (two schedulers:
twice per period), fires a cron schedule in the minute it starts, and gives schedules random
ids unless told otherwise. Here every schedule has an explicit `schedule_id`, and before a
fire is sent it must win a guard for its (schedule, slot): `SET NX EX` in Redis when there is
one, a set in memory otherwise (one process). A slot is the cron minute or the interval
bucket, so a scheduler restarted within the minute it already fired does not fire again.

The guard makes duplicate fires rare, not impossible (a Redis failover can lose a key): the
work itself stays correct because scheduled tasks claim due work in MongoDB
(`app.tasks.claims`) and their effects are idempotent.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import timedelta

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from taskiq import ScheduledTask, ScheduleSource
from taskiq.cli.scheduler.run import SchedulerLoop
from taskiq.exceptions import ScheduledTaskCancelledError
from taskiq.scheduler.scheduler import TaskiqScheduler

from app.tasks.registry import Schedule

log = structlog.get_logger("app.tasks")


def slot_of(task: ScheduledTask, now: float) -> tuple[int, int]:
    """(slot number, slot length in seconds) of a fire at epoch `now`."""
    if task.interval is not None:
        length = (
            int(task.interval.total_seconds())
            if isinstance(task.interval, timedelta)
            else int(task.interval)
        )
    else:
        length = 60  # cron resolution is the minute
    return int(now // length), length


class SlotGuard:
    """Who fires a (schedule, slot): the first to claim it."""

    def __init__(self, redis: Redis | None, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self._local: dict[str, int] = {}

    async def claim(self, schedule_id: str, slot: int, length: int) -> bool:
        if self.redis is None:
            if self._local.get(schedule_id) == slot:
                return False
            self._local[schedule_id] = slot
            return True
        key = f"{self.prefix}:fired:{schedule_id}:{slot}"
        try:
            won = await self.redis.set(key, b"1", nx=True, ex=max(2 * length, 120))
        except (RedisError, OSError) as exc:
            # Skip this fire: the next slot's sweep catches up on whatever is due.
            log.warning(
                "schedule_guard_unavailable", schedule_id=schedule_id, error=type(exc).__name__
            )
            return False
        return bool(won)


class GuardedSource(ScheduleSource):
    """The application's schedules (explicit ids), each fire guarded per slot."""

    def __init__(self, schedules: Iterable[Schedule], guard: SlotGuard) -> None:
        super().__init__()
        self.guard = guard
        self.schedules = [
            ScheduledTask(
                task_name=s.task_name,
                labels={},
                args=[],
                kwargs=dict(s.kwargs),
                schedule_id=s.schedule_id,
                cron=s.cron,
                interval=s.interval_seconds,
            )
            for s in schedules
        ]

    async def get_schedules(self) -> list[ScheduledTask]:
        return list(self.schedules)

    async def pre_send(self, task: ScheduledTask) -> None:
        slot, length = slot_of(task, time.time())
        if not await self.guard.claim(task.schedule_id, slot, length):
            log.info("schedule_skipped", schedule_id=task.schedule_id, slot=slot)
            raise ScheduledTaskCancelledError
        # The slot travels with the message: a task can key its effects by period with it.
        task.labels["schedule_slot"] = slot
        log.info("schedule_fired", schedule_id=task.schedule_id, slot=slot)


async def run_scheduler(scheduler: TaskiqScheduler) -> None:
    """Taskiq's scheduler loop (one check a second) over our sources, until cancelled.
    Schedules are declared in code, so they are read once."""
    for source in scheduler.sources:
        await source.startup()
    loop = SchedulerLoop(scheduler)
    await loop.run(
        update_interval=timedelta(days=365),
        loop_interval=timedelta(seconds=1),
    )
