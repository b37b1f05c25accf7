"""Crashes and redelivery on Redis: a real worker process killed mid-task (SIGKILL) has its
task redelivered and the retry produces nothing twice; a worker stopping (SIGTERM) finishes
what it can and leaves the rest to another; a live worker's long task is never taken over.

The killed worker runs `python -m app.worker`; the worker that takes over runs in the test
process so the test can read its database. With MONGODB_URL set both share that database, so
the effects the killed attempt wrote are seen by the retry (the GitHub `mongodb` job); on the
embedded backend each process has its own, and the test shows redelivery and exactly-once
effects in the taking-over worker.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.core.config import Settings
from app.core.logging import configure_logging
from app.db.session import connect
from app.tasks.runtime import TaskRuntime
from app.tests.net import free_port
from app.tests.tasks import sample
from app.tests.tasks.conftest import FAST_REDIS, engine_settings, produced, runs

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
async def settings(redis_url: str, tmp_path: Any) -> AsyncIterator[Settings]:
    # With MONGODB_URL, a fresh database on that server the worker process shares (its URL
    # and name go to the worker through `worker_env`); dropped after the test like any other.
    settings = engine_settings("redis", tmp_path, redis_url, log_level="INFO")
    configure_logging(settings)
    database = await connect(settings)
    yield settings
    database.close()


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key in {"PATH", "HOME", "LANG", "PYTHONPATH", "SYSTEMROOT"}
    }
    env.update(
        ENVIRONMENT="test",
        LOG_LEVEL="INFO",
        REDIS_URL=settings.redis_url.get_secret_value() if settings.redis_url else "",
        TASK_QUEUE=settings.task_queue,
        TASK_IDLE_TIMEOUT_SECONDS=str(settings.task_idle_timeout_seconds),
        TASK_SHUTDOWN_GRACE_SECONDS=str(settings.task_shutdown_grace_seconds),
        SEED_DEMO_DATA="false",
        **extra,
    )
    if settings.mongodb_url is not None:
        env.update(
            MONGODB_URL=settings.mongodb_url.get_secret_value(), MONGODB_DB=settings.mongodb_db
        )
    return env


class WorkerProcess:
    def __init__(
        self,
        settings: Settings,
        tmp_path: Path,
        imports: tuple[str, ...] = ("app.tests.tasks.sample",),
        **env: str,
    ) -> None:
        self.log = tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log"
        modules = [arg for module in imports for arg in ("--import", module)]
        self.process = subprocess.Popen(  # noqa: S603 - our worker, our test modules
            [sys.executable, "-m", "app.worker", *modules],
            cwd=ROOT,
            env=worker_env(settings, **env),
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
        )

    def output(self) -> str:
        return self.log.read_text()

    async def wait_for_log(self, text: str, within: float = 30) -> None:
        deadline = time.monotonic() + within
        while text not in self.output():
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited early:\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"worker never logged {text!r}:\n{self.output()}")
            await asyncio.sleep(0.05)

    async def wait_exit(self, within: float) -> int:
        deadline = time.monotonic() + within
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError(f"worker did not exit within {within} s:\n{self.output()}")
            await asyncio.sleep(0.05)
        return self.process.returncode

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


@pytest.fixture
def worker_processes(tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()


async def wait_for_event(redis: Redis, key: str, within: float = 30) -> str:
    item = await redis.blpop([f"events:{key}"], timeout=within)
    assert item is not None, f"no event for {key} within {within} s"
    return item[1].decode()


async def test_a_worker_killed_mid_task_is_replaced_and_nothing_is_produced_twice(
    settings: Settings,
    tmp_path: Path,
    worker_processes: list[WorkerProcess],
    capfd: pytest.CaptureFixture[str],
) -> None:
    victim = WorkerProcess(settings, tmp_path)
    worker_processes.append(victim)
    await victim.wait_for_log("worker_started")
    client = TaskRuntime(settings, role="api")  # an API instance: enqueues only
    await client.start()
    key = uuid.uuid4().hex
    url = settings.redis_url.get_secret_value()
    async with Redis.from_url(url) as redis:
        try:
            await sample.steps.kiq(key=key, redis_url=url, hang_at=2)
        finally:
            await client.close()
        assert await wait_for_event(redis, key) == "hanging at 2"
        victim.process.send_signal(signal.SIGKILL)  # mid-task: after step 2, before step 3
        assert await victim.wait_exit(10) == -signal.SIGKILL
        # Nothing else arrives on the stream: the message must be reclaimed on a quiet stream.
        rescuer = TaskRuntime(settings, role="worker", broker_options=FAST_REDIS)
        await rescuer.start()
        try:
            assert await wait_for_event(redis, key) == "finished"
            await asyncio.wait_for(rescuer.drain(), 20)
        finally:
            await rescuer.close()
    assert await produced(f"steps:{key}:") == [f"steps:{key}:{n}" for n in (1, 2, 3)]
    assert "task_message_reclaimed" in capfd.readouterr().err
    assert len(await runs("steps", key)) == (2 if settings.mongodb_url else 1)


async def test_an_idle_worker_stops_at_once_on_sigterm_and_answers_health_checks(
    settings: Settings, tmp_path: Path, worker_processes: list[WorkerProcess]
) -> None:
    port = free_port()
    worker = WorkerProcess(settings, tmp_path, WORKER_HEALTH_PORT=str(port))
    worker_processes.append(worker)
    await worker.wait_for_log("worker_started")
    assert (
        await asyncio.to_thread(_get_status, f"http://127.0.0.1:{port}/api/v1/health/live") == 200
    )
    started = time.monotonic()
    worker.process.send_signal(signal.SIGTERM)
    assert await worker.wait_exit(15) == 0
    # the read blocks 2 s at most: well under the 15 s a worker waiting for a message would
    # take (generous margin: CI machines run the suite in parallel with other jobs)
    assert time.monotonic() - started < 10
    assert "worker_stopped" in worker.output()


async def test_a_stopping_worker_leaves_an_unfinished_task_to_another(
    settings: Settings, tmp_path: Path, worker_processes: list[WorkerProcess]
) -> None:
    """SIGTERM while a task outlasts the grace period: the worker exits after the grace, the
    task is not acknowledged, and another worker completes it."""
    leaving = WorkerProcess(settings, tmp_path)  # grace: 2 s (engine settings)
    worker_processes.append(leaving)
    await leaving.wait_for_log("worker_started")
    client = TaskRuntime(settings, role="api")
    await client.start()
    key = uuid.uuid4().hex
    url = settings.redis_url.get_secret_value()
    async with Redis.from_url(url) as redis:
        try:
            await sample.steps.kiq(key=key, redis_url=url, hang_at=1)
        finally:
            await client.close()
        assert await wait_for_event(redis, key) == "hanging at 1"
        leaving.process.send_signal(signal.SIGTERM)
        assert await leaving.wait_exit(15) == 0
        assert "tasks_cancelled_at_shutdown" in leaving.output()
        successor = TaskRuntime(settings, role="worker", broker_options=FAST_REDIS)
        await successor.start()
        try:
            assert await wait_for_event(redis, key) == "finished"
        finally:
            await successor.close()
    assert await produced(f"steps:{key}:") == [f"steps:{key}:{n}" for n in (1, 2, 3)]


async def test_a_long_task_of_a_live_worker_is_not_taken_over(settings: Settings) -> None:
    """Upstream reclaims any message idle longer than `idle_timeout`, even one a live worker
    is still running (two runs at once). The heartbeat renews what a live worker holds."""
    workers = [TaskRuntime(settings, role="worker", broker_options=FAST_REDIS) for _ in range(2)]
    for worker in workers:
        await worker.start()
    key = uuid.uuid4().hex
    try:
        await sample.slow.kiq(key=key, seconds=3.5)  # idle timeout: 1 s
        await asyncio.sleep(0.5)
        await asyncio.wait_for(asyncio.gather(*(w.drain() for w in workers)), 20)
    finally:
        for worker in workers:
            await worker.close()
    assert len(await runs("slow", key)) == 1
    assert await produced(f"slow:{key}") == [f"slow:{key}"]


def test_the_worker_refuses_to_start_without_redis(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env.update(ENVIRONMENT="test", REDIS_URL="")
    result = subprocess.run(
        [sys.executable, "-m", "app.worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "REDIS_URL is not set" in result.stderr


def _get_status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback http
        return int(response.status)


async def test_a_worker_survives_redis_restarting(tmp_path: Path) -> None:
    """Redis goes away (a failover, a restart that lost the stream): the worker waits, then
    reconnects, re-creates its consumer group and runs what is enqueued next."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs redis-server on PATH to restart a private one")
    port = free_port()

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603 - the system's redis-server, fixed arguments
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def ping(redis: Redis) -> None:
        for _ in range(100):
            try:
                await redis.ping()
                return
            except (RedisError, OSError):
                await asyncio.sleep(0.05)
        raise AssertionError("private redis-server did not start")

    server = start()
    url = f"redis://127.0.0.1:{port}/0"
    settings = engine_settings("redis", tmp_path, url)
    database = await connect(settings)
    worker = TaskRuntime(settings, role="worker", broker_options=FAST_REDIS)
    try:
        async with Redis.from_url(url) as probe:
            await ping(probe)
            await worker.start()
            server.terminate()
            server.wait(5)
            await asyncio.sleep(1.0)  # the worker's reads fail meanwhile
            server = start()
            await ping(probe)
            key = uuid.uuid4().hex
            await sample.produce.kiq(key=key)
            await asyncio.wait_for(worker.drain(), 30)
        assert await produced(f"produce:{key}") == [f"produce:{key}"]
        assert worker.healthy()
    finally:
        await worker.close()
        database.close()
        server.kill()
        server.wait(5)
