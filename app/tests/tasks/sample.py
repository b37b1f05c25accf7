"""Tasks used by the job tests (imported by the test process and by `python -m app.worker
--import app.tests.tasks.sample`). What they produce lands in MongoDB under unique keys;
every run is also counted, so a test can tell "ran twice" from "produced twice"."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError
from redis.asyncio import Redis
from taskiq import Context, TaskiqDepends

from app.models.base import utcnow
from app.models.task import TaskEffect
from app.tasks.claims import Claim, DueQueue
from app.tasks.registry import task

PRODUCED = "test_produced"  # one document per effect key (`_id`): a unique key by construction
RUNS = "test_runs"  # one document per run
UNITS = "test_units"  # claimable due work


def collection(name: str) -> Any:
    return TaskEffect.get_motor_collection().database[name]


async def produce_once(key: str, **fields: Any) -> bool:
    try:
        await collection(PRODUCED).insert_one({"_id": key, "at": utcnow(), **fields})
    except DuplicateKeyError:
        return False
    return True


async def count_run(name: str, key: str, **fields: Any) -> int:
    await collection(RUNS).insert_one({"_id": uuid.uuid4().hex, "task": name, "key": key, **fields})
    return int(await collection(RUNS).count_documents({"task": name, "key": key}))


@task("test.produce")
async def produce(key: str) -> None:
    await count_run("produce", key)
    await produce_once(f"produce:{key}")


@task("test.flaky", max_attempts=4)
async def flaky(key: str, failures: int) -> None:
    """Fails its first `failures` runs, then produces its effect."""
    runs = await count_run("flaky", key, at=utcnow().timestamp())
    if runs <= failures:
        raise RuntimeError(f"failure {runs} of {failures}")
    await produce_once(f"flaky:{key}")


@task("test.steps")
async def steps(key: str, redis_url: str, hang_at: int) -> None:
    """Three keyed steps. The first run to reach step `hang_at` reports it on Redis and hangs
    there (until killed); every later run goes through."""
    await count_run("steps", key)
    async with Redis.from_url(redis_url) as redis:
        for step in (1, 2, 3):
            await produce_once(f"steps:{key}:{step}")
            if step == hang_at and await redis.set(f"hang:{key}", b"1", nx=True):
                await redis.rpush(f"events:{key}", f"hanging at {step}")
                await asyncio.sleep(3600)
        await redis.rpush(f"events:{key}", "finished")


@task("test.tick")
async def tick(key: str, context: Context = TaskiqDepends()) -> None:
    await count_run("tick", key, slot=context.message.labels.get("schedule_slot"))


async def _work(claim: Claim) -> Any:
    """A unit's period of work: one effect per (unit, period), then due an hour later."""
    await count_run("unit", str(claim.id), period=claim.period)
    await produce_once(f"unit:{claim.id}:{claim.period}")
    await asyncio.sleep(0.01)  # let concurrent sweeps interleave
    return claim.due_at + timedelta(hours=1)


@task("test.sweep")
async def sweep(key: str) -> None:
    await count_run("sweep", key)
    await DueQueue(collection(UNITS)).sweep(_work)


@task("test.slow")
async def slow(key: str, seconds: float) -> None:
    await count_run("slow", key)
    await asyncio.sleep(seconds)
    await produce_once(f"slow:{key}")
