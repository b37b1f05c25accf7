"""Due work claimed with one conditional update per unit: concurrent sweeps share the units,
a dead holder's unit is taken over after its lease, failures back off."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest

from app.models.base import utcnow
from app.tasks.claims import Claim, DueQueue
from app.tests.tasks import sample

pytestmark = pytest.mark.usefixtures("app")  # a database

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=utcnow().tzinfo)


async def units(count: int, **fields: Any) -> tuple[Any, list[str]]:
    collection = sample.collection(f"units_{uuid.uuid4().hex[:8]}")
    ids = [f"u{n}" for n in range(count)]
    await collection.insert_many(
        [{"_id": i, "due_at": NOW - timedelta(minutes=n), **fields} for n, i in enumerate(ids)]
    )
    return collection, ids


async def test_concurrent_sweeps_do_each_unit_once() -> None:
    collection, ids = await units(20)
    done: Counter[str] = Counter()

    async def work(claim: Claim) -> datetime:
        done[claim.id] += 1
        await asyncio.sleep(0)  # interleave the sweeps
        return claim.due_at + timedelta(days=1)

    queue = DueQueue(collection)
    results = await asyncio.gather(*(queue.sweep(work, now=lambda: NOW) for _ in range(5)))
    assert done == dict.fromkeys(ids, 1)
    assert sum(r.completed for r in results) == 20
    assert sum(len(r.claimed_ids) for r in results) == 20
    assert await queue.claim(now=NOW) is None  # the period is done everywhere


async def test_most_overdue_first_and_only_due_units() -> None:
    collection, _ = await units(3)
    await collection.insert_one({"_id": "future", "due_at": NOW + timedelta(hours=1)})
    await collection.insert_one({"_id": "never", "due_at": None})
    queue = DueQueue(collection)
    order = []
    while (claim := await queue.claim(now=NOW)) is not None:
        order.append(claim.id)
    assert order == ["u2", "u1", "u0"]


async def test_a_dead_holders_unit_is_taken_over_after_the_lease_and_produces_once() -> None:
    collection, _ = await units(1)
    queue = DueQueue(collection, lease=timedelta(minutes=5))
    first = await queue.claim(now=NOW)
    assert first is not None
    # The first holder produces its effect, then dies before completing.
    assert await sample.produce_once(f"unit:{first.id}:{first.period}")
    assert await queue.claim(now=NOW + timedelta(minutes=4)) is None  # still held
    second = await queue.claim(now=NOW + timedelta(minutes=5))
    assert second is not None
    assert second.id == first.id
    assert second.period == first.period  # the same period is being retried…
    assert second.attempt == 2
    assert not await sample.produce_once(f"unit:{second.id}:{second.period}")  # …nothing twice
    assert await queue.complete(second, next_due=NOW + timedelta(days=1))
    # The first holder wakes up: its claim is gone, its completion changes nothing.
    assert not await queue.complete(first, next_due=NOW + timedelta(days=7))
    doc = await collection.find_one({"_id": first.id})
    assert doc["due_at"] == NOW + timedelta(days=1)


async def test_a_failing_unit_is_released_with_back_off() -> None:
    collection, _ = await units(1)
    queue = DueQueue(collection, retry_base=timedelta(seconds=30), retry_cap=timedelta(hours=1))

    async def fail(claim: Claim) -> datetime:
        raise RuntimeError("feed down")

    result = await queue.sweep(fail, now=lambda: NOW)
    assert (result.failed, result.completed) == (1, 0)
    doc = await collection.find_one({"_id": "u0"})
    retry_at = doc["claim_until"]
    assert NOW + timedelta(seconds=15) <= retry_at <= NOW + timedelta(seconds=30)
    assert doc["claim_token"] is None
    assert await queue.claim(now=NOW + timedelta(seconds=14)) is None
    again = await queue.claim(now=retry_at)
    assert again is not None
    assert again.attempt == 2
    await queue.release(again, now=retry_at)  # attempt 2 waits 30–60 s
    doc = await collection.find_one({"_id": "u0"})
    assert (
        retry_at + timedelta(seconds=30) <= doc["claim_until"] <= retry_at + timedelta(seconds=60)
    )


async def test_extend_keeps_a_long_unit_and_complete_none_retires_it() -> None:
    collection, _ = await units(1)
    queue = DueQueue(collection, lease=timedelta(minutes=1))
    claim = await queue.claim(now=NOW)
    assert claim is not None
    assert await queue.extend(claim, now=NOW + timedelta(seconds=50))
    assert await queue.claim(now=NOW + timedelta(seconds=90)) is None  # extended to 1:50
    assert await queue.complete(claim, next_due=None)
    assert await queue.claim(now=NOW + timedelta(days=365)) is None


async def test_where_narrows_the_units() -> None:
    collection, _ = await units(2, kind="digest")
    await collection.insert_one({"_id": "r", "due_at": NOW, "kind": "reminder"})
    queue = DueQueue(collection, where={"kind": "reminder"})
    claim = await queue.claim(now=NOW)
    assert claim is not None
    assert claim.id == "r"
    assert await queue.claim(now=NOW) is None
