"""Several schedulers (one per instance) firing the same schedule: the slot guard lets one
fire per slot, and even without it the claimed work of a period is done once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from redis.asyncio import Redis
from taskiq.scheduler.scheduler import TaskiqScheduler

from app.models.base import utcnow
from app.tasks.registry import Schedule
from app.tasks.runtime import TaskRuntime
from app.tasks.scheduler import GuardedSource, SlotGuard, run_scheduler
from app.tests.tasks import sample
from app.tests.tasks.conftest import Engine, engine_settings, produced, runs


class NoGuard(SlotGuard):
    """As if the guard were lost (a Redis failover, a cleared key): every scheduler fires."""

    async def claim(self, schedule_id: str, slot: int, length: int) -> bool:
        return True


async def run_schedulers(
    engine: Engine, guards: list[SlotGuard], schedule: Schedule, seconds: float
) -> None:
    broker = (engine.worker or engine.app.state.tasks).broker
    loops = [
        asyncio.create_task(
            run_scheduler(TaskiqScheduler(broker, [GuardedSource([schedule], guard)]))
        )
        for guard in guards
    ]
    await asyncio.sleep(seconds)
    for loop in loops:
        loop.cancel()
    await asyncio.gather(*loops, return_exceptions=True)
    await engine.drain()


@pytest.mark.parametrize("engine", ["redis"], indirect=True)
async def test_three_schedulers_fire_each_slot_once(engine: Engine, redis_url: str) -> None:
    key = uuid.uuid4().hex
    clients = [Redis.from_url(redis_url) for _ in range(3)]
    guards = [SlotGuard(client, prefix=engine.settings.task_queue) for client in clients]
    schedule = Schedule(
        "test.tick.each-second", "test.tick", interval_seconds=1, kwargs={"key": key}
    )
    try:
        await run_schedulers(engine, guards, schedule, 3.2)
    finally:
        for client in clients:
            await client.aclose()
    slots = Counter(run["slot"] for run in await runs("tick", key))
    assert len(slots) >= 2  # it did fire, every second
    assert set(slots.values()) == {1}, slots  # …once per slot, not once per scheduler


async def test_unguarded_schedulers_still_do_each_periods_work_once(engine: Engine) -> None:
    """Three schedulers fire a sweep every second, unguarded: ~9 sweeps race for 4 units.
    Each unit is claimed by one sweep per period, so its period's work happens once."""
    key = uuid.uuid4().hex
    units = sample.collection(sample.UNITS)
    now = utcnow()
    ids = [f"{key}-{n}" for n in range(4)]
    await units.insert_many(
        [{"_id": i, "due_at": now - timedelta(minutes=n)} for n, i in enumerate(ids)]
    )
    schedule = Schedule(
        "test.sweep.each-second", "test.sweep", interval_seconds=1, kwargs={"key": key}
    )
    await run_schedulers(engine, [NoGuard(None, "x") for _ in range(3)], schedule, 2.2)
    assert len(await runs("sweep", key)) >= 6  # the sweeps did run concurrently, repeatedly
    work = Counter(run["key"] for run in await runs("unit") if run["key"] in ids)
    assert work == dict.fromkeys(ids, 1)
    assert len(await produced(f"unit:{key}")) == 4
    for doc in await units.find({"_id": {"$in": ids}}).to_list(None):
        assert doc["claim_token"] is None  # completed, not left claimed
        assert doc["due_at"] > now  # next period


@pytest.mark.parametrize("engine", ["redis"], indirect=True)
async def test_a_scheduler_restarted_within_the_minute_does_not_fire_again(
    engine: Engine, redis_url: str
) -> None:
    """Taskiq fires a cron schedule in the minute a scheduler starts; a restart (a deploy, a
    crash loop) in the minute it already fired must not fire it twice."""
    if time.time() % 60 > 50:  # keep both runs inside one minute
        await asyncio.sleep(61 - time.time() % 60)
    key = uuid.uuid4().hex
    schedule = Schedule(
        "test.tick.every-minute", "test.tick", cron="* * * * *", kwargs={"key": key}
    )
    for _ in range(2):  # first start, then a restart: new process, new scheduler state
        client = Redis.from_url(redis_url)
        try:
            await run_schedulers(
                engine, [SlotGuard(client, engine.settings.task_queue)], schedule, 1.5
            )
        finally:
            await client.aclose()
    assert len(await runs("tick", key)) == 1


def test_schedules_need_exactly_one_trigger() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Schedule("x", "test.tick")
    with pytest.raises(ValueError, match="exactly one"):
        Schedule("x", "test.tick", cron="* * * * *", interval_seconds=5)
    with pytest.raises(ValueError, match="at least 1"):
        Schedule("x", "test.tick", interval_seconds=0)


def test_application_schedules_have_stable_unique_ids() -> None:
    from app.tasks.registry import SCHEDULES
    from app.tasks.runtime import import_task_modules

    import_task_modules()
    ids = [s.schedule_id for s in SCHEDULES]
    assert len(ids) == len(set(ids))
    assert all(s.schedule_id for s in SCHEDULES)


async def test_without_redis_the_api_process_runs_the_schedules(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from asgi_lifespan import LifespanManager

    from app.main import create_app
    from app.tasks import runtime

    key = uuid.uuid4().hex
    schedule = Schedule("test.tick.lifespan", "test.tick", interval_seconds=1, kwargs={"key": key})
    monkeypatch.setattr(runtime, "SCHEDULES", [schedule])
    app = create_app(engine_settings("memory", tmp_path, None))
    async with LifespanManager(app):
        await asyncio.sleep(2.2)
        assert len(await runs("tick", key)) >= 2


async def test_with_redis_only_workers_run_the_schedules(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, tmp_path: Any
) -> None:
    from app.tasks import runtime

    schedule = Schedule("test.tick.roles", "test.tick", interval_seconds=1, kwargs={"key": "x"})
    monkeypatch.setattr(runtime, "SCHEDULES", [schedule])
    settings = engine_settings("redis", tmp_path, redis_url)
    api, worker = TaskRuntime(settings, role="api"), TaskRuntime(settings, role="worker")
    assert (api.runs_tasks, worker.runs_tasks) == (False, True)
    for one in (api, worker):
        await one.start()
    try:
        names = {
            role: {t.get_name() for t in one._background}
            for role, one in [("api", api), ("worker", worker)]
        }
        assert names == {"api": set(), "worker": {"task-receiver", "task-scheduler"}}
    finally:
        for one in (worker, api):
            await one.close()
