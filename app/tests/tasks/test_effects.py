"""The effects ledger: an outside effect runs once per key; a duplicate running meanwhile
skips; a failure or a dead holder's expired lease lets the next attempt perform it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from app.models.base import utcnow
from app.models.email import OutboxEmail
from app.models.task import TaskEffect
from app.tasks import effects
from app.tasks.effects import Outcome

pytestmark = pytest.mark.usefixtures("app")


async def test_performed_once_then_already_done() -> None:
    key = f"test:{uuid.uuid4().hex}"
    calls: list[int] = []

    async def effect() -> None:
        calls.append(1)

    assert await effects.run_once(key, effect) is Outcome.PERFORMED
    assert await effects.run_once(key, effect) is Outcome.ALREADY_DONE
    assert calls == [1]
    assert await effects.is_done(key)


async def test_concurrent_duplicates_perform_it_once() -> None:
    key = f"test:{uuid.uuid4().hex}"
    calls: list[int] = []

    async def effect() -> None:
        calls.append(1)
        await asyncio.sleep(0.05)

    outcomes = await asyncio.gather(*(effects.run_once(key, effect) for _ in range(5)))
    assert calls == [1]
    assert sorted(outcomes) == sorted([Outcome.PERFORMED] + [Outcome.IN_PROGRESS] * 4)


async def test_a_failed_effect_is_released_for_the_retry() -> None:
    key = f"test:{uuid.uuid4().hex}"

    async def boom() -> None:
        raise ConnectionError("relay down")

    with pytest.raises(ConnectionError):
        await effects.run_once(key, boom)
    assert not await effects.is_done(key)
    calls: list[int] = []

    async def effect() -> None:
        calls.append(1)

    assert await effects.run_once(key, effect) is Outcome.PERFORMED
    assert calls == [1]


async def test_a_dead_holders_expired_lease_is_taken_over() -> None:
    key = f"test:{uuid.uuid4().hex}"
    now = utcnow()
    # What a worker killed mid-effect leaves behind: `running`, lease about to expire.
    await TaskEffect(
        id=key, lease_until=now + timedelta(seconds=1), expires_at=now + timedelta(days=1)
    ).insert()
    calls: list[int] = []

    async def effect() -> None:
        calls.append(1)

    assert await effects.run_once(key, effect) is Outcome.IN_PROGRESS  # lease still live
    await TaskEffect.get_motor_collection().update_one(
        {"_id": key}, {"$set": {"lease_until": now - timedelta(seconds=1)}}
    )
    assert await effects.run_once(key, effect) is Outcome.PERFORMED
    doc = await TaskEffect.get_motor_collection().find_one({"_id": key})
    assert doc is not None
    assert doc["attempts"] == 2
    assert calls == [1]


async def test_insert_once_relies_on_the_documents_unique_key() -> None:
    first = OutboxEmail(to="a@example.org", subject="s", body="b", template="t", message_key="k1")
    again = OutboxEmail(to="a@example.org", subject="s", body="b", template="t", message_key="k1")
    assert await effects.insert_once(first)
    assert not await effects.insert_once(again)
    assert await OutboxEmail.find(OutboxEmail.message_key == "k1").count() == 1
