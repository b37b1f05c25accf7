"""The engine's guarantees, on the in-process broker and on Redis alike: duplicates produce
one effect, retries back off, every run logs a start and an end line with the enqueuing
request's id."""

from __future__ import annotations

import itertools
import random
import uuid
from typing import Any

import pytest

from app.tasks.middleware import backoff_seconds
from app.tests.tasks import sample
from app.tests.tasks.conftest import Engine, produced, runs


@pytest.fixture
def engine_overrides() -> dict[str, Any]:
    return {"task_retry_base_seconds": 0.2, "log_level": "INFO"}


async def test_duplicate_enqueues_run_but_produce_one_effect(engine: Engine) -> None:
    key = uuid.uuid4().hex
    for _ in range(3):  # a client retry, a double click, a scheduler firing twice
        await sample.produce.kiq(key=key)
    await engine.drain()
    assert len(await runs("produce", key)) == 3
    assert await produced(f"produce:{key}") == [f"produce:{key}"]


async def test_a_failing_task_is_retried_with_growing_delays(engine: Engine) -> None:
    """Base 0.2 s: the delays before attempts 2, 3 and 4 are at least 0.1, 0.2 and 0.4 s
    (half of 0.2·2ⁿ⁻¹; the other half is jitter). The retry is not immediate on Redis either
    (Taskiq's own retry middleware redelivers at once on the plain Redis broker)."""
    key = uuid.uuid4().hex
    await sample.flaky.kiq(key=key, failures=3)
    await engine.drain()
    attempts = sorted(run["at"] for run in await runs("flaky", key))
    assert len(attempts) == 4
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    floors = [0.1, 0.2, 0.4]
    for gap, floor in zip(gaps, floors, strict=True):
        assert gap >= floor - 0.01, (gaps, floors)
    assert gaps[2] > 0.39 > 0.2 >= floors[0]
    assert await produced(f"flaky:{key}") == [f"flaky:{key}"]


async def test_retries_stop_at_the_task_limit(
    engine: Engine, capfd: pytest.CaptureFixture[str]
) -> None:
    key = uuid.uuid4().hex
    await sample.flaky.kiq(key=key, failures=99)  # declared with max_attempts=4
    await engine.drain()
    assert len(await runs("flaky", key)) == 4
    assert await produced(f"flaky:{key}") == []
    err = capfd.readouterr().err
    assert err.count("outcome=retrying") >= 3
    assert "outcome=failed" in err
    assert "failure 4 of 99" not in err  # the error type is logged, not its message


def test_backoff_is_exponential_capped_and_jittered() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (9, 60.0), (30, 60.0)]:
        samples = [backoff_seconds(attempt, 2.0, 60.0, rng) for _ in range(200)]
        assert min(samples) >= ceiling / 2
        assert max(samples) <= ceiling
        assert max(samples) - min(samples) > ceiling / 4  # really jittered


async def test_start_and_end_lines_carry_the_request_id(
    engine: Engine, capfd: pytest.CaptureFixture[str]
) -> None:
    capfd.readouterr()
    async with engine.client() as client:
        response = await client.post(
            "/api/v1/auth/forgot-password",
            json={"email": "nobody@example.org"},
            headers={"X-Request-ID": "req-tasks-0001"},
        )
    assert response.status_code == 202
    await engine.drain()
    lines = [line for line in capfd.readouterr().err.splitlines() if "task=email.run_job" in line]
    started = [line for line in lines if "task_started" in line]
    done = [line for line in lines if "task_done" in line]
    assert len(started) == 1
    assert len(done) == 1
    for line in (started[0], done[0]):
        assert "request_id=req-tasks-0001" in line
        assert "job=password_reset_requested" in line
        assert "task_id=" in line
        assert "key=" in line
    assert "outcome=ok" in done[0]
    assert "duration_ms=" in done[0]


async def test_a_task_enqueued_outside_a_request_has_no_request_id(
    engine: Engine, capfd: pytest.CaptureFixture[str]
) -> None:
    capfd.readouterr()
    await sample.produce.kiq(key="no-request")
    await engine.drain()
    line = next(x for x in capfd.readouterr().err.splitlines() if "task_done" in x)
    assert "request_id" not in line
